// Starting row recoveries: the comparison (operator), the re-insert into production (admin, with the production
// database's name typed), an export of the missing rows, and discarding the scratch copy.
import { z } from 'zod';
import { getDb } from '../db';
import { UserError } from '../errors';
import type { Actor } from '../audit/write-audit';
import { hasRole, type Role } from '../auth/roles';
import { enqueueJob } from '../jobs/enqueue-job';
import { recoverComparePayload, recoverExportPayload } from '../jobs/kinds';
import { usableComparison } from './comparison';
import { assertKept } from '../backups/kept';

type Acting = Actor & { role: Role };

export const compareRequest = recoverComparePayload;
export const reinsertRequest = z.object({ confirm: z.string().max(100).default('') });
export const exportRequest = recoverExportPayload.omit({ compareJobId: true });

export async function startComparison(actor: Acting, input: z.infer<typeof compareRequest>, ip: string | null) {
  const b = await getDb().backupLog.findUnique({ where: { id: BigInt(input.backupId) }, include: { target: true } });
  if (!b) throw new UserError('NOT_FOUND', `There is no backup ${input.backupId}.`);
  assertKept(input.backupId, b);
  if (b.status !== 'succeeded') throw new UserError('BACKUP_UNUSABLE', `Backup ${input.backupId} ${b.status}; pick a succeeded backup that is still kept.`);
  if (!b.target) throw new UserError('NOT_FOUND', "The backup's target was deleted; there is no production to compare with.");
  return enqueueJob(actor, 'recover-compare', input, { targetId: b.target.id, pool: b.target.workerPool, ip });
}

async function comparisonTarget(compareJobId: string, opts: { allowExpired?: boolean } = {}) {
  const c = await usableComparison(compareJobId, opts);
  const t = await getDb().target.findUnique({ where: { id: c.result.targetId } });
  if (!t) throw new UserError('NOT_FOUND', 'The target of this comparison was deleted.');
  return { ...c, target: t };
}

export async function startReinsert(actor: Acting, compareJobId: string, input: z.infer<typeof reinsertRequest>, ip: string | null) {
  if (!hasRole(actor.role, 'admin')) throw new UserError('FORBIDDEN', `Re-inserting rows into production needs the admin role; you are ${actor.role}.`);
  const c = await comparisonTarget(compareJobId);
  const missing = c.result.tables.reduce((n, t) => n + t.missing.count, 0);
  if (input.confirm !== c.result.database) {
    throw new UserError('VALIDATION', `Type the production database name "${c.result.database}" exactly to confirm.`, `This writes ${missing} row(s) into production; the typed name is the last check.`, {
      confirm: 'does not match the database name',
    });
  }
  return enqueueJob(actor, 'recover-reinsert', { compareJobId }, { targetId: c.target.id, pool: c.target.workerPool, ip });
}

export async function startExport(actor: Acting, compareJobId: string, input: z.infer<typeof exportRequest>, ip: string | null) {
  const c = await comparisonTarget(compareJobId);
  if (input.table && !c.result.tables.some((t) => t.table === input.table)) {
    throw new UserError('VALIDATION', `The comparison did not include ${input.table}.`, undefined, { table: 'is not one of the compared tables' });
  }
  if (input.format === 'csv' && !input.table && c.result.tables.length > 1) {
    throw new UserError('VALIDATION', 'A CSV file holds one table; name the table to export.', undefined, { table: 'is required for CSV when several tables were compared' });
  }
  return enqueueJob(actor, 'recover-export', { compareJobId, ...input }, { targetId: c.target.id, pool: c.target.workerPool, ip });
}

export async function startDiscard(actor: Acting, compareJobId: string, ip: string | null) {
  const c = await comparisonTarget(compareJobId, { allowExpired: true });
  return enqueueJob(actor, 'recover-discard', { compareJobId }, { targetId: c.target.id, pool: c.target.workerPool, ip });
}
