// Starting a guided repair: admin only, one database chosen, its name typed back, one repair of a target at a time.
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
  // The database name, typed by the admin: REINDEX and VACUUM FULL lock its tables.
  confirm: z.string().max(100),
});

export type RepairRequest = z.infer<typeof repairRequest>;

export async function startRepair(actor: Actor & { role: Role }, targetId: string, input: RepairRequest, ip: string | null) {
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

  // confirmation: the exact name, checked here whatever the browser did.
  if (input.confirm !== database) {
    throw new UserError(
      'VALIDATION',
      `Type the database name "${database}" exactly to confirm.`,
      'REINDEX and VACUUM FULL take exclusive locks: the application waits on each table while it is rebuilt. The typed name is the last check.',
      { confirm: 'does not match the database name' },
    );
  }

  const running = await db.job.findFirst({ where: { kind: 'repair', targetId: target.id, status: { in: ['queued', 'running'] } }, select: { id: true } });
  if (running) throw new UserError('REPAIR_ALREADY_RUNNING', `A repair of "${target.name}" is already queued or running (job ${running.id}).`);

  return enqueueJob(actor, 'repair', { targetId: target.id, database }, { targetId: target.id, pool: target.workerPool, ip });
}
