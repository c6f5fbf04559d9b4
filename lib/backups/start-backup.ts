// "Back up now" and scheduled runs: one backup per target at a time, enforced by a unique index on active jobs.
import { getDb } from '../db';
import { UserError } from '../errors';
import type { Actor } from '../audit/write-audit';
import type { Role } from '../auth/roles';
import { enqueueJob } from '../jobs/enqueue-job';

function isActiveBackupConflict(err: unknown): boolean {
  const e = err as { code?: string; message?: string; meta?: unknown };
  return (e.code === 'P2002' || /unique/i.test(String(e.message))) && /jobs_one_active_backup_per_target|target_id/.test(`${e.message} ${JSON.stringify(e.meta ?? {})}`);
}

export async function startBackup(actor: Actor & { role: Role }, targetId: string, opts: { scheduleId?: string; ip?: string | null } = {}) {
  const db = getDb();
  const target = await db.target.findUnique({ where: { id: targetId } });
  if (!target) throw new UserError('NOT_FOUND', `There is no target ${targetId}.`);
  if (target.disabled) throw new UserError('TARGET_DISABLED', `Target "${target.name}" is disabled.`);
  try {
    return await enqueueJob(actor, 'backup', { targetId, ...(opts.scheduleId ? { scheduleId: opts.scheduleId } : {}) }, { targetId, pool: target.workerPool, ip: opts.ip ?? null });
  } catch (err) {
    if (!isActiveBackupConflict(err)) throw err;
    const running = await db.job.findFirst({ where: { targetId, kind: 'backup', status: { in: ['queued', 'running'] } }, select: { id: true } });
    throw new UserError('BACKUP_ALREADY_RUNNING', `A backup of "${target.name}" is already ${running ? 'running' : 'queued'}.`, undefined, running ? { jobId: running.id } : undefined);
  }
}
