// Starting a guided repair: admin only, one database chosen; a check by default, a repair (its name typed back) only
// after a check that found damage or when forced; one repair of a target at a time.
import { z } from 'zod';
import { getDb } from '../db';
import { UserError } from '../errors';
import type { Actor } from '../audit/write-audit';
import { hasRole, type Role } from '../auth/roles';
import { enqueueJob } from '../jobs/enqueue-job';

export const repairRequest = z.object({
  // Needed only when the target covers every database; otherwise it must be the target's own database.
  database: z
    .string()
    .trim()
    .min(1, 'is required')
    .refine((v) => Buffer.byteLength(v) <= 63, 'is longer than PostgreSQL allows (63 bytes)')
    .optional(),
  // A check (amcheck, no rebuild) is the default; a repair is the next step, after a check that found something.
  mode: z.enum(['check', 'repair']).default('check'),
  // The check whose findings the repair acts on.
  checkJobId: z.uuid({ message: 'must be a check job id' }).optional(),
  // A repair without such a check: the admin's explicit choice (audited with the job).
  force: z.boolean().default(false),
  lockTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
  // The database name, typed by the admin for a repair: REINDEX and VACUUM FULL lock its tables.
  confirm: z.string().max(100).default(''),
});

export type RepairRequest = z.input<typeof repairRequest>;

/** The check a repair relies on: a finished check of the same database that found a corrupt index. */
async function findingCheck(targetId: string, database: string, checkJobId: string | undefined) {
  if (!checkJobId) {
    throw new UserError('REPAIR_NOT_NEEDED', `Check "${database}" first: a repair (REINDEX, VACUUM FULL) is offered when the check finds a corrupt index.`, undefined, {
      checkJobId: 'run a check first, or force the repair',
    });
  }
  const job = await getDb().job.findUnique({ where: { id: checkJobId } });
  const p = job?.payload as { targetId?: string; database?: string; mode?: string } | undefined;
  if (!job || job.kind !== 'repair' || p?.mode !== 'check' || p.targetId !== targetId || p.database !== database) {
    throw new UserError('VALIDATION', `Job ${checkJobId} is not a check of "${database}" on this target.`, undefined, { checkJobId: 'is not a check of this database' });
  }
  if (job.status !== 'succeeded') throw new UserError('JOB_NOT_SUCCEEDED', `The check ${checkJobId} is ${job.status}; a repair follows a finished check.`);
  const corrupt = (job.result as { before?: { corrupt?: unknown[] } | null } | null)?.before?.corrupt ?? [];
  if (corrupt.length === 0) {
    throw new UserError('REPAIR_NOT_NEEDED', `The check ${checkJobId} found no corrupt index in "${database}"; there is nothing for a repair to fix.`);
  }
}

export async function startRepair(actor: Actor & { role: Role }, targetId: string, raw: RepairRequest, ip: string | null) {
  const input = repairRequest.parse(raw);
  // The role first, so a refused caller learns nothing about the target or the confirmation.
  if (!hasRole(actor.role, 'admin')) throw new UserError('FORBIDDEN', `A guided repair locks tables and needs the admin role; you are ${actor.role}.`);
  const db = getDb();
  const target = await db.target.findUnique({ where: { id: targetId } });
  if (!target) throw new UserError('NOT_FOUND', `There is no target ${targetId}.`);

  // database: the target's own, or the one chosen for a target that covers every database.
  const database = target.database ?? input.database;
  if (!database) {
    throw new UserError('VALIDATION', `Target "${target.name}" covers every database: choose the one to repair.`, undefined, { database: 'choose a database' });
  }
  if (target.database && input.database !== undefined && input.database !== target.database) {
    throw new UserError('VALIDATION', `Target "${target.name}" is the database "${target.database}"; it cannot repair "${input.database}".`, undefined, { database: `must be ${target.database}` });
  }

  if (input.mode === 'repair') {
    // confirmation: the exact name, checked here whatever the browser did.
    if (input.confirm !== database) {
      throw new UserError(
        'VALIDATION',
        `Type the database name "${database}" exactly to confirm.`,
        'REINDEX and VACUUM FULL take exclusive locks: the application waits on each table while it is rebuilt. The typed name is the last check.',
        { confirm: 'does not match the database name' },
      );
    }
    // a reason: a check that found damage, or the admin forcing it.
    if (!input.force) await findingCheck(target.id, database, input.checkJobId);
  }

  const running = await db.job.findFirst({ where: { kind: 'repair', targetId: target.id, status: { in: ['queued', 'running'] } }, select: { id: true } });
  if (running) throw new UserError('REPAIR_ALREADY_RUNNING', `A repair of "${target.name}" is already queued or running (job ${running.id}).`);

  const payload = {
    targetId: target.id,
    database,
    mode: input.mode,
    force: input.mode === 'repair' && input.force,
    lockTimeoutSeconds: input.lockTimeoutSeconds,
    ...(input.mode === 'repair' && !input.force && input.checkJobId ? { checkJobId: input.checkJobId } : {}),
  };
  return enqueueJob(actor, 'repair', payload, { targetId: target.id, pool: target.workerPool, ip });
}
