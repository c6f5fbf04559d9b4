// Starting a job: audit entry, job row and queue message in one transaction, so none exists without the others.
import type { Tx } from '../db';
import { getDb } from '../db';
import { writeAudit, type Actor } from '../audit/write-audit';
import { UserError } from '../errors';
import { jobTimeouts } from '../env';
import { hasRole, type Role } from '../auth/roles';
import { ensureQueue, getConsoleBoss } from './boss';
import { jobKinds, queueName, type JobKindName, type JobPayload, type QueueMessage } from './kinds';

/** pg-boss runs its INSERT through our transaction instead of its own pool. */
function txExecutor(tx: Tx) {
  return {
    async executeSql(text: string, values: unknown[] = []) {
      const rows = await tx.$queryRawUnsafe<unknown[]>(text, ...values);
      return { rows };
    },
  };
}

export async function enqueueJob<K extends JobKindName>(
  actor: Actor & { role: Role },
  kind: K,
  payload: unknown,
  // tx: enqueue inside the caller's transaction, so the job exists only if the caller's change commits too.
  opts: { targetId?: string; pool?: string; ip?: string | null; tx?: Tx } = {},
): Promise<{ id: string }> {
  const def = jobKinds[kind];
  if (!hasRole(actor.role, def.role)) {
    throw new UserError('FORBIDDEN', `Starting "${def.label}" needs the ${def.role} role; you are ${actor.role}.`);
  }
  const parsed = def.payload.safeParse(payload);
  if (!parsed.success) {
    const list = parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ');
    throw new UserError('VALIDATION', `The job settings are not valid: ${list}.`);
  }
  const data = parsed.data as JobPayload<K>;
  const queue = queueName(kind, opts.pool);
  const boss = await getConsoleBoss();
  await ensureQueue(boss, queue);
  // The time limit is decided here, once, and stored on the row: the worker that claims the job reads it from there.
  const timeoutSeconds = def.expireInSeconds(data as never, jobTimeouts());
  const run = async (tx: Tx) => {
    const job = await tx.job.create({
      data: {
        kind,
        queue,
        payload: data as object,
        createdById: actor.id,
        targetId: opts.targetId ?? null,
        timeoutSeconds,
      },
      select: { id: true },
    });
    await writeAudit(tx, actor, `job.start`, { entityType: 'job', entityId: job.id, params: { kind, ...data }, ip: opts.ip });
    const message: QueueMessage = { jobId: job.id };
    // The queue message carries our job id as its own id: one id names the work everywhere.
    await boss.send(queue, message as object, {
      id: job.id,
      expireInSeconds: timeoutSeconds + 30,
      // No automatic retry: a job row is one run a person asked for (audited as such), and many kinds are not safe to
      // repeat unasked (a restore past its swap, a re-insert into production). Whether running it again can help is
      // the failure code's `retryable`, which the job page reads to offer "Run again".
      retryLimit: 0,
      db: txExecutor(tx),
    });
    await tx.job.update({ where: { id: job.id }, data: { bossJobId: job.id } });
    return job;
  };
  return opts.tx ? run(opts.tx) : getDb().$transaction(run);
}
