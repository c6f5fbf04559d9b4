// Recovering deleted rows, discard: a comparison's scratch copy dropped and its exports removed without re-inserting
// (an expired copy too, when the sweep has not reached it yet).
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { usableComparison } from '../../lib/recoveries/comparison';
import { targetConn } from '../../lib/targets/target-conn';
import { connect } from '../pg/connect';
import { databaseExists, dropDatabase } from '../restore/database-ops';
import { removeExports } from '../recover/exports';

export async function recoverDiscard(ctx: JobContext<JobPayload<'recover-discard'>>) {
  // drop: the scratch copy if it is still there, then the comparison's exports.
  await ctx.step('dropping the scratch copy');
  const { result, job } = await usableComparison(ctx.payload.compareJobId, { exceptJobId: ctx.jobId, allowExpired: true });
  const target = await getDb().target.findUnique({ where: { id: result.targetId } });
  if (!target) throw new UserError('NOT_FOUND', 'The target of this comparison was deleted.');
  const admin = await connect(targetConn(target, 'postgres'));
  ctx.defer('closing the connection', () => admin.end().catch(() => {}), { always: true });
  const existed = await databaseExists(admin, result.scratchDatabase);
  if (existed) await dropDatabase(admin, result.scratchDatabase);
  await removeExports(ctx.payload.compareJobId, (job.payload as { backupId: string }).backupId);
  await ctx.log(existed ? `dropped "${result.scratchDatabase}"` : `"${result.scratchDatabase}" was already gone`);
  return { target: target.name, database: result.database, scratchDatabase: result.scratchDatabase, dropped: existed };
}
