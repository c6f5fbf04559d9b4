// Audit entries: who did what, when, with which parameters (secrets removed); written inside the caller's transaction.
import type { Tx } from '../db';

export interface Actor {
  id: string | null; // null for the system (scheduler, worker sweep)
  email: string;
}

export const systemActor: Actor = { id: null, email: 'system' };

const secretKey = /pass(word)?|secret|token|key|credential|authorization|cookie/i;

/** A copy of `value` with every secret-looking field replaced, at any depth. */
export function scrubSecrets(value: unknown): unknown {
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(scrubSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, secretKey.test(k) ? '[removed]' : scrubSecrets(v)]),
    );
  }
  return value;
}

export async function writeAudit(
  tx: Tx,
  actor: Actor,
  action: string,
  entry: { entityType?: string; entityId?: string; params?: unknown; ip?: string | null } = {},
): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorId: actor.id,
      actorEmail: actor.email,
      action,
      entityType: entry.entityType ?? null,
      entityId: entry.entityId ?? null,
      params: (scrubSecrets(entry.params ?? {}) ?? {}) as object,
      ip: entry.ip ?? null,
    },
  });
}
