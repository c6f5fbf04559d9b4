// "Run again" on a failed or cancelled job: offered only when its failure code is retryable (lib/errors.ts), i.e. the
// same job, unchanged, may succeed now (a lost worker, a timeout, an unreachable server, a full disk since freed).
// A failure a person must fix first (a wrong password, a missing role) is not offered: its hint says what to do.
// Only kinds started without choices or a confirmation are run again from here; the others from their own page.
import { getDb } from '../db';
import { isRetryable, UserError } from '../errors';
import type { Actor } from '../audit/write-audit';
import { hasRole, type Role } from '../auth/roles';
import { startBackup } from '../backups/start-backup';
import { startTargetJob } from '../restores/start-restore';
import { enqueueJob } from './enqueue-job';
import { roleToStart } from './kinds';

type Restart = (actor: Actor & { role: Role }, payload: Record<string, unknown>, job: { targetId: string | null }, ip: string | null) => Promise<{ id: string }>;

/** Each kind that can be run again, through the same operation that starts it (its checks and audit entry). */
const restarts: Record<string, Restart> = {
  ping: (actor, payload, _job, ip) => enqueueJob(actor, 'ping', payload, { ip }),
  backup: (actor, payload, _job, ip) => startBackup(actor, String(payload.targetId), { ...(typeof payload.scheduleId === 'string' ? { scheduleId: payload.scheduleId } : {}), ip }),
  drill: async (actor, payload, _job, ip) => startTargetJob(actor, 'drill', String(payload.targetId), {}, ip) as Promise<{ id: string }>,
  'test-connection': async (actor, payload, _job, ip) => {
    const t = await getDb().target.findUnique({ where: { id: String(payload.targetId) }, select: { id: true, workerPool: true } });
    if (!t) throw new UserError('NOT_FOUND', 'The target was deleted.');
    return enqueueJob(actor, 'test-connection', { targetId: t.id }, { targetId: t.id, pool: t.workerPool, ip });
  },
};

export type RunAgainRight = { allowed: true; reason: null } | { allowed: false; code: 'JOB_STATE_CHANGED' | 'JOB_NOT_RETRYABLE' | 'FORBIDDEN'; reason: string };

/** Whether `role` may run this job again from the job page, and why not. */
export function runAgainRight(role: Role, job: { kind: string; status: string; errorCode: string | null; payload: unknown }): RunAgainRight {
  if (job.status !== 'failed' && job.status !== 'cancelled') return { allowed: false, code: 'JOB_STATE_CHANGED', reason: `The job is ${job.status}; only a failed or cancelled job is run again.` };
  if (!restarts[job.kind]) return { allowed: false, code: 'JOB_NOT_RETRYABLE', reason: 'This kind of job is started again from its own page, where its choices are made and confirmed.' };
  if (!isRetryable(job.errorCode)) return { allowed: false, code: 'JOB_NOT_RETRYABLE', reason: `Its failure (${job.errorCode ?? 'no code'}) would happen again unchanged; do what the hint says first.` };
  const needed = roleToStart(job.kind, job.payload);
  if (!hasRole(role, needed)) return { allowed: false, code: 'FORBIDDEN', reason: `Only an ${needed} may start this job; you are ${role}.` };
  return { allowed: true, reason: null };
}

/** Starts the same job again (a new job row and audit entry); answers the new job's id. */
export async function runJobAgain(actor: Actor & { role: Role }, id: string, ip: string | null): Promise<{ id: string }> {
  const job = await getDb().job.findUnique({ where: { id }, select: { kind: true, status: true, errorCode: true, payload: true, targetId: true } });
  if (!job) throw new UserError('NOT_FOUND', `There is no job ${id}.`);
  const right = runAgainRight(actor.role, job);
  if (!right.allowed) throw new UserError(right.code, right.reason);
  return restarts[job.kind]!(actor, (job.payload ?? {}) as Record<string, unknown>, job, ip);
}
