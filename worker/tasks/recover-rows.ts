// Recovering deleted rows (runbook scenario 2): chosen tables of a backup restored into a scratch database and
// compared with production by primary key; then the missing rows re-inserted into production in one transaction
// (parents first, sequences caught up), exported as SQL or CSV, or the scratch copy discarded.
import { execa } from 'execa';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { ToolError } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { partitionsUnder } from '../../lib/recoveries/table-choices';
import { comparisonStorageRoot, exportFolder, SCRATCH_TTL_MS, usableComparison, type ComparisonResult, type TableComparison } from '../../lib/recoveries/comparison';
import { LocalStorage, type ArtifactWriter } from '../../lib/storage/local-storage';
import { targetConn } from '../../lib/targets/target-conn';
import { connect, toolEnv } from '../pg/connect';
import { parseServerVersionNum, toolsFor, type ToolSet } from '../pg/tools';
import { checksumOf, loadBackup, readToc } from '../restore/archive';
import {
  compareRows,
  csvField,
  insertSql,
  insertColumns,
  pageSql,
  parentsFirst,
  qualified,
  rowsByKeysSql,
  scratchRestoreArgs,
  sqlLiteral,
  useList,
  commentText,
  safeFileName,
  type CopyColumn,
  type KeyedRow,
  type ScratchStep,
  type TableShape,
} from '../restore/compare-rows';
import { databaseExists, dropDatabase, fitName, quoteIdent, stamp } from '../restore/database-ops';

type Target = NonNullable<Awaited<ReturnType<ReturnType<typeof getDb>['target']['findUnique']>>>;
type Ctx<K extends 'recover-compare' | 'recover-reinsert' | 'recover-export' | 'recover-discard'> = JobContext<JobPayload<K>>;

const tail = (s: string, n = 8000) => (s.length > n ? s.slice(-n) : s);
const KEY_BATCH = 1000;
/** Names of scratch copies; the stamp is when the comparison started. */
const scratchPattern = /_recover_(\d{4})(\d{2})(\d{2})t(\d{2})(\d{2})(\d{2})z$/;

// ---------------------------------------------------------------- connections and catalog reads

/** A connection whose text output is the same in every database (row texts are compared across two of them). */
async function session(t: Target, database: string): Promise<pg.Client> {
  const c = await connect(targetConn(t, database));
  await c.query("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; SET bytea_output = 'hex'");
  return c;
}

async function serverVersionNum(c: pg.Client): Promise<{ num: number; version: string }> {
  const r = (await c.query<{ num: string; ver: string }>("SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS ver")).rows[0]!;
  return { num: Number(r.num), version: r.ver };
}

interface ColumnInfo extends CopyColumn {
  collation: string | null;
}

interface TableInfo {
  oid: string;
  columns: ColumnInfo[];
  primaryKey: string[];
}

/** A table's columns and primary key, or null when the table is not there. */
async function describeTable(c: pg.Client, schema: string, name: string, versionNum: number): Promise<TableInfo | null> {
  const t = (
    await c.query<{ oid: string }>(
      `SELECT c.oid::int8::text AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, name],
    )
  ).rows[0];
  if (!t) return null;
  const generated = versionNum >= 120000 ? "a.attgenerated <> ''" : 'false';
  const columns = (
    await c.query<ColumnInfo>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, ${generated} AS generated, co.collname AS collation
       FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation
       WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [t.oid],
    )
  ).rows;
  const primaryKey = (
    await c.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_constraint con
       CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
       WHERE con.conrelid = $1::oid AND con.contype = 'p' ORDER BY k.ord`,
      [t.oid],
    )
  ).rows.map((r) => r.name);
  return { oid: t.oid, columns, primaryKey };
}

/** Production's table with a primary key; the reason otherwise. */
async function productionTable(c: pg.Client, schema: string, name: string, database: string, versionNum: number): Promise<TableInfo> {
  const label = `${schema}.${name}`;
  const info = await describeTable(c, schema, name, versionNum);
  if (!info) {
    throw new UserError('NOT_FOUND', `Production "${database}" has no table ${label}.`, 'A dropped table is restored whole: use the restore wizard into a new database, then copy it over.');
  }
  if (info.primaryKey.length === 0) {
    throw new UserError('NO_PRIMARY_KEY', `${label} has no primary key in production "${database}", so its rows cannot be matched with the backup's.`);
  }
  return info;
}

/**
 * The table's real schema and name in production. pg_restore --list prints a newline or carriage return in a name as
 * a space, so the archive's label may not be the name itself: an exact match wins, else the one name that reads
 * the same with those characters as spaces.
 */
async function realName(c: pg.Client, schema: string, name: string, database: string): Promise<{ schema: string; name: string }> {
  const r = await c.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND translate(n.nspname, E'\\n\\r', '  ') = $1 AND translate(c.relname, E'\\n\\r', '  ') = $2`,
    [schema, name],
  );
  const exact = r.rows.find((x) => x.schema === schema && x.name === name);
  if (exact || r.rows.length === 0) return { schema, name };
  if (r.rows.length > 1) {
    throw new UserError('VALIDATION', `Production "${database}" has ${r.rows.length} tables whose names read as ${schema}.${name} (they differ in line breaks).`, 'Rename one of them, or recover these rows by hand from a restored copy.');
  }
  return r.rows[0]!;
}

/** The shape both copies share: production's key and types, the columns both have. */
function shapeOf(schema: string, name: string, prod: TableInfo, scratch: TableInfo): TableShape {
  const inScratch = new Map(scratch.columns.map((c) => [c.name, c]));
  const label = `${schema}.${name}`;
  for (const k of prod.primaryKey) {
    const s = inScratch.get(k);
    if (!s) throw new UserError('CONFLICT', `The backup's ${label} has no column "${k}", which is part of production's primary key.`, 'The table changed too much since the backup to match rows by key.');
    const p = prod.columns.find((c) => c.name === k)!;
    // Key ranges are read in both databases; they must sort the key the same way.
    if ((s.collation ?? '') !== (p.collation ?? '')) {
      throw new UserError('CONFLICT', `The key column ${label}.${k} sorts with collation "${p.collation}" in production but "${s.collation}" in the backup.`, 'The table changed since the backup; compare it by hand from a restored copy.');
    }
  }
  return {
    schema,
    name,
    key: prod.primaryKey.map((k) => ({ name: k, type: prod.columns.find((c) => c.name === k)!.type })),
    columns: prod.columns.filter((c) => inScratch.has(c.name)).map(({ name: n, type, generated }) => ({ name: n, type, generated })),
  };
}

/** [child, parent] pairs of foreign keys among the given tables (by oid), read from production's pg_constraint. */
async function foreignKeys(c: pg.Client, oids: string[]): Promise<[string, string][]> {
  const r = await c.query<{ child: string; parent: string }>(
    `SELECT conrelid::int8::text AS child, confrelid::int8::text AS parent FROM pg_constraint
     WHERE contype = 'f' AND conrelid = ANY($1::oid[]) AND confrelid = ANY($1::oid[])`,
    [oids],
  );
  return r.rows.map((x) => [x.child, x.parent]);
}

// ---------------------------------------------------------------- scratch database

/** Creates the scratch database with production's encoding and locale, so text keys sort the same way in both. */
async function createScratch(admin: pg.Client, production: string, name: string, versionNum: number): Promise<void> {
  const provider = versionNum >= 150000 ? 'datlocprovider::text' : "'c'";
  const locale = versionNum >= 170000 ? 'datlocale' : versionNum >= 150000 ? 'daticulocale' : 'NULL::text';
  const d = (
    await admin.query<{ enc: string; datcollate: string; datctype: string; provider: string; locale: string | null }>(
      `SELECT pg_encoding_to_char(encoding) AS enc, datcollate, datctype, ${provider} AS provider, ${locale} AS locale FROM pg_database WHERE datname = $1`,
      [production],
    )
  ).rows[0];
  if (!d) throw new UserError('TARGET_DATABASE_MISSING', `Production "${production}" does not exist on the server.`);
  const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
  let sql = `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0 ENCODING ${lit(d.enc)} LC_COLLATE ${lit(d.datcollate)} LC_CTYPE ${lit(d.datctype)}`;
  if (d.provider === 'i' && d.locale) sql += ` LOCALE_PROVIDER icu ICU_LOCALE ${lit(d.locale)}`;
  if (d.provider === 'b' && d.locale) sql += ` LOCALE_PROVIDER builtin BUILTIN_LOCALE ${lit(d.locale)}`;
  await admin.query(sql);
}

/** A free scratch name `<db>_recover_<stamp>` (a second comparison in the same second waits for the next one). */
async function scratchName(admin: pg.Client, production: string): Promise<string> {
  for (let i = 0; ; i++) {
    const name = fitName(production, `_recover_${stamp()}`);
    if (!(await databaseExists(admin, name))) return name;
    if (i >= 3) throw new UserError('DESTINATION_EXISTS', `A database named "${name}" already exists.`);
    await new Promise((r) => setTimeout(r, 1100));
  }
}

/**
 * Scratch copies older than 24 hours are dropped by the next recovery job on the same server (the worker has no
 * timer of its own for them); their export files go too.
 */
async function dropExpiredScratch(ctx: JobContext<unknown>, admin: pg.Client, target: Target, keep?: string): Promise<void> {
  const now = Date.now();
  const rows = (await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname ~ '_recover_[0-9]{8}t[0-9]{6}z$'")).rows;
  for (const { datname } of rows) {
    const m = scratchPattern.exec(datname);
    if (!m || datname === keep) continue;
    const at = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    if (now - at <= SCRATCH_TTL_MS) continue;
    await dropDatabase(admin, datname).then(
      () => ctx.log(`dropped the expired scratch copy "${datname}" (made ${new Date(at).toISOString()})`),
      (err) => ctx.log(`could not drop the expired scratch copy "${datname}": ${(err as Error).message}`, 'warn'),
    );
  }
  // Their exports: comparisons of this target whose copies have expired (a week back is enough to catch them all).
  const expired = await getDb().job.findMany({
    where: { kind: 'recover-compare', targetId: target.id, status: 'succeeded', finishedAt: { lt: new Date(now - SCRATCH_TTL_MS), gt: new Date(now - 7 * SCRATCH_TTL_MS) } },
    select: { id: true, payload: true },
  });
  for (const j of expired) await removeExports(j.id, (j.payload as { backupId: string }).backupId);
}

async function removeExports(compareJobId: string, backupId: string): Promise<void> {
  const storage = new LocalStorage(await comparisonStorageRoot(backupId));
  await storage.remove(exportFolder(compareJobId)).catch(() => {});
}

async function runPgRestore(ctx: JobContext<unknown>, tools: ToolSet, archive: string, database: string, step: ScratchStep, env: Record<string, string>) {
  if (step.kind === 'rows') await writeFile(step.listFile, useList(step), { mode: 0o600 });
  const r = await execa(tools.path('pg_restore'), scratchRestoreArgs(archive, database, step), {
    env: { ...process.env, ...env },
    extendEnv: false,
    cancelSignal: ctx.signal,
    reject: false,
    stdin: 'ignore',
  });
  if (ctx.signal.aborted) throw ctx.signal.reason;
  const lines = String(r.stderr).split('\n').filter((l) => l.trim());
  // A schema of thousands of objects prints a line each: the log keeps the last few hundred.
  if (lines.length > 300) await ctx.log(`(${lines.length - 300} earlier pg_restore lines left out)`);
  for (const l of lines.slice(-300)) await ctx.log(l, /error/i.test(l) ? 'error' : 'info');
  if (r.exitCode !== 0) {
    const last = lines.filter((l) => /error/i.test(l)).pop();
    throw new ToolError('RESTORE_FAILED', `pg_restore failed (exit ${r.exitCode ?? r.signal})${last ? `: ${last.replace(/^pg_restore: error: /, '')}` : ''}.`, tail(String(r.stderr)));
  }
}

// ---------------------------------------------------------------- compare

export async function recoverCompare(ctx: Ctx<'recover-compare'>): Promise<ComparisonResult> {
  const started = Date.now();
  const p = ctx.payload;
  const clients: pg.Client[] = [];
  let admin: pg.Client | undefined;
  let scratch: string | null = null;
  let temp: string | null = null;
  let listDir: string | null = null;
  let pass: Awaited<ReturnType<typeof toolEnv>> | undefined;
  try {
    // file: present, and the same bytes the backup wrote.
    await ctx.step('checking the backup file');
    const { backup, path, storage } = await loadBackup(BigInt(p.backupId));
    const sum = await checksumOf(path, ctx.signal);
    if (backup.checksumSha256 && sum.sha256 !== backup.checksumSha256) {
      throw new UserError('BACKUP_CHECKSUM_MISMATCH', `The file ${backup.backupFile} does not match its recorded SHA-256.`);
    }
    const target = backup.target;
    if (!target) throw new UserError('NOT_FOUND', "The backup's target was deleted; there is no production to compare with.");
    const production = backup.databaseName ?? target.database;
    if (!production) throw new UserError('NOT_FOUND', 'The backup does not name its database.');

    // archive: the chosen tables, each with rows in the backup, read with a pg_restore as new as server and archive.
    await ctx.step('reading the archive');
    admin = await connect(targetConn(target, 'postgres'));
    clients.push(admin);
    const v = await serverVersionNum(admin);
    const probe = await toolsFor(parseServerVersionNum(v.num).major, v.version);
    const toc = await readToc(path, backup.format, probe.path('pg_restore'), ctx.signal);
    const tools = toc.dumpedByMajor && toc.dumpedByMajor > probe.major ? await toolsFor(toc.dumpedByMajor, toc.dumpedBy ?? '') : probe;
    // A partitioned table is one table: its rows are those of all its partitions, compared by its own key.
    const chosen = p.tables.map((label) => {
      const e = toc.entries.find((x) => x.desc === 'TABLE' && `${x.schema}.${x.name}` === label);
      if (!e) throw new UserError('VALIDATION', `The backup has no table ${label}.`, 'Pick tables from the list the backup offers.');
      const partitions = partitionsUnder(toc.partitions, label);
      const members = new Set([label, ...partitions]);
      const data = toc.entries.filter((x) => x.desc === 'TABLE DATA' && members.has(`${x.schema}.${x.name}`));
      if (data.length === 0) {
        throw new UserError('VALIDATION', `The backup holds no rows for ${label} (${partitions.length ? 'none of its partitions has data in the archive' : 'its data was left out'}).`, 'Pick another table.');
      }
      return { label, tocSchema: e.schema, tocName: e.name, partitions, entries: data.map((x) => x.id) };
    });
    for (const a of chosen) {
      const inside = chosen.find((b) => a.partitions.includes(b.label));
      if (inside) {
        throw new UserError('VALIDATION', `${inside.label} is a partition of ${a.label}, which is compared with all its partitions.`, `Pick ${a.label} or ${inside.label}, not both.`);
      }
    }

    // production: every chosen table exists there with a primary key, before anything is created.
    await ctx.step(`checking the tables in production "${production}"`);
    const prod = await session(target, production);
    clients.push(prod);
    const prodTables: TableInfo[] = [];
    const named: ((typeof chosen)[number] & { schema: string; name: string })[] = [];
    for (const t of chosen) {
      const real = await realName(prod, t.tocSchema, t.tocName, production);
      named.push({ ...t, ...real });
      prodTables.push(await productionTable(prod, real.schema, real.name, production, v.num));
    }
    await dropExpiredScratch(ctx, admin, target);

    // archive file: a .zst is decompressed once, since pg_restore runs once per table.
    let archive = path;
    if (backup.format === 'custom-zstd') {
      await ctx.step('decompressing the archive');
      temp = join(storage.root, `.recover-${ctx.jobId}.dump`);
      await ctx.trackPartial(temp);
      const z = await execa('zstd', ['-d', '-q', '-f', path, '-o', temp], { cancelSignal: ctx.signal, reject: false });
      if (z.exitCode !== 0) throw new ToolError('BACKUP_UNREADABLE', 'zstd could not decompress the archive.', String(z.stderr));
      archive = temp;
    }

    // scratch: a new database beside production, with the archive's definitions and the chosen tables' rows.
    const name = await scratchName(admin, production);
    await ctx.step(`restoring into the scratch copy "${name}"`);
    await createScratch(admin, production, name, v.num);
    scratch = name;
    pass = await toolEnv(targetConn(target, 'postgres'));
    if (pass.dir) await ctx.trackPartial(pass.dir);
    await runPgRestore(ctx, tools, archive, name, { kind: 'definitions' }, pass.env);
    listDir = await mkdtemp(join(tmpdir(), 'lifeboat-recover-'));
    await ctx.trackPartial(listDir);
    for (const [i, t] of named.entries()) {
      await ctx.progress(((i + 1) / (named.length + 1)) * 40, `restoring the rows of ${t.label}${t.partitions.length ? ` (${t.partitions.length} partitions)` : ''}`);
      await runPgRestore(ctx, tools, archive, name, { kind: 'rows', entries: t.entries, listFile: join(listDir, `${i}.list`) }, pass.env);
    }
    const sc = await session(target, name);
    clients.push(sc);

    // compare: each table by primary key, production read in one snapshot per table.
    const tables: TableComparison[] = [];
    for (const [i, t] of named.entries()) {
      await ctx.step(`comparing ${t.label}`);
      const prodInfo = prodTables[i]!;
      const scratchInfo = await describeTable(sc, t.schema, t.name, v.num);
      if (!scratchInfo) throw new UserError('RESTORE_FAILED', `The scratch copy has no table ${t.label} after the restore.`);
      const shape = shapeOf(t.schema, t.name, prodInfo, scratchInfo);
      // The scratch copy has no indexes (post-data is skipped): one on the key makes each page an index range.
      await sc.query(`CREATE INDEX ON ${qualified(t.schema, t.name)} (${shape.key.map((k) => quoteIdent(k.name)).join(', ')})`);
      await sc.query(`ANALYZE ${qualified(t.schema, t.name)}`);
      const backupRows = Number((await sc.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(t.schema, t.name)}`)).rows[0]!.n);
      await prod.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const productionRows = Number((await prod.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(t.schema, t.name)}`)).rows[0]!.n);
        const outcome = await compareRows(sources(shape, sc, prod), {
          table: t.label,
          columns: shape.columns.map((c) => c.name),
          signal: ctx.signal,
          onPage: (done) => ctx.progress(40 + ((i + Math.min(1, done / Math.max(1, backupRows))) / named.length) * 59, `${t.label}: ${done} of ${backupRows} backup rows compared`),
        });
        const scratchNames = new Set(scratchInfo.columns.map((c) => c.name));
        const prodNames = new Set(prodInfo.columns.map((c) => c.name));
        tables.push({
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
        });
        await ctx.log(`${t.label}: ${outcome.backupRows} rows in the backup, ${productionRows} in production; ${outcome.missing.count} missing, ${outcome.changed.count} changed`);
      } finally {
        await prod.query('COMMIT').catch(() => {});
      }
    }
    // Parents first, as a re-insert will put them back.
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
    scratch = null; // kept: the re-insert and the exports read from it
    return result;
  } catch (err) {
    // Nothing of a failed comparison is kept.
    if (scratch && admin) {
      const a = admin;
      const s = scratch;
      await Promise.all(clients.filter((c) => c !== a).map((c) => c.end().catch(() => {})));
      await dropDatabase(a, s).catch((e) => ctx.log(`could not drop "${s}": ${(e as Error).message}`, 'error'));
    }
    throw err;
  } finally {
    for (const f of [temp, listDir]) {
      if (!f) continue;
      await rm(f, { force: true, recursive: true });
      await ctx.untrackPartial(f).catch(() => {});
    }
    if (pass) {
      await pass.cleanup();
      if (pass.dir) await ctx.untrackPartial(pass.dir).catch(() => {});
    }
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
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

// ---------------------------------------------------------------- shared by re-insert, export and discard

/** The comparison, its target, and open connections to production and the scratch copy. */
async function openComparison(ctx: JobContext<{ compareJobId: string }>) {
  const { result, job } = await usableComparison(ctx.payload.compareJobId, { exceptJobId: ctx.jobId });
  const target = await getDb().target.findUnique({ where: { id: result.targetId } });
  if (!target) throw new UserError('NOT_FOUND', 'The target of this comparison was deleted.');
  const admin = await connect(targetConn(target, 'postgres'));
  const clients: pg.Client[] = [admin];
  const close = () => Promise.all(clients.map((c) => c.end().catch(() => {})));
  try {
    if (!(await databaseExists(admin, result.scratchDatabase))) {
      throw new UserError('RECOVERY_SCRATCH_GONE', `The scratch copy "${result.scratchDatabase}" no longer exists on ${target.name}.`);
    }
    await dropExpiredScratch(ctx, admin, target, result.scratchDatabase);
    const v = await serverVersionNum(admin);
    const prod = await session(target, result.database);
    clients.push(prod);
    const scratch = await session(target, result.scratchDatabase);
    clients.push(scratch);
    return { job, result, target, admin, prod, scratch, versionNum: v.num, close, backupId: (job.payload as { backupId: string }).backupId };
  } catch (err) {
    await close();
    throw err;
  }
}

type Opened = Awaited<ReturnType<typeof openComparison>>;

/** The compared tables (all, or the one asked for) with their current shapes, parents first by production's foreign keys. */
async function plan(o: Opened, only?: string) {
  const picked = only ? o.result.tables.filter((t) => t.table === only) : o.result.tables;
  if (only && picked.length === 0) throw new UserError('VALIDATION', `The comparison did not include ${only}.`);
  const tables = [];
  for (const t of picked) {
    const prodInfo = await productionTable(o.prod, t.schema, t.name, o.result.database, o.versionNum);
    if (prodInfo.primaryKey.join('\0') !== t.primaryKey.join('\0')) {
      throw new UserError('CONFLICT', `The primary key of ${t.table} changed since the comparison (${t.primaryKey.join(', ')} then, ${prodInfo.primaryKey.join(', ')} now).`, 'Run the comparison again.');
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
async function* missingRows(scratch: pg.Client, shape: TableShape, keys: string[][], signal: AbortSignal): AsyncGenerator<string[]> {
  const sql = rowsByKeysSql(shape);
  for (let i = 0; i < keys.length; i += KEY_BATCH) {
    signal.throwIfAborted();
    const r = await scratch.query<{ r: string }>(sql, [JSON.stringify(keys.slice(i, i + KEY_BATCH))]);
    yield r.rows.map((x) => x.r);
  }
}

// ---------------------------------------------------------------- re-insert

/** What a failed INSERT means for the person: a row is back already, or a parent row is missing. */
function insertError(err: unknown, table: string): unknown {
  const e = err as { code?: string; detail?: string; message?: string; constraint?: string };
  if (e.code === '23505') {
    return new UserError('CONFLICT', `A row of ${table} is in production again (${e.detail ?? e.message}); nothing was inserted.`, 'Someone re-created rows since the comparison. Run the comparison again.');
  }
  if (e.code === '23503') {
    return new UserError('CONFLICT', `A row of ${table} refers to a row production does not have (${e.detail ?? e.message}); nothing was inserted.`, 'Compare the referenced table too, so its missing rows are re-inserted first.');
  }
  if (e.code && /^(23|22)/.test(e.code)) {
    return new UserError('CONFLICT', `Production refused a row of ${table}: ${e.message}${e.detail ? ` (${e.detail})` : ''}; nothing was inserted.`, 'The table changed since the backup. Export the rows as SQL and adapt them by hand.');
  }
  return err;
}

export async function recoverReinsert(ctx: Ctx<'recover-reinsert'>) {
  await ctx.step('checking the comparison and its scratch copy');
  const o = await openComparison(ctx);
  try {
    const { tables, cyclic } = await plan(o);
    await ctx.log(`order (parents first): ${tables.map((x) => x.t.table).join(', ')}`);
    if (cyclic.length) await ctx.log(`foreign keys form a cycle among ${cyclic.join(', ')}; the insert relies on deferrable constraints there`, 'warn');
    const total = tables.reduce((n, x) => n + x.t.missing.keys.length, 0);

    // insert: every table in one transaction, parents first; any refusal rolls all of it back.
    await ctx.step(`re-inserting ${total} row(s) into "${o.result.database}"`);
    const inserted: { table: string; inserted: number; expected: number }[] = [];
    const sequences: { sequence: string; column: string; from: string; to: string }[] = [];
    let done = 0;
    await o.prod.query('BEGIN');
    try {
      await o.prod.query('SET CONSTRAINTS ALL DEFERRED');
      for (const { t, shape } of tables) {
        let n = 0;
        const sql = insertSql(shape);
        for await (const batch of missingRows(o.scratch, shape, t.missing.keys, ctx.signal)) {
          if (!batch.length) continue;
          const r = await o.prod.query(sql, [`[${batch.join(',')}]`]).catch((err) => {
            throw insertError(err, t.table);
          });
          n += r.rowCount ?? 0;
          done += batch.length;
          await ctx.progress((done / Math.max(1, total)) * 90, `${t.table}: ${n} of ${t.missing.keys.length} rows`);
        }
        if (n !== t.missing.keys.length) await ctx.log(`${t.table}: ${n} rows inserted, ${t.missing.keys.length} expected (the scratch copy lacks some keys)`, 'warn');
        inserted.push({ table: t.table, inserted: n, expected: t.missing.keys.length });
        await ctx.log(`${t.table}: ${n} row(s) inserted`);
      }

      // sequences: one owned by a re-inserted table must not hand out a key that is now taken.
      await ctx.step('catching up sequences');
      for (const { t, oid } of tables) sequences.push(...(await catchUpSequences(o.prod, oid, t.schema, t.name)));
      for (const s of sequences) await ctx.log(`sequence ${s.sequence} moved from ${s.from} to ${s.to} (max of ${s.column})`);

      await o.prod.query('COMMIT').catch((err) => {
        throw insertError(err, tables.map((x) => x.t.table).join(', '));
      });
    } catch (err) {
      await o.prod.query('ROLLBACK').catch(() => {});
      await ctx.log('rolled back: nothing was inserted into production', 'error').catch(() => {});
      throw err;
    }

    // scratch: its job is done.
    await ctx.step(`dropping the scratch copy "${o.result.scratchDatabase}"`);
    await o.scratch.end().catch(() => {});
    const dropped = await dropDatabase(o.admin, o.result.scratchDatabase).then(
      () => true,
      async (err) => {
        await ctx.log(`the rows are in, but the scratch copy could not be dropped: ${(err as Error).message}`, 'warn');
        return false;
      },
    );
    await removeExports(ctx.payload.compareJobId, o.backupId);
    return { database: o.result.database, target: o.result.target, order: tables.map((x) => x.t.table), tables: inserted, sequences, scratchDatabase: o.result.scratchDatabase, scratchDropped: dropped };
  } finally {
    await o.close();
  }
}

/** setval to the column's max for each sequence owned by the table (serial or identity) that is behind it. */
async function catchUpSequences(c: pg.Client, oid: string, schema: string, name: string) {
  const owned = (
    await c.query<{ seq: string; col: string; inc: string }>(
      `SELECT s.oid::regclass::text AS seq, a.attname AS col, q.seqincrement::text AS inc
       FROM pg_depend d
       JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
       JOIN pg_sequence q ON q.seqrelid = s.oid
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
       WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = $1::oid AND d.deptype IN ('a', 'i')`,
      [oid],
    )
  ).rows;
  const moved: { sequence: string; column: string; from: string; to: string }[] = [];
  for (const s of owned) {
    if (BigInt(s.inc) <= 0n) continue; // a descending sequence is never "behind" a max
    const max = (await c.query<{ m: string | null }>(`SELECT max(${quoteIdent(s.col)})::text AS m FROM ${qualified(schema, name)}`)).rows[0]!.m;
    if (max === null) continue;
    const cur = (await c.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text AS last_value, is_called FROM ${s.seq}`)).rows[0]!;
    const next = cur.is_called ? BigInt(cur.last_value) + 1n : BigInt(cur.last_value);
    if (next > BigInt(max)) continue;
    await c.query('SELECT setval($1::regclass, $2::bigint, true)', [s.seq, max]);
    moved.push({ sequence: s.seq, column: s.col, from: cur.last_value, to: max });
  }
  return moved;
}

// ---------------------------------------------------------------- export

export async function recoverExport(ctx: Ctx<'recover-export'>) {
  const p = ctx.payload;
  await ctx.step('checking the comparison and its scratch copy');
  const o = await openComparison(ctx);
  let writer: ArtifactWriter | undefined;
  try {
    if (p.format === 'csv' && !p.table && o.result.tables.length > 1) {
      throw new UserError('VALIDATION', 'A CSV file holds one table; name the table to export.', 'Pick one table, or export SQL for all of them.');
    }
    const { tables } = await plan(o, p.table ?? (p.format === 'csv' ? o.result.tables[0]!.table : undefined));
    const total = tables.reduce((n, x) => n + x.t.missing.keys.length, 0);
    const ext = p.format;
    const storage = new LocalStorage(await comparisonStorageRoot(o.backupId));
    const file = `${exportFolder(p.compareJobId)}/${ctx.jobId}.${ext}`;

    // write: beside the backups, atomically (partial file, SHA-256, fsync, rename).
    await ctx.step(`writing ${total} row(s) as ${ext.toUpperCase()}`);
    writer = await storage.createWriter(file);
    await ctx.trackPartial(writer.partialPath);
    const out = writer.stream;
    const write = async (s: string) => {
      if (!out.write(s)) await once(out, 'drain');
    };
    let rows = 0;
    if (p.format === 'sql') {
      // Names reach the comments only through commentText: a line break in one would end its comment.
      await write(
        `-- ${commentText(`Rows missing from production "${o.result.database}" on ${o.result.target}, as backup #${o.result.backupId} (${o.result.backupTakenAt}) has them.`)}\n` +
          `-- Found by comparison ${p.compareJobId}; written by Lifeboat ${new Date().toISOString()}.\n` +
          `-- One transaction, parents before children. Sequences are not moved; check them after loading.\n` +
          // The file is UTF-8 whatever the loading client's default; psql then reads quotes and backslashes as written.
          `SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\nBEGIN;\n`,
      );
    }
    for (const { t, shape } of tables) {
      const cols = insertColumns(shape);
      if (p.format === 'sql') await write(`\n-- ${commentText(`${t.table}: ${t.missing.keys.length} row(s)`)}\n`);
      else await write(`${cols.map((c) => csvField(c.name)).join(',')}\n`);
      const head = `INSERT INTO ${qualified(shape.schema, shape.name)} (${cols.map((c) => quoteIdent(c.name)).join(', ')}) OVERRIDING SYSTEM VALUE VALUES (`;
      for await (const batch of missingRows(o.scratch, shape, t.missing.keys, ctx.signal)) {
        const lines = batch.map((r) => {
          const values = JSON.parse(r) as (string | null)[];
          return p.format === 'sql' ? `${head}${values.map(sqlLiteral).join(', ')});\n` : `${values.map(csvField).join(',')}\n`;
        });
        await write(lines.join(''));
        rows += batch.length;
        await ctx.progress((rows / Math.max(1, total)) * 95, `${rows} of ${total} rows`);
      }
    }
    if (p.format === 'sql') await write('\nCOMMIT;\n');
    out.end();
    const stored = await writer.commit();
    await ctx.untrackPartial(writer.partialPath);
    writer = undefined;
    const label = tables.length === 1 ? `-${tables[0]!.t.table}` : '';
    return {
      format: p.format,
      file,
      fileName: safeFileName(`${o.result.database}-missing-rows${label}.${ext}`),
      size: stored.size,
      sha256: stored.sha256,
      rows,
      tables: tables.map((x) => x.t.table),
    };
  } catch (err) {
    await writer?.abort();
    throw err;
  } finally {
    await o.close();
  }
}

// ---------------------------------------------------------------- discard

export async function recoverDiscard(ctx: Ctx<'recover-discard'>) {
  await ctx.step('dropping the scratch copy');
  const { result, job } = await usableComparison(ctx.payload.compareJobId, { exceptJobId: ctx.jobId, allowExpired: true });
  const target = await getDb().target.findUnique({ where: { id: result.targetId } });
  if (!target) throw new UserError('NOT_FOUND', 'The target of this comparison was deleted.');
  const admin = await connect(targetConn(target, 'postgres'));
  try {
    const existed = await databaseExists(admin, result.scratchDatabase);
    if (existed) await dropDatabase(admin, result.scratchDatabase);
    await removeExports(ctx.payload.compareJobId, (job.payload as { backupId: string }).backupId);
    await ctx.log(existed ? `dropped "${result.scratchDatabase}"` : `"${result.scratchDatabase}" was already gone`);
    return { target: target.name, database: result.database, scratchDatabase: result.scratchDatabase, dropped: existed };
  } finally {
    await admin.end().catch(() => {});
  }
}
