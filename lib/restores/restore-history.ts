// What restores left behind, read from job results: kept copies beside production, drills, RTO settings.
import { getDb } from '../db';

/** Copies kept by swaps and rollbacks that no later rollback or drop consumed. */
export async function keptCopies(targetId: string) {
  const db = getDb();
  const jobs = await db.job.findMany({
    where: { targetId, kind: { in: ['restore', 'rollback', 'drop-copy'] }, status: 'succeeded' },
    orderBy: { finishedAt: 'asc' },
    select: { id: true, kind: true, result: true, payload: true, finishedAt: true },
  });
  const copies = new Map<string, { database: string; keptAt: Date | null; sizeBytes: number | null; jobId: string; reason: string }>();
  for (const j of jobs) {
    const r = (j.result ?? {}) as { keptCopy?: string | null; keptCopySize?: number; dropped?: string };
    const p = (j.payload ?? {}) as { keptDatabase?: string };
    if (j.kind === 'rollback' && p.keptDatabase) copies.delete(p.keptDatabase);
    if (j.kind === 'drop-copy' && r.dropped) copies.delete(r.dropped);
    if (r.keptCopy) copies.set(r.keptCopy, { database: r.keptCopy, keptAt: j.finishedAt, sizeBytes: r.keptCopySize ?? null, jobId: j.id, reason: j.kind === 'rollback' ? 'restored copy, set aside by a rollback' : 'production before a restore' });
  }
  return [...copies.values()].reverse();
}

export async function listDrills(targetId: string, limit = 50) {
  return getDb().drill.findMany({ where: { targetId }, orderBy: { startedAt: 'desc' }, take: limit });
}

export const RTO_KEY = 'rto_seconds';
export const DEFAULT_RTO_SECONDS = 3600; // the runbook: a full database restore in under an hour

export const SECOND_ADMIN_KEY = 'require_second_admin';

/** When true, restores that replace production wait for another admin's approval. */
export async function requireSecondAdmin(): Promise<boolean> {
  const s = await getDb().setting.findUnique({ where: { key: SECOND_ADMIN_KEY } });
  return s?.value === true;
}

export async function rtoSeconds(): Promise<number> {
  const s = await getDb().setting.findUnique({ where: { key: RTO_KEY } });
  return typeof s?.value === 'number' ? s.value : DEFAULT_RTO_SECONDS;
}

export const APPROVAL_EXPIRY_KEY = 'approval_expiry_hours';
export const DEFAULT_APPROVAL_EXPIRY_HOURS = 24;

/** How long a four-eyes request waits for a decision before it expires. */
export async function approvalExpiryHours(): Promise<number> {
  const s = await getDb().setting.findUnique({ where: { key: APPROVAL_EXPIRY_KEY } });
  return typeof s?.value === 'number' ? s.value : DEFAULT_APPROVAL_EXPIRY_HOURS;
}
