// Named restore points: starting the job that creates one on the target (operator; the web never connects to a
// target), and listing those recorded.
import { getDb } from '../db';
import { UserError } from '../errors';
import type { Actor } from '../audit/write-audit';
import type { Role } from '../auth/roles';
import { enqueueJob } from '../jobs/enqueue-job';

export async function startRestorePoint(actor: Actor & { role: Role }, targetId: string, name: string, opts: { ip?: string | null } = {}) {
  const db = getDb();
  const target = await db.target.findUnique({ where: { id: targetId } });
  if (!target) throw new UserError('NOT_FOUND', `There is no target ${targetId}.`);
  if (target.disabled) throw new UserError('TARGET_DISABLED', `Target "${target.name}" is disabled.`);
  const trimmed = name.trim();
  if (await db.restorePoint.findUnique({ where: { targetId_name: { targetId, name: trimmed } }, select: { id: true } }))
    throw new UserError('RESTORE_POINT_NAME_TAKEN', `Target "${target.name}" already has a restore point named "${trimmed}".`, undefined, { name: 'is already used on this target' });
  return enqueueJob(actor, 'restore-point', { targetId, name: trimmed }, { targetId, pool: target.workerPool, ip: opts.ip ?? null });
}

export async function listRestorePoints(targetId: string) {
  const rows = await getDb().restorePoint.findMany({ where: { targetId }, orderBy: { createdAt: 'desc' }, take: 200 });
  return rows.map((r) => ({ id: r.id.toString(), name: r.name, lsn: r.lsn, timeline: r.timelineId, createdAt: r.createdAt.toISOString(), createdBy: r.createdBy }));
}
