// Rolling back a production swap: the kept previous database takes production's name again; the restored one is kept.
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { targetConn } from '../../lib/targets/target-conn';
import { connect } from '../pg/connect';
import { allowConnections, blockAndTerminate, copyPattern, databaseExists, dropDatabase, fitName, renameDatabase, stamp } from '../restore/database-ops';

/** The target and a maintenance connection to its "postgres" database, closed when the job ends. */
async function maintenance(ctx: JobContext<unknown>, targetId: string) {
  const t = await getDb().target.findUnique({ where: { id: targetId } });
  if (!t) throw new UserError('NOT_FOUND', 'The target does not exist.');
  const client = await connect(targetConn(t, 'postgres'));
  ctx.defer('close the maintenance connection', () => client.end(), { always: true });
  return { target: t, client };
}

export async function rollback(ctx: JobContext<JobPayload<'rollback'>>) {
  const { keptDatabase } = ctx.payload;
  if (!/_before_restore_\d{8}t\d{6}z$/.test(keptDatabase)) throw new UserError('VALIDATION', `"${keptDatabase}" is not a copy kept by a production swap.`);
  // Production's name comes from the swap that kept this copy (a long name was shortened in the copy's name).
  const swap = (await getDb().job.findMany({ where: { targetId: ctx.payload.targetId, kind: 'restore', status: 'succeeded' }, select: { result: true } }))
    .map((j) => j.result as { keptCopy?: string; database?: string } | null)
    .find((r) => r?.keptCopy === keptDatabase);
  const { target, client } = await maintenance(ctx, ctx.payload.targetId);
  const prod = swap?.database ?? target.database;
  if (!prod) throw new UserError('NOTHING_TO_ROLL_BACK', `No swap on record kept "${keptDatabase}"; roll it back by hand.`);
  await ctx.step('checking the kept copy');
  if (!(await databaseExists(client, keptDatabase))) throw new UserError('NOTHING_TO_ROLL_BACK', `"${keptDatabase}" no longer exists on ${target.name}.`);

  // swap back: the restored database steps aside (kept, so nothing is lost), the previous one returns.
  await ctx.step('swapping back');
  const aside = fitName(prod, `_rolled_back_${stamp()}`);
  const t0 = Date.now();
  const prodExists = await databaseExists(client, prod);
  // The copy set aside is listed with its size, like the copy a swap keeps.
  const keptCopySize = prodExists ? Number((await client.query<{ n: string }>('SELECT pg_database_size($1) AS n', [prod])).rows[0]!.n) : null;
  if (prodExists) {
    await blockAndTerminate(client, prod);
    await renameDatabase(client, prod, aside);
  }
  await blockAndTerminate(client, keptDatabase); // someone may have been looking at the kept copy
  await renameDatabase(client, keptDatabase, prod);
  await allowConnections(client, prod);
  const downtimeMs = Date.now() - t0;
  await ctx.log(prodExists ? `rolled back: "${prod}" is the previous database again; the restored one is kept as "${aside}" (outage ${downtimeMs} ms)` : `rolled back: "${prod}" is the previous database again (there was no database of that name to set aside)`);
  return { target: target.name, database: prod, keptCopy: prodExists ? aside : null, keptCopySize, downtimeMs };
}

export async function dropCopy(ctx: JobContext<JobPayload<'drop-copy'>>) {
  const { database } = ctx.payload;
  // Only the copies Lifeboat made beside production; never production itself.
  if (!copyPattern.test(database)) throw new UserError('VALIDATION', `"${database}" is not a copy Lifeboat kept; it will not be dropped from here.`);
  const { target, client } = await maintenance(ctx, ctx.payload.targetId);
  if (!(await databaseExists(client, database))) throw new UserError('NOT_FOUND', `"${database}" does not exist on ${target.name}.`);
  await ctx.step('dropping the kept copy');
  await dropDatabase(client, database);
  return { target: target.name, dropped: database };
}
