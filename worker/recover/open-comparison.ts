// Recovering deleted rows: what re-insert and export share: the comparison with open connections to production and
// its scratch copy, the compared tables' current shapes parents first, and the missing rows read back by key.
import type pg from 'pg';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { usableComparison } from '../../lib/recoveries/comparison';
import { targetConn } from '../../lib/targets/target-conn';
import { connect } from '../pg/connect';
import { databaseExists } from '../restore/database-ops';
import { describeTable, foreignKeys, productionTable, serverVersionNum, session, shapeOf } from './catalog';
import { parentsFirst, rowsByKeysSql, type TableShape } from './compare-rows';
import { dropExpiredScratch } from './scratch-db';

/** Keys a query fetches at once. */
const KEY_BATCH = 1000;

/** The comparison, its target, and connections to production and the scratch copy (closed when the job ends). */
export async function openComparison(ctx: JobContext<{ compareJobId: string }>) {
  const { result, job } = await usableComparison(ctx.payload.compareJobId, { exceptJobId: ctx.jobId });
  const target = await getDb().target.findUnique({ where: { id: result.targetId } });
  if (!target) throw new UserError('NOT_FOUND', 'The target of this comparison was deleted.');
  const clients: pg.Client[] = [];
  ctx.defer('closing the connections', () => Promise.all(clients.map((c) => c.end().catch(() => {}))), { always: true });
  const admin = await connect(targetConn(target, 'postgres'));
  clients.push(admin);
  if (!(await databaseExists(admin, result.scratchDatabase))) {
    throw new UserError('RECOVERY_SCRATCH_GONE', `The scratch copy "${result.scratchDatabase}" no longer exists on ${target.name}.`);
  }
  await dropExpiredScratch(ctx, admin, target.id, result.scratchDatabase);
  const v = await serverVersionNum(admin);
  const prod = await session(targetConn(target, result.database));
  clients.push(prod);
  const scratch = await session(targetConn(target, result.scratchDatabase));
  clients.push(scratch);
  return { job, result, target, admin, prod, scratch, versionNum: v.num, backupId: (job.payload as { backupId: string }).backupId };
}

export type OpenComparison = Awaited<ReturnType<typeof openComparison>>;

/** The compared tables (all, or the one asked for) with their current shapes, parents first by production's foreign keys. */
export async function planTables(o: OpenComparison, only?: string) {
  const picked = only ? o.result.tables.filter((t) => t.table === only) : o.result.tables;
  if (only && picked.length === 0) throw new UserError('VALIDATION', `The comparison did not include ${only}.`);
  const tables = [];
  for (const t of picked) {
    const prodInfo = await productionTable(o.prod, t.schema, t.name, o.result.database, o.versionNum);
    if (prodInfo.primaryKey.join('\0') !== t.primaryKey.join('\0')) {
      throw new UserError('TABLE_CHANGED', `The primary key of ${t.table} changed since the comparison (${t.primaryKey.join(', ')} then, ${prodInfo.primaryKey.join(', ')} now).`, 'Run the comparison again.');
    }
    const scratchInfo = await describeTable(o.scratch, t.schema, t.name, o.versionNum);
    if (!scratchInfo) throw new UserError('RECOVERY_SCRATCH_GONE', `The scratch copy has no table ${t.table} any more.`);
    tables.push({ t, oid: prodInfo.oid, shape: shapeOf(t.schema, t.name, prodInfo, scratchInfo) });
  }
  const byOid = new Map(tables.map((x) => [x.oid, x]));
  const { order, cyclic } = parentsFirst(tables.map((x) => x.oid), await foreignKeys(o.prod, tables.map((x) => x.oid)));
  return { tables: order.map((oid) => byOid.get(oid)!), cyclic: cyclic.map((oid) => byOid.get(oid)!.t.table) };
}

/** The missing rows of one table from the scratch copy, a batch of keys at a time, as arrays of column texts. */
export async function* missingRows(scratch: pg.Client, shape: TableShape, keys: string[][], signal: AbortSignal): AsyncGenerator<string[]> {
  const sql = rowsByKeysSql(shape);
  for (let i = 0; i < keys.length; i += KEY_BATCH) {
    signal.throwIfAborted();
    const r = await scratch.query<{ r: string }>(sql, [JSON.stringify(keys.slice(i, i + KEY_BATCH))]);
    yield r.rows.map((x) => x.r);
  }
}
