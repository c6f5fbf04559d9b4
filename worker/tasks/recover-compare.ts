// Recovering deleted rows (runbook scenario 2), first job: the chosen tables of a backup restored into a scratch
// database beside production and compared with production by primary key. The scratch copy is kept for a
// re-insert, an export or a discard; nothing of a failed comparison is kept.
import type pg from 'pg';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { SCRATCH_TTL_MS, type ComparisonResult, type TableComparison } from '../../lib/recoveries/comparison';
import { targetConn } from '../../lib/targets/target-conn';
import { connect, toolEnv } from '../pg/connect';
import { parseServerVersionNum, toolsFor } from '../pg/tools';
import { readToc } from '../pg/pg-restore';
import { loadBackup } from '../restore/archive';
import { stageArchive } from '../restore/stage';
import { dropDatabase } from '../restore/database-ops';
import { analyzeSql, countSql, keyIndexSql } from '../recover/catalog-sql';
import { describeTable, foreignKeys, productionTable, realName, serverVersionNum, session, shapeOf, type TableInfo } from '../recover/catalog';
import { chooseTables } from '../recover/choose-tables';
import { compareRows, pageSql, parentsFirst, type KeyedRow, type TableShape } from '../recover/compare-rows';
import { createScratch, dropExpiredScratch, scratchName } from '../recover/scratch-db';
import { restoreIntoScratch } from '../recover/scratch-restore';

type Ctx = JobContext<JobPayload<'recover-compare'>>;

export async function recoverCompare(ctx: Ctx): Promise<ComparisonResult> {
  const started = Date.now();
  const p = ctx.payload;
  const clients: pg.Client[] = [];
  ctx.defer('closing the connections', () => Promise.all(clients.map((c) => c.end().catch(() => {}))), { always: true });

  // backup: its row, its target and production's name.
  await ctx.step('checking the backup file');
  const { backup, storage } = await loadBackup(BigInt(p.backupId));
  const target = backup.target;
  if (!target) throw new UserError('NOT_FOUND', "The backup's target was deleted; there is no production to compare with.");
  const production = backup.databaseName ?? target.database;
  if (!production) throw new UserError('NOT_FOUND', 'The backup does not name its database.');

  // stage: the archive copied (a .zst decompressed) once into the job's scratch folder, since pg_restore runs once
  // per table; its SHA-256 checked against the one the backup recorded on the way.
  const staged = await stageArchive(ctx, storage, backup);

  // archive: the chosen tables, each with rows in the backup, read with a pg_restore as new as server and archive.
  await ctx.step('reading the archive');
  const admin = await connect(targetConn(target, 'postgres'));
  clients.push(admin);
  const v = await serverVersionNum(admin);
  const probe = await toolsFor(parseServerVersionNum(v.num).major, v.version);
  const toc = await readToc({ file: staged.file }, probe.path('pg_restore'), ctx.signal);
  const tools = toc.dumpedByMajor && toc.dumpedByMajor > probe.major ? await toolsFor(toc.dumpedByMajor, toc.dumpedBy ?? '') : probe;
  const chosen = chooseTables(toc, p.tables);

  // production: every chosen table exists there with a primary key, before anything is created.
  await ctx.step(`checking the tables in production "${production}"`);
  const prod = await session(targetConn(target, production));
  clients.push(prod);
  const prodTables: TableInfo[] = [];
  const named: ((typeof chosen)[number] & { schema: string; name: string })[] = [];
  for (const t of chosen) {
    const real = await realName(prod, t.tocSchema, t.tocName, production);
    named.push({ ...t, ...real });
    prodTables.push(await productionTable(prod, real.schema, real.name, production, v.num));
  }
  await dropExpiredScratch(ctx, admin, target.id);

  // scratch: a new database beside production, with the archive's definitions and the chosen tables' rows.
  const name = await scratchName(admin, production);
  await ctx.step(`restoring into the scratch copy "${name}"`);
  await createScratch(admin, production, name, v.num);
  // Nothing of a failed comparison is kept; on success the copy stays for the re-insert and the exports.
  ctx.defer(`dropping the scratch copy "${name}"`, () => dropDatabase(admin, name));
  const pass = await toolEnv(targetConn(target, 'postgres'), { dir: await ctx.scratch() });
  ctx.defer('removing the passfile', () => pass.cleanup(), { always: true });
  if (pass.dir) await ctx.trackPartial(pass.dir); // and the crash sweep removes it if the worker dies
  await restoreIntoScratch(ctx, tools, staged.file, name, { kind: 'definitions' }, pass.env);
  for (const [i, t] of named.entries()) {
    await ctx.progress(((i + 1) / (named.length + 1)) * 40, `restoring the rows of ${t.label}${t.partitions.length ? ` (${t.partitions.length} partitions)` : ''}`);
    await restoreIntoScratch(ctx, tools, staged.file, name, { kind: 'rows', entries: t.entries, index: i }, pass.env);
  }
  const sc = await session(targetConn(target, name));
  // Closed before a failed comparison's copy is dropped (cleanups run last-in-first-out).
  ctx.defer('closing the scratch copy', () => sc.end().catch(() => {}), { always: true });

  // compare: each table by primary key, production read in one snapshot per table.
  const tables: TableComparison[] = [];
  for (const [i, t] of named.entries()) {
    await ctx.step(`comparing ${t.label}`);
    tables.push(await compareTable(ctx, sc, prod, t, prodTables[i]!, v.num, (done, backupRows) => ctx.progress(40 + ((i + Math.min(1, done / Math.max(1, backupRows))) / named.length) * 59, `${t.label}: ${done} of ${backupRows} backup rows compared`)));
  }

  // order: parents first, as a re-insert will put them back.
  const { order } = parentsFirst(prodTables.map((x) => x.oid), await foreignKeys(prod, prodTables.map((x) => x.oid)));
  const rank = new Map(tables.map((t, i) => [t, order.indexOf(prodTables[i]!.oid)]));
  tables.sort((a, b) => rank.get(a)! - rank.get(b)!);
  const result: ComparisonResult = {
    backupId: String(backup.id),
    backupTakenAt: backup.createdAt.toISOString(),
    targetId: target.id,
    target: target.name,
    database: production,
    scratchDatabase: name,
    scratchExpiresAt: new Date(Date.now() + SCRATCH_TTL_MS).toISOString(),
    tables,
    durationMs: Date.now() - started,
  };
  await ctx.log(`the scratch copy "${name}" is kept until a re-insert or discard, at most until ${result.scratchExpiresAt}`);
  return result;
}

/** One table compared: the scratch copy indexed on the key, then the keyset merge against one production snapshot. */
async function compareTable(
  ctx: Ctx,
  sc: pg.Client,
  prod: pg.Client,
  t: { label: string; schema: string; name: string; partitions: string[] },
  prodInfo: TableInfo,
  versionNum: number,
  onPage: (done: number, backupRows: number) => Promise<void>,
): Promise<TableComparison> {
  const scratchInfo = await describeTable(sc, t.schema, t.name, versionNum);
  if (!scratchInfo) throw new UserError('RESTORE_FAILED', `The scratch copy has no table ${t.label} after the restore.`);
  const shape = shapeOf(t.schema, t.name, prodInfo, scratchInfo);
  // The scratch copy has no indexes (post-data is skipped): one on the key makes each page an index range.
  await sc.query(keyIndexSql(t.schema, t.name, shape.key.map((k) => k.name)));
  await sc.query(analyzeSql(t.schema, t.name));
  const backupRows = Number((await sc.query<{ n: string }>(countSql(t.schema, t.name))).rows[0]!.n);
  await prod.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const productionRows = Number((await prod.query<{ n: string }>(countSql(t.schema, t.name))).rows[0]!.n);
    const outcome = await compareRows(sources(shape, sc, prod), {
      table: t.label,
      columns: shape.columns.map((c) => c.name),
      signal: ctx.signal,
      onPage: (done) => onPage(done, backupRows),
    });
    const scratchNames = new Set(scratchInfo.columns.map((c) => c.name));
    const prodNames = new Set(prodInfo.columns.map((c) => c.name));
    await ctx.log(`${t.label}: ${outcome.backupRows} rows in the backup, ${productionRows} in production; ${outcome.missing.count} missing, ${outcome.changed.count} changed`);
    return {
      table: t.label,
      schema: t.schema,
      name: t.name,
      partitions: t.partitions,
      primaryKey: prodInfo.primaryKey,
      columns: shape.columns.map((c) => c.name),
      columnsOnlyInBackup: scratchInfo.columns.map((c) => c.name).filter((c) => !prodNames.has(c)),
      columnsOnlyInProduction: prodInfo.columns.map((c) => c.name).filter((c) => !scratchNames.has(c)),
      backupRows: outcome.backupRows,
      productionRows,
      newInProduction: Math.max(0, productionRows - outcome.inBoth),
      missing: outcome.missing,
      changed: outcome.changed,
    };
  } finally {
    await prod.query('COMMIT').catch(() => {});
  }
}

/** The merge's two readers: keyset pages of the scratch copy, key ranges of production. */
function sources(shape: TableShape, scratch: pg.Client, prod: pg.Client) {
  const first = pageSql(shape, { after: false, upTo: false });
  const next = pageSql(shape, { after: true, upTo: false });
  const rangeFirst = pageSql(shape, { after: false, upTo: true });
  const range = pageSql(shape, { after: true, upTo: true });
  const rows = (r: pg.QueryResult<{ k: string[]; r: string }>): KeyedRow[] => r.rows.map((x) => ({ key: x.k, row: x.r }));
  return {
    backupPage: async (after: string[] | null, limit: number) => rows(await scratch.query(after ? next : first, after ? [...after, limit] : [limit])),
    productionRange: async (after: string[] | null, upTo: string[], limit: number) =>
      rows(await prod.query(after ? range : rangeFirst, after ? [...after, ...upTo, limit] : [...upTo, limit])),
  };
}
