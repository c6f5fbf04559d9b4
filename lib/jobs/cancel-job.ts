// Cancelling a job: a queued one ends at once; a running one is stopped by its worker within a second or two.
// Only a role that may start the job may stop it, and never past its point of no return (committed_at).
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';
import { hasRole, type Role } from '../auth/roles';
import { jobKinds, roleToStart, type JobKind } from './kinds';

/** What a person may do about stopping a job, and why not: shared by the cancel and the job page. */
export function cancelRight(role: Role, job: { kind: string; payload: unknown; status: string; committedAt: Date | null }) {
  const needed = roleToStart(job.kind, job.payload);
  const replacesProduction = job.kind === 'restore' && needed === 'admin';
  const label = replacesProduction ? 'Restore into production' : ((jobKinds as Record<string, JobKind>)[job.kind]?.label ?? job.kind);
  if (!hasRole(role, needed)) {
    return { allowed: false as const, code: 'FORBIDDEN' as const, needed, message: `Only an ${needed} may cancel this job (${label}): it needs the role that may start it; you are ${role}.` };
  }
  if (job.committedAt && (job.status === 'queued' || job.status === 'running')) {
    return {
      allowed: false as const,
      code: 'JOB_PAST_POINT_OF_NO_RETURN' as const,
      needed,
      message: replacesProduction
        ? 'This restore is past its point of no return (production has been dropped or renamed) and can no longer be cancelled: it finishes restoring from the same backup.'
        : 'This job is past its point of no return and can no longer be cancelled; it finishes on its own.',
    };
  }
  return { allowed: true as const, needed };
}

export async function cancelJob(actor: Actor & { role: Role }, id: string, ip: string | null) {
  return getDb().$transaction(async (tx) => {
    const job = await tx.job.findUnique({ where: { id }, select: { status: true, kind: true, payload: true, committedAt: true } });
    if (!job) throw new UserError('NOT_FOUND', `There is no job ${id}.`);
    const right = cancelRight(actor.role, job);
    if (!right.allowed && right.code === 'FORBIDDEN') throw new UserError('FORBIDDEN', right.message);
    if (job.status !== 'queued' && job.status !== 'running') {
      throw new UserError('JOB_NOT_CANCELLABLE', `The job has already ${job.status}.`);
    }
    if (!right.allowed) throw new UserError(right.code, right.message);
    // A queued job never reaches a worker's claim (it only claims queued rows), so this is final.
    const data =
      job.status === 'queued'
        ? { status: 'cancelled' as const, cancelRequested: true, finishedAt: new Date(), errorCode: 'JOB_CANCELLED', errorMessage: 'Cancelled before it started.' }
        : { cancelRequested: true };
    // committedAt: null makes the cancel and the worker's commit exclusive: whichever writes the row first wins.
    const updated = await tx.job.updateMany({ where: { id, status: job.status, committedAt: null }, data });
    if (updated.count === 0) {
      const now = await tx.job.findUnique({ where: { id }, select: { status: true, kind: true, payload: true, committedAt: true } });
      const again = now && cancelRight(actor.role, now);
      if (again && !again.allowed && again.code === 'JOB_PAST_POINT_OF_NO_RETURN') throw new UserError(again.code, again.message);
      throw new UserError('JOB_STATE_CHANGED', 'The job changed state meanwhile; reload and try again.');
    }
    await writeAudit(tx, actor, 'job.cancel', { entityType: 'job', entityId: id, params: { kind: job.kind, was: job.status }, ip });
    return { id, status: job.status === 'queued' ? 'cancelled' : 'cancelling' };
  });
}
