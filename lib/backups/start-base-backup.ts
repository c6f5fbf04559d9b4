// "Base backup now": one base backup per target at a time, enforced by a unique index on active base-backup jobs.
import { getDb } from '../db';
import { UserError } from '../errors';
import type { Actor } from '../audit/write-audit';
import type { Role } from '../auth/roles';
import { enqueueJob } from '../jobs/enqueue-job';
import type { JobPayload } from '../jobs/kinds';

type Options = Omit<JobPayload<'base-backup'>, 'targetId'>;

function isActiveBaseConflict(err: unknown): boolean {
  const e = err as { code?: string; message?: string; meta?: unknown };
  return (e.code === 'P2002' || /unique/i.test(String(e.message))) && /jobs_one_active_base_backup_per_target|target_id/.test(`${e.message} ${JSON.stringify(e.meta ?? {})}`);
}

export async function startBaseBackup(actor: Actor & { role: Role }, targetId: string, options: Options = {}, opts: { ip?: string | null } = {}) {
  const db = getDb();
  const target = await db.target.findUnique({ where: { id: targetId } });
  if (!target) throw new UserError('NOT_FOUND', `There is no target ${targetId}.`);
  if (target.disabled) throw new UserError('TARGET_DISABLED', `Target "${target.name}" is disabled.`);
  try {
    return await enqueueJob(actor, 'base-backup', { targetId, ...options }, { targetId, pool: target.workerPool, ip: opts.ip ?? null });
  } catch (err) {
    if (!isActiveBaseConflict(err)) throw err;
    const running = await db.job.findFirst({ where: { targetId, kind: 'base-backup', status: { in: ['queued', 'running'] } }, select: { id: true } });
    throw new UserError('BASE_BACKUP_ALREADY_RUNNING', `A base backup of "${target.name}" is already ${running ? 'running' : 'queued'}.`, undefined, running ? { jobId: running.id } : undefined);
  }
}
