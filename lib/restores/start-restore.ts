// Starting restores, drills, rollbacks and copy drops: who may do which, and the typed confirmation for production.
import { z } from 'zod';
import { getDb } from '../db';
import { UserError } from '../errors';
import type { Actor } from '../audit/write-audit';
import { hasRole, type Role } from '../auth/roles';
import { enqueueJob } from '../jobs/enqueue-job';
import { requireSecondAdmin } from './restore-history';
import { restorePayload } from '../jobs/kinds';
import { requestApproval } from './approval-requests';
import { assertKept } from '../backups/kept';

export const restoreRequest = restorePayload.extend({
  // For "replace production": the production database's name, typed by the admin.
  confirm: z.string().max(100).optional(),
});

async function backupTarget(backupId: string) {
  const b = await getDb().backupLog.findUnique({ where: { id: BigInt(backupId) }, include: { target: true } });
  if (!b) throw new UserError('NOT_FOUND', `There is no backup ${backupId}.`);
  // The worker checks again when the job runs (worker/restore/archive.ts): retention may begin in between.
  assertKept(backupId, b);
  return b;
}

export async function startRestore(actor: Actor & { role: Role }, input: z.input<typeof restoreRequest>, ip: string | null, opts: { preflightOnly?: boolean } = {}) {
  const { confirm, ...asked } = input;
  // Roles on a server are an admin's decision: only an admin's restore creates missing owner roles, and only an admin
  // may let them keep SUPERUSER, CREATEROLE, REPLICATION, BYPASSRLS or their password.
  const admin = hasRole(actor.role, 'admin');
  const ticked = Object.entries(asked.roleGrants ?? {}).filter(([, v]) => v).map(([k]) => k);
  if (!admin && ticked.length) throw new UserError('FORBIDDEN', `Only an admin may let restored roles keep ${ticked.join(', ')}; you are ${actor.role}.`);
  const payload = { ...asked, createRoles: admin };
  const b = await backupTarget(payload.backupId);
  let pool = b.target?.workerPool ?? 'default';
  let targetId = b.targetId ?? undefined;
  if (payload.destination.mode === 'new') {
    const dest = await getDb().target.findUnique({ where: { id: payload.destination.targetId } });
    if (!dest) throw new UserError('NOT_FOUND', 'The destination target does not exist.');
    pool = dest.workerPool;
    targetId = dest.id;
  }
  if (payload.destination.mode === 'replace' && !opts.preflightOnly) {
    if (!hasRole(actor.role, 'admin')) throw new UserError('FORBIDDEN', `Replacing production needs the admin role; you are ${actor.role}.`);
    const prod = b.databaseName ?? '';
    if (confirm !== prod) {
      throw new UserError('VALIDATION', `Type the production database name "${prod}" exactly to confirm.`, 'This replaces production; the typed name is the last check.', { confirm: 'does not match the database name' });
    }
  }
  if (payload.destination.mode === 'replace' && !b.target) throw new UserError('NOT_FOUND', "The backup's target was deleted; restore to a new database instead.");
  if (payload.destination.mode === 'replace' && !opts.preflightOnly && (await requireSecondAdmin())) {
    // Four eyes: the request waits; another admin approves (which starts the job) or refuses (lib/restores/approval-requests.ts).
    return requestApproval(actor, 'restore', payload, { targetId: b.targetId, database: b.databaseName ?? '' }, ip);
  }
  return enqueueJob(actor, opts.preflightOnly ? 'restore-preflight' : 'restore', payload, { ...(targetId ? { targetId } : {}), pool, ip });
}

export async function startTargetJob(actor: Actor & { role: Role }, kind: 'drill' | 'rollback' | 'drop-copy', targetId: string, extra: Record<string, string>, ip: string | null) {
  const t = await getDb().target.findUnique({ where: { id: targetId } });
  if (!t) throw new UserError('NOT_FOUND', `There is no target ${targetId}.`);
  // A rollback swaps production too: it waits for a second admin like a restore does.
  if (kind === 'rollback' && (await requireSecondAdmin())) return requestApproval(actor, 'rollback', { targetId, ...extra }, { targetId, database: t.database ?? '' }, ip);
  return enqueueJob(actor, kind, { targetId, ...extra }, { targetId, pool: t.workerPool, ip });
}
