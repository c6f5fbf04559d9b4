// Cancelling a job: a queued one ends at once; a running one is stopped by its worker within a second or two.
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';

export async function cancelJob(actor: Actor, id: string, ip: string | null) {
  return getDb().$transaction(async (tx) => {
    const job = await tx.job.findUnique({ where: { id }, select: { status: true, kind: true } });
    if (!job) throw new UserError('NOT_FOUND', `There is no job ${id}.`);
    if (job.status !== 'queued' && job.status !== 'running') {
      throw new UserError('JOB_NOT_CANCELLABLE', `The job has already ${job.status}.`);
    }
    // A queued job never reaches a worker's claim (it only claims queued rows), so this is final.
    const data =
      job.status === 'queued'
        ? { status: 'cancelled' as const, cancelRequested: true, finishedAt: new Date(), errorCode: 'JOB_CANCELLED', errorMessage: 'Cancelled before it started.' }
        : { cancelRequested: true };
    const updated = await tx.job.updateMany({ where: { id, status: job.status }, data });
    if (updated.count === 0) throw new UserError('CONFLICT', 'The job changed state meanwhile; reload and try again.');
    await writeAudit(tx, actor, 'job.cancel', { entityType: 'job', entityId: id, params: { kind: job.kind, was: job.status }, ip });
    return { id, status: job.status === 'queued' ? 'cancelled' : 'cancelling' };
  });
}
