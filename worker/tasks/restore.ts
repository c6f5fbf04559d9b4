// Restores that prove themselves: preflight (file, checksum, tools, roles, destination), restore into a new or
// side database, integrity checks against what the backup recorded, then for production a swap with a measured
// outage (or the runbook's in-place method), and for drills a timed scratch restore that is dropped afterwards.
import { execa } from 'execa';
import { readFile, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { getDb } from '../../lib/db';
import { UserError, type ErrorCode } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { ToolError } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { targetConn } from '../../lib/targets/target-conn';
import { connect, toolEnv } from '../pg/connect';
import { parseServerVersionNum, toolsFor, type ToolSet } from '../pg/tools';
import { parseRestoreLine, pgRestoreArgs, splitTable } from '../pg/pg-restore';
import { checksumOf, loadBackup, readToc } from '../restore/archive';
import { decompressAndHash } from '../pg/pipeline';
import { allowConnections, blockAndTerminate, connectionCount, createDatabase, databaseExists, dropDatabase, fitName, quoteIdent, renameDatabase, stamp } from '../restore/database-ops';
import { runHook, type HookOutcome } from '../restore/hooks';
import { parsePreData, readPreData, tableExtras, type TableExtras } from '../restore/owned-sequences';
import { createRolesSql, parseGlobals, planRoles, type RolePlan, type SavedRole } from '../restore/roles';
import { applyDatabaseProperties, describeProperties, NOT_RECORDED, propertiesOf, type DatabaseProperties } from '../restore/database-properties';
import { fingerprintSql } from '../../lib/backups/table-fingerprint';

type RestorePayload = JobPayload<'restore'>;
type Target = NonNullable<Awaited<ReturnType<ReturnType<typeof getDb>['target']['findUnique']>>>;

export interface Check {
  name: string;
  expected: string | number | null;
  actual: string | number | null;
  ok: boolean;
}

const tail = (s: string, n = 8000) => (s.length > n ? s.slice(-n) : s);

interface Plan {
  backup: Awaited<ReturnType<typeof loadBackup>>['backup'];
  path: string;
  storageRoot: string;
  dest: Target;
  source: Target | null;
  prod: string;
  workDb: string;
  mode: RestorePayload['destination']['mode'];
  method: 'swap' | 'in-place' | null;
  tools: ToolSet;
  toc: Awaited<ReturnType<typeof readToc>>;
  /** The roles to create, with the attributes they will get (shown in the preflight as they will be run). */
  roles: RolePlan[];
  globals: Map<string, SavedRole>;
  /** The archive's tables the picks name, and what they need besides (partitions, owned sequences, statements). */
  picked: string[];
  extras: TableExtras;
  properties: DatabaseProperties | null;
  report: Record<string, unknown>;
}

/** Throws BACKUP_CHECKSUM_MISMATCH unless the file is the same bytes the backup wrote. */
async function verifyChecksum(ctx: JobContext<RestorePayload>, backup: Plan['backup'], path: string) {
  const sum = await checksumOf(path, ctx.signal);
  if (backup.checksumSha256 && sum.sha256 !== backup.checksumSha256) {
    throw new UserError('BACKUP_CHECKSUM_MISMATCH', `The file ${backup.backupFile} does not match its recorded SHA-256 (recorded ${backup.checksumSha256.slice(0, 16)}…, now ${sum.sha256.slice(0, 16)}…, ${sum.size} bytes).`);
  }
  await ctx.log(`file ${path}: ${sum.size} bytes, SHA-256 matches the catalog`);
  return sum;
}

/** The side database of a swap or in-place restore: the preflight's name when it was passed on, else a new one. */
export function sideName(prod: string, asked: string | undefined, s = stamp()): string {
  const m = asked ? /_restore_\d{8}t\d{6}z$/.exec(asked) : null;
  // Only a name this function would make for production: a payload cannot aim the restore at another database.
  if (asked && m && asked === fitName(prod, m[0])) return asked;
  return fitName(prod, `_restore_${s}`);
}

/** The archive's tables that the picks name ("schema.table", or a bare name found in one schema). */
function resolveTables(tocTables: string[], picks: string[]): { picked: string[]; unknown: string[] } {
  const picked: string[] = [];
  const unknown: string[] = [];
  for (const x of picks) {
    const hit = tocTables.includes(x) ? [x] : tocTables.filter((t) => t.endsWith(`.${x}`));
    if (hit.length) picked.push(...hit);
    else unknown.push(x);
  }
  return { picked: [...new Set(picked)], unknown };
}

/** The archive's pre-data script through zstd for a .zst file (pg_restore reads a custom archive from a pipe). */
async function preDataOf(path: string, format: string | null, pgRestore: string, signal: AbortSignal) {
  if (format !== 'custom-zstd') return readPreData(path, pgRestore, signal);
  const r = await execa('zstd', ['-dc', '-q', path], { cancelSignal: signal, reject: false, buffer: { stdout: false } }).pipe(pgRestore, ['--section=pre-data', '--file=-'], { cancelSignal: signal, reject: false, maxBuffer: 512 * 1024 * 1024 });
  if (r.exitCode !== 0) throw new ToolError('BACKUP_UNREADABLE', 'pg_restore could not read the definitions in the archive.', String(r.stderr).slice(-4000));
  return parsePreData(String(r.stdout));
}

/**
 * Everything that can be checked before a database is touched; problems are collected, then the first is thrown.
 * `checksum: 'now'` verifies the file before anything else (preflight, and before an in-place restore drops
 * production); 'later' leaves it to the caller, which hashes while pg_restore runs into a side database and
 * refuses the result before any check or swap if the bytes differ.
 */
async function preflight(ctx: JobContext<RestorePayload>, p: RestorePayload, admin: () => Promise<pg.Client>, checksum: 'now' | 'later' = 'now'): Promise<Plan> {
  const db = getDb();
  const problems: { code: string; message: string; hint?: string }[] = [];

  // file: present, and (now or during the restore) the same bytes the backup wrote.
  await ctx.step('checking the backup file');
  const { backup, path, storage } = await loadBackup(BigInt(p.backupId));
  const sum = checksum === 'now' ? await verifyChecksum(ctx, backup, path) : { ...(await checksumOfSizeOnly(path)), sha256: backup.checksumSha256 ?? '' };

  // destination: the chosen target, or the backup's own for production and drills.
  const source = backup.targetId ? await db.target.findUnique({ where: { id: backup.targetId } }) : null;
  const dest = p.destination.mode === 'new' ? await db.target.findUnique({ where: { id: p.destination.targetId } }) : source;
  if (!dest) throw new UserError('NOT_FOUND', p.destination.mode === 'new' ? 'The destination target does not exist.' : 'The backup\'s target was deleted; restore it to a new database on another target.');
  const prod = backup.databaseName ?? dest.database ?? '';
  const mode = p.destination.mode;
  const method = p.destination.mode === 'replace' ? p.destination.method : null;
  // Swap and in-place both restore under a side name: production's name appears only when the copy is checked.
  const workDb = mode === 'new' ? p.destination.database : mode === 'drill' ? fitName(prod, `_drill_${stamp()}`) : sideName(prod, p.sideDatabase);

  // tools: a pg_restore at least as new as the archive's pg_dump and the destination server.
  await ctx.step('connecting to the destination');
  const c = await admin();
  const v = (await c.query<{ num: string; ver: string }>("SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS ver")).rows[0]!;
  const serverMajor = parseServerVersionNum(v.num).major;
  const probe = await toolsFor(serverMajor, v.ver);
  const toc = await readToc(path, backup.format, probe.path('pg_restore'), ctx.signal).catch(async (err) => {
    if (checksum === 'later') await verifyChecksum(ctx, backup, path); // a damaged file says more than "unreadable"
    throw err;
  });
  const tools = toc.dumpedByMajor && toc.dumpedByMajor > probe.major ? await toolsFor(toc.dumpedByMajor, toc.dumpedBy ?? '') : probe;

  // tables: every pick is in the archive; a picked table brings its partitions and the sequences it owns.
  const { picked, unknown } = resolveTables(toc.tables, p.tables);
  if (unknown.length) problems.push({ code: 'TABLES_NOT_IN_ARCHIVE', message: `Not in the archive: ${unknown.join(', ')}. Its tables are: ${toc.tables.slice(0, 50).join(', ')}${toc.tables.length > 50 ? ', …' : ''}.` });
  const extras: TableExtras = picked.length ? tableExtras(await preDataOf(path, backup.format, tools.path('pg_restore'), ctx.signal), picked) : { partitions: [], sequences: [], statements: [] };

  // roles: every owner in the archive exists on the destination, or (an admin's restore) the saved globals create it.
  const existing = new Set((await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [toc.owners])).rows.map((r) => r.rolname));
  const missing = toc.owners.filter((o) => !existing.has(o));
  const globalsPath = backup.globalsFile ? storage.localPath(backup.globalsFile) : null;
  const globals = parseGlobals(globalsPath ? await readFile(globalsPath, 'utf8').catch(() => '') : '');
  const roles = p.withoutOwners || !p.createRoles ? [] : planRoles(globals, missing, p.roleGrants);
  const uncreatable = missing.filter((r) => !globals.has(r));
  if (missing.length && !p.withoutOwners) {
    if (!p.createRoles) {
      problems.push({ code: 'ROLES_NEED_ADMIN', message: `The archive's objects are owned by role(s) missing on ${dest.name}: ${missing.join(', ')}. Only an admin's restore creates roles; ask an admin, or restore without owners (the restoring login then owns everything and no privileges are restored).` });
    } else if (uncreatable.length) {
      problems.push({ code: 'ROLES_MISSING', message: `The archive's objects are owned by role(s) missing on the destination and not in the saved globals: ${uncreatable.join(', ')}.` });
    }
  }

  // destination name: free for a new or side database; production's open connections for a replace.
  if (await databaseExists(c, workDb)) problems.push({ code: 'DESTINATION_EXISTS', message: `A database named "${workDb}" already exists on ${dest.name}.` });
  const prodConnections = mode === 'replace' && (await databaseExists(c, prod)) ? await connectionCount(c, prod) : null;

  // space: where it can be checked (the destination's data directory is on this worker's host and readable).
  const space = await freeSpace(c, dest, source, backup, sum.size);
  if (space && space.freeBytes < space.neededBytes) {
    problems.push({ code: 'DISK_FULL', message: `The destination's data directory has ${gib(space.freeBytes)} free; the restore needs about ${gib(space.neededBytes)} (${space.basis}).` });
  }
  const properties = propertiesOf(backup.manifest);
  const report = {
    file: { path, size: sum.size, sha256: sum.sha256, matchesCatalog: checksum === 'now' ? true : 'checked during the restore' },
    archive: { format: toc.format, dumpedBy: toc.dumpedBy, dumpedFrom: toc.dumpedFrom, entries: toc.entries.length, tables: toc.tables, partitions: toc.partitions, schemas: toc.schemas },
    tool: { pgRestore: tools.version, binDir: tools.binDir },
    destination: { target: dest.name, serverVersion: v.ver, database: workDb, production: mode === 'replace' ? prod : null, productionConnections: prodConnections },
    space,
    roles: { owners: toc.owners, missing, createdFromGlobals: roles.map((r) => r.name), toCreate: roles, withoutOwners: p.withoutOwners },
    tables: p.tables.length ? { picked, partitions: extras.partitions, sequences: extras.sequences, unknown } : null,
    databaseProperties: { recorded: !!properties, summary: describeProperties(properties), properties },
    problems,
  };
  await ctx.log(`preflight: ${problems.length ? problems.map((x) => x.message).join(' ') : 'all checks passed'}`);
  await ctx.log(`database properties: ${describeProperties(properties)}`);
  return { backup, path, storageRoot: storage.root, dest, source, prod, workDb, mode, method, tools, toc, roles, globals, picked, extras, properties, report };
}

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(2)} GiB`;

/**
 * Free space in the destination's data directory, when the server runs on this host and tells its data directory
 * (superuser or pg_read_all_settings); null otherwise. The need is the source database's size from its last
 * connection test, or else a multiple of the archive (compressed archives are several times smaller).
 */
async function freeSpace(c: pg.Client, dest: Target, source: Target | null, backup: Plan['backup'], archiveBytes: number) {
  if (!['127.0.0.1', 'localhost', '::1'].includes(dest.host)) return null;
  const dir = await c.query<{ d: string }>("SELECT current_setting('data_directory') AS d").then((r) => r.rows[0]!.d, () => null);
  if (!dir) return null;
  const st = await statfs(dir).catch(() => null);
  if (!st) return null;
  const sizes = ((source ?? dest).lastCheck as { sizes?: { database: string; bytes: number }[] } | null)?.sizes ?? [];
  const known = sizes.find((x) => x.database === backup.databaseName)?.bytes;
  const factor = backup.format === 'custom-zstd' ? 5 : 2;
  return {
    dataDirectory: dir,
    freeBytes: st.bavail * st.bsize,
    neededBytes: known ?? archiveBytes * factor,
    basis: known ? 'the source database\'s size at its last connection test' : `${factor}x the archive, an estimate`,
  };
}

export async function restorePreflight(ctx: JobContext<RestorePayload>) {
  const clients: pg.Client[] = [];
  try {
    const plan = await preflight(ctx, ctx.payload, async () => adminFor(clients, await targetFor(ctx.payload)));
    // In place drops production: its preflight reads the whole file too, as the restore will before the drop.
    if (ctx.payload.destination.mode === 'replace' && ctx.payload.destination.method === 'in-place' && !(plan.report.problems as unknown[]).length) {
      await decodeWhole(ctx, plan, plan.path, plan.backup.format);
      (plan.report.file as Record<string, unknown>).decodedToTheEnd = true;
    }
    return plan.report;
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}

async function targetFor(p: RestorePayload): Promise<Target> {
  const db = getDb();
  if (p.destination.mode === 'new') {
    const t = await db.target.findUnique({ where: { id: p.destination.targetId } });
    if (!t) throw new UserError('NOT_FOUND', 'The destination target does not exist.');
    return t;
  }
  const b = await db.backupLog.findUnique({ where: { id: BigInt(p.backupId) }, select: { targetId: true } });
  const t = b?.targetId ? await db.target.findUnique({ where: { id: b.targetId } }) : null;
  if (!t) throw new UserError('NOT_FOUND', "The backup's target was deleted; restore it to a new database on another target.");
  return t;
}

async function adminFor(clients: pg.Client[], t: Target): Promise<pg.Client> {
  if (clients[0]) return clients[0];
  // The maintenance database: "postgres", where CREATE/DROP/RENAME DATABASE can run without being inside the target.
  const c = await connect(targetConn(t, 'postgres'));
  clients.push(c);
  return c;
}

export async function restore(ctx: JobContext<RestorePayload>) {
  return runRestore(ctx, ctx.payload);
}

/** The whole restore; used by the restore job and by drills. */
async function checksumOfSizeOnly(path: string) {
  const st = await stat(path).catch(() => null);
  if (!st) throw new UserError('BACKUP_FILE_MISSING', `The backup file ${path} is not there.`, 'Check the storage on the worker host; the file may have been moved or deleted by hand.');
  return { size: st.size };
}

/** archive: a .zst is decompressed to a file first, because pg_restore --jobs needs to seek. */
async function decompressArchive(ctx: JobContext<RestorePayload>, plan: Plan, onTemp: (path: string) => void): Promise<{ archive: string; checksummed: boolean }> {
  if (plan.backup.format !== 'custom-zstd') return { archive: plan.path, checksummed: false };
  // A .zst is decompressed to a file first, because pg_restore --jobs needs to seek; its checksum is taken meanwhile
  // on the core zstd leaves idle, not later beside pg_restore, which needs both.
  await ctx.step('decompressing the archive');
  const temp = join(plan.storageRoot, `.restore-${ctx.jobId}.dump`);
  onTemp(temp);
  await ctx.trackPartial(temp);
  const z = await decompressAndHash(plan.path, temp, ctx.signal);
  // A damaged file is the likelier story of a failed decompression: the checksum says so first.
  if (plan.backup.checksumSha256 && z.sha256 !== plan.backup.checksumSha256) {
    throw new UserError('BACKUP_CHECKSUM_MISMATCH', `The file ${plan.backup.backupFile} does not match its recorded SHA-256 (recorded ${plan.backup.checksumSha256.slice(0, 16)}…, now ${z.sha256.slice(0, 16)}…, ${z.size} bytes).`);
  }
  if (z.exitCode !== 0) throw new ToolError('BACKUP_UNREADABLE', 'zstd could not decompress the archive.', z.stderr);
  await ctx.log(`file ${plan.path}: ${z.size} bytes, ${plan.backup.checksumSha256 ? 'SHA-256 matches the catalog' : `SHA-256 ${z.sha256} (the catalog records none to compare)`} (hashed while decompressing)`);
  return { archive: temp, checksummed: true };
}

/**
 * Reads every data block of the archive (pg_restore to /dev/null; a .zst through zstd): its table of contents is at
 * the start, so a file cut short still lists, and only decoding it to the end proves it can be restored.
 */
async function decodeWhole(ctx: JobContext<RestorePayload>, plan: Plan, archive: string, format: string | null) {
  await ctx.step('reading every block of the archive');
  const opts = { cancelSignal: ctx.signal, reject: false } as const;
  const r =
    format === 'custom-zstd'
      ? await execa('zstd', ['-dc', '-q', archive], { ...opts, buffer: { stdout: false } }).pipe(plan.tools.path('pg_restore'), ['--file=/dev/null'], opts)
      : await execa(plan.tools.path('pg_restore'), ['--file=/dev/null', archive], { ...opts, stdin: 'ignore' });
  const zstdFailed = format === 'custom-zstd' && (r.pipedFrom[0]?.exitCode ?? 0) !== 0;
  if (r.exitCode !== 0 || zstdFailed) {
    const last = String(r.stderr || r.pipedFrom[0]?.stderr || '').trim().split('\n').pop()?.replace(/^pg_restore: error: /, '');
    throw new ToolError('BACKUP_UNREADABLE', `The archive cannot be read to its end${last ? ` (${last})` : ''}: it is cut short or damaged.`, tail(String(r.stderr || r.pipedFrom[0]?.stderr || '')));
  }
  await ctx.log('archive read to its end: every block decodes');
}

/** A signal nobody aborts: past the point of no return a restore finishes from the same file whatever is asked. */
const unstoppable = new AbortController().signal;

/** The error, its message completed with what is true of production now (and the hint replaced when given). */
function restate(err: unknown, extra: string, hint?: string, code?: ErrorCode): UserError {
  const c = code ?? (err instanceof UserError ? err.code : 'PRODUCTION_DROPPED');
  const message = `${err instanceof Error ? err.message : String(err)} ${extra}`.trim();
  if (err instanceof ToolError) return new ToolError(c, message, err.detail, hint ?? err.hint);
  return new UserError(c, message, hint ?? (err instanceof UserError ? err.hint : undefined));
}

/** The newest good backup of production's database to restore from, this one unless the file is to blame. */
async function lastGoodBackup(plan: Plan, err: unknown) {
  const fileToBlame = err instanceof UserError && /^(BACKUP_|RESTORE_FAILED|CHECKS_FAILED)/.test(err.code);
  return getDb().backupLog.findFirst({
    where: {
      targetId: plan.backup.targetId,
      databaseName: plan.prod,
      status: 'succeeded',
      deletedAt: null,
      ...(fileToBlame ? { id: { not: plan.backup.id } } : {}),
    },
    orderBy: { createdAt: 'desc' },
    select: { id: true, createdAt: true },
  });
}

export async function runRestore(ctx: JobContext<RestorePayload>, p: RestorePayload) {
  const started = Date.now();
  const clients: pg.Client[] = [];
  const dest = await targetFor(p);
  const admin = () => adminFor(clients, dest);
  const inPlace = p.destination.mode === 'replace' && p.destination.method === 'in-place';
  const plan = await preflight(ctx, p, admin, inPlace ? 'now' : 'later');
  const first = (plan.report.problems as { code: string; message: string }[])[0];
  if (first) throw new UserError(first.code as 'ROLES_MISSING', first.message);
  const c = await admin();
  const pass = await toolEnv(targetConn(dest, 'postgres'));
  if (pass.dir) await ctx.trackPartial(pass.dir);
  let temp: string | null = null;
  let created = false;
  let restored = false; // pg_restore finished: the copy is whole
  let droppedAt: Date | null = null; // in place: production is gone from here until the copy takes its name
  let downtimeStart: number | null = null;
  let prodMoved = false; // a swap renamed production aside
  let prodExisted = true;
  // Until an in-place restore drops production, a cancel stops it; from then on nothing does.
  let signal = ctx.signal;
  const hooks: Record<string, HookOutcome> = {};
  const hookInfo = { target: plan.dest.name, database: plan.prod };
  try {
    const { archive, checksummed } = await decompressArchive(ctx, plan, (t) => (temp = t));

    // in place: production is dropped only for a file that decodes to its last byte.
    if (inPlace) await decodeWhole(ctx, plan, archive, archive === plan.path ? plan.backup.format : 'custom');

    // roles: only the missing owners, and only as an admin allowed (built statements, never lines of the globals).
    if (plan.roles.length) {
      await ctx.step('creating missing roles');
      const sql = createRolesSql(plan.globals, plan.roles);
      const r = await execa(plan.tools.path('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres', '-f', '-'], { input: sql, env: { ...process.env, ...pass.env }, extendEnv: false, cancelSignal: ctx.signal, reject: false, all: true });
      if (r.exitCode !== 0) throw new ToolError('ROLES_MISSING', `Creating the roles ${plan.roles.map((x) => x.name).join(', ')} failed.`, tail(String(r.all ?? '').replace(/PASSWORD '[^']*'/g, "PASSWORD '…'")));
      for (const x of plan.roles) await ctx.log(`role created: ${x.name} ${x.attributes.join(' ')}${x.password ? ' with its saved password' : ' without a password'}`);
    }

    // in place (runbook): hook, then production goes away; the outage lasts until the checked copy takes its name.
    if (inPlace) {
      await ctx.step('running the pre-restore hook');
      const pre = await runHook(plan.dest.preRestoreHook, 'pre-restore', hookInfo, ctx.signal);
      if (pre) hooks.pre = pre;
      await ctx.step('taking production offline (in-place restore)');
      // The point of no return: from here the job finishes restoring from this file, whatever it is asked.
      await ctx.commit();
      signal = unstoppable;
      downtimeStart = Date.now();
      prodExisted = await databaseExists(c, plan.prod);
      if (prodExisted) {
        try {
          await blockAndTerminate(c, plan.prod);
          await dropDatabase(c, plan.prod);
        } catch (err) {
          // Not dropped after all: it takes connections again, and the failure below says so once read back.
          await allowConnections(c, plan.prod).catch(() => {});
          throw err;
        }
        await ctx.log(`production "${plan.prod}" dropped; it stays absent until the restored copy "${plan.workDb}" has passed its checks`, 'warn');
      }
      droppedAt = new Date();
    }

    // restore: into a fresh database, in parallel, stopping at the first error.
    await ctx.step(`restoring into "${plan.workDb}"`);
    await createDatabase(c, plan.workDb);
    created = true;
    const tables = plan.picked.length ? [...plan.picked, ...plan.extras.partitions, ...plan.extras.sequences] : [];
    if (tables.length) await createSchemas(plan, tables);
    const restoreStarted = Date.now();
    // The checksum runs beside pg_restore (into a side database, so nothing is at stake until it agrees).
    const checksum = inPlace || checksummed ? null : verifyChecksum(ctx, plan.backup, plan.path);
    checksum?.catch(() => {}); // awaited below; a mismatch must not surface as an unhandled rejection first
    try {
      await pgRestore(ctx, plan, archive, pass.env, p, tables, signal);
    } catch (err) {
      await checksum; // a damaged file explains a failed restore better than pg_restore's words
      throw err;
    }
    await checksum;
    // pg_restore --table leaves out what ties a picked table to its sequences and partitions: the archive's own words.
    if (plan.extras.statements.length && p.section !== 'data') await runIn(plan, plan.extras.statements);
    restored = true;
    const restoreMs = Date.now() - restoreStarted;

    // checks: row counts recorded at backup time, and the target's own check statements.
    await ctx.step('running integrity checks');
    const { checks, notRun } = p.runChecks ? await runChecks(ctx, plan, p) : { checks: [], notRun: ['checks were turned off for this restore'] };
    const checksOk = checks.every((x) => x.ok);
    for (const x of checks) await ctx.log(`check ${x.ok ? 'ok    ' : 'FAILED'} ${x.name}: expected ${x.expected ?? '—'}, got ${x.actual ?? '—'}`, x.ok ? 'info' : 'error');

    const result: Record<string, unknown> = {
      mode: plan.mode,
      method: plan.method,
      target: plan.dest.name,
      database: plan.workDb,
      backupId: String(plan.backup.id),
      restoreMs,
      checks,
      checksOk,
      checksRan: checks.length,
      checksNotRun: notRun,
    };

    // properties: owner, privileges, settings, comment, connection limit, before the copy takes its final name.
    if (plan.mode !== 'drill' && (checksOk || plan.mode === 'new')) {
      if (plan.properties) {
        await ctx.step('applying the database properties');
        const applied = await applyDatabaseProperties(c, plan.workDb, plan.properties);
        await ctx.log(`database properties applied (${describeProperties(plan.properties)})${applied.skipped.length ? `; skipped: ${applied.skipped.join(', ')}` : ''}`);
        result.databaseProperties = { applied: true, skipped: applied.skipped };
      } else {
        await ctx.log(`${NOT_RECORDED}: the restored database has the server's defaults (owner, privileges, settings)`, 'warn');
        result.databaseProperties = { applied: false, reason: NOT_RECORDED };
      }
    }

    if (plan.mode === 'drill') {
      // drill: the scratch copy has served its purpose.
      await ctx.step('dropping the scratch database');
      await dropDatabase(c, plan.workDb);
      created = false; // the drill task records the checks, and fails the job when one is red
    } else if (plan.mode === 'replace' && plan.method === 'swap') {
      if (!checksOk) throw new UserError('CHECKS_FAILED', `${checks.filter((x) => !x.ok).length} check(s) failed on the restored copy.`);
      // swap: hook, block and end production's connections, two renames, hook. Only this part is an outage.
      await ctx.step('running the pre-restore hook');
      const pre = await runHook(plan.dest.preRestoreHook, 'pre-restore', hookInfo, ctx.signal);
      if (pre) hooks.pre = pre;
      await ctx.step('swapping production');
      const kept = fitName(plan.prod, `_before_restore_${stamp()}`);
      const prodExists = await databaseExists(c, plan.prod);
      const keptCopySize = prodExists ? Number((await c.query<{ n: string }>('SELECT pg_database_size($1) AS n', [plan.prod])).rows[0]!.n) : null;
      // The swap is the point of no return: from here a cancel is refused (a cancel asked before it wins, and
      // production is still untouched), and the job ends succeeded whatever is asked of it (see lifecycle).
      await ctx.commit();
      // The outage starts here: production stops taking connections.
      downtimeStart = Date.now();
      const terminated = prodExists ? await blockAndTerminate(c, plan.prod) : 0;
      if (prodExists) await renameDatabase(c, plan.prod, kept);
      prodMoved = prodExists;
      try {
        await renameDatabase(c, plan.workDb, plan.prod);
      } catch (err) {
        // Put production back under its name before reporting.
        if (prodExists) await renameDatabase(c, kept, plan.prod).then(() => allowConnections(c, plan.prod)).catch(() => {});
        throw err;
      }
      created = false;
      const downtimeMs = Date.now() - downtimeStart;
      // The kept copy may be opened (to look at or copy data from); production's name now points at the restored one.
      if (prodExists) await allowConnections(c, kept).catch(() => {});
      await ctx.log(
        prodExists
          ? `swapped: "${plan.prod}" is the restored copy; the previous database is kept as "${kept}" (${terminated} connection(s) ended, outage ${downtimeMs} ms)`
          : `"${plan.prod}" did not exist on ${plan.dest.name}: the restored copy took its name; there is no previous database to keep`,
      );
      const post = await postHook(ctx, plan, hookInfo);
      if (post) hooks.post = post;
      Object.assign(result, { database: plan.prod, keptCopy: prodExists ? kept : null, keptCopySize, downtimeMs, connectionsEnded: terminated });
    } else if (plan.mode === 'replace') {
      // in place: the copy takes production's name only once it is whole and checked.
      if (!checksOk) throw new UserError('CHECKS_FAILED', `${checks.filter((x) => !x.ok).length} check(s) failed on the restored copy, so it did not take production's name.`);
      await ctx.step('opening production');
      await renameDatabase(c, plan.workDb, plan.prod);
      created = false;
      droppedAt = null;
      const downtimeMs = Date.now() - downtimeStart!;
      await ctx.log(`"${plan.prod}" is the restored, checked copy again (outage ${downtimeMs} ms)`);
      const post = await postHook(ctx, plan, hookInfo);
      if (post) hooks.post = post;
      Object.assign(result, { database: plan.prod, keptCopy: null, downtimeMs });
    } else {
      created = false; // a new database is the result, kept even when a check failed (the result page shows it red)
    }
    if (hooks.pre || hooks.post) result.hooks = hooks;
    result.durationMs = Date.now() - started;
    return result;
  } catch (err) {
    if (droppedAt) {
      // In place, past the drop: say exactly what is where, and what to restore from.
      let copy: string;
      if (restored) copy = `The restored copy is whole and kept as "${plan.workDb}" (it did not take production's name); look at it, then rename it to "${plan.prod}" or drop it.`;
      else {
        const gone = await dropDatabase(c, plan.workDb).then(() => true, () => false);
        copy = gone || !created ? `The partly restored copy "${plan.workDb}" was dropped.` : `The partly restored copy "${plan.workDb}" is left on ${plan.dest.name}; drop it.`;
      }
      const good = await lastGoodBackup(plan, err).catch(() => null);
      const exists = await databaseExists(c, plan.prod).catch(() => null);
      const state = !prodExisted
        ? `Production "${plan.prod}" did not exist when this restore began${exists ? '; a database of that name exists now (not made by this restore).' : ' and does not exist now.'}`
        : exists
          ? `Production "${plan.prod}" was dropped at ${droppedAt.toISOString()}; a database of that name exists again (not made by this restore).`
          : `Production "${plan.prod}" does not exist now: this in-place restore dropped it at ${droppedAt.toISOString()}.`;
      const what = good
        ? `Restore "${plan.prod}" again from backup #${good.id} of ${good.createdAt.toISOString()}, the newest good backup of it${good.id === plan.backup.id ? '' : ' other than this one'} (restore then swap, or a new database).`
        : `No other good backup of "${plan.prod}" is left; restore again from backup #${plan.backup.id} once the cause above is fixed, or from the kept copy.`;
      throw restate(err, `${state} ${copy}`, what);
    }
    // Before the drop or the swap production is untouched: the side database goes away.
    if (created) await dropDatabase(c, plan.workDb).catch((e) => ctx.log(`could not drop "${plan.workDb}": ${(e as Error).message}`, 'error'));
    if (plan.mode === 'replace' && !(err instanceof UserError && err.code === 'JOB_CANCELLED')) {
      // Said only after reading it back.
      const there = await databaseExists(c, plan.prod).catch(() => null);
      if (there) throw restate(err, prodMoved ? `Production "${plan.prod}" was renamed for the swap and renamed back (checked: it is there).` : `Production "${plan.prod}" was not dropped or renamed (checked: it is still there).`);
    }
    throw err;
  } finally {
    if (temp) {
      await rm(temp, { force: true });
      await ctx.untrackPartial(temp).catch(() => {});
    }
    await pass.cleanup();
    if (pass.dir) await ctx.untrackPartial(pass.dir).catch(() => {});
    await Promise.all(clients.map((x) => x.end().catch(() => {})));
  }
}

/** Past the swap or the rename a cancel no longer applies: the hook gets its own time limit, and a failure is logged. */
async function postHook(ctx: JobContext<RestorePayload>, plan: Plan, info: { target: string; database: string }) {
  await ctx.step('running the post-restore hook');
  const post = await runHook(plan.dest.postRestoreHook, 'post-restore', info, unstoppable).catch(async (err) => {
    await ctx.log(`post-restore hook failed (production is restored): ${(err as Error).message}`, 'error');
    return null;
  });
  if (post) await ctx.log(`post-restore hook ran: exit ${post.exitCode ?? 'n/a'}, ${post.ms} ms (its output is in the job result, for admins)`);
  return post;
}

/** Statements from the archive, run in the restored database. */
async function runIn(plan: Plan, statements: string[]) {
  const client = await connect(targetConn(plan.dest, plan.workDb));
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Schemas of the chosen tables, which pg_restore --table does not create. */
async function createSchemas(plan: Plan, tables: string[]) {
  const client = await connect(targetConn(plan.dest, plan.workDb));
  try {
    for (const schema of new Set(tables.map((t) => splitTable(t).schema))) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function pgRestore(ctx: JobContext<RestorePayload>, plan: Plan, archive: string, env: Record<string, string>, p: RestorePayload, tables: string[], signal: AbortSignal) {
  const total = Math.max(1, plan.toc.entries.length);
  let done = 0;
  let current = '';
  let rest = '';
  let pending: string[] = [];
  const args = pgRestoreArgs(archive, plan.workDb, { jobs: p.jobs, schemas: p.schemas, tables, section: p.section });
  // --no-owner --no-privileges: the restoring login owns everything and no GRANT names a role this server lacks.
  if (p.withoutOwners) args.splice(args.length - 1, 0, '--no-owner', '--no-privileges');
  const child = execa(plan.tools.path('pg_restore'), args, {
    env: { ...process.env, ...env },
    extendEnv: false,
    cancelSignal: signal,
    reject: false,
    stdin: 'ignore',
    buffer: { stdout: false, stderr: true },
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const r = parseRestoreLine(line);
      if (r.done) done++;
      if (r.object) current = r.object;
      if (line.trim() && pending.length < 5000) pending.push(line);
    }
  });
  const flush = async () => {
    const lines = pending;
    pending = [];
    // Queued in one go: the log keeps call order, so a timer flush and the last flush cannot interleave.
    await Promise.all(lines.map((l) => ctx.log(l, /error/i.test(l) ? 'error' : 'info')));
  };
  const tick = setInterval(() => {
    void flush().catch(() => {});
    void ctx.progress(Math.min(99, (done / total) * 100), `${done} of ${total} items${current ? ` · ${current}` : ''}`).catch(() => {});
  }, 1000);
  try {
    const r = await child;
    if (signal.aborted) throw signal.reason;
    if (r.exitCode !== 0) {
      const last = String(r.stderr).trim().split('\n').filter((l) => /error/i.test(l)).pop();
      throw new ToolError('RESTORE_FAILED', `pg_restore failed (exit ${r.exitCode ?? r.signal})${last ? `: ${last.replace(/^pg_restore: error: /, '')}` : ''}.`, tail(String(r.stderr)));
    }
  } finally {
    clearInterval(tick);
    await flush().catch(() => {});
  }
}

async function runChecks(ctx: JobContext<RestorePayload>, plan: Plan, p: RestorePayload): Promise<{ checks: Check[]; notRun: string[] }> {
  const checks: Check[] = [];
  // Checks that exist for this target but did not apply to this restore, and why: never "none configured" for them.
  const notRun: string[] = [];
  const client = await connect(targetConn(plan.dest, plan.workDb));
  try {
    const restoredTables = new Set(plan.picked.length ? [...plan.picked, ...plan.extras.partitions] : plan.toc.tables);
    const counts = (plan.backup.keyTableCounts ?? {}) as Record<string, number>;
    const sums = ((plan.backup.manifest as { keyTableChecksums?: Record<string, string> } | null)?.keyTableChecksums ?? {}) as Record<string, string>;
    for (const [table, expected] of Object.entries(counts)) {
      if (p.section === 'schema') {
        notRun.push(`row count ${table}: only the schema was restored`);
        continue;
      }
      if (!restoredTables.has(table)) {
        notRun.push(`row count ${table}: ${plan.toc.tables.includes(table) ? 'not among the restored tables' : 'not in the archive'}`);
        continue;
      }
      try {
        const fp = (await client.query<{ n: string; h: string }>(fingerprintSql(table.split('.').map(quoteIdent).join('.')))).rows[0]!;
        const n = Number(fp.n);
        checks.push({ name: `row count ${table}`, expected, actual: n, ok: n === expected });
        // Content, where the backup recorded it: the same rows, not only as many.
        if (sums[table] !== undefined) checks.push({ name: `content checksum ${table}`, expected: sums[table]!, actual: fp.h, ok: fp.h === sums[table] });
      } catch (err) {
        checks.push({ name: `row count ${table}`, expected, actual: `error: ${(err as Error).message}`, ok: false });
      }
    }
    if (!Object.keys(counts).length && (plan.source ?? plan.dest).keyTables.length) notRun.push('row counts: this backup recorded none for the key tables');
    // The target's own statements describe its data: the source target's, wherever the copy went.
    const statements = (plan.source ?? plan.dest).checkStatements;
    if (p.section === 'all' && !p.tables.length && !p.schemas.length) {
      for (const sql of statements) {
        try {
          const r = await client.query(sql);
          checks.push({ name: sql, expected: 'runs without error', actual: `${r.rowCount ?? 0} row(s)${r.rows[0] ? `: ${JSON.stringify(r.rows[0]).slice(0, 200)}` : ''}`, ok: true });
        } catch (err) {
          checks.push({ name: sql, expected: 'runs without error', actual: `error: ${(err as Error).message}`, ok: false });
        }
      }
    } else {
      for (const sql of statements) notRun.push(`${sql}: not run on a partial restore (${p.section !== 'all' ? `${p.section} only` : 'some tables or schemas'})`);
    }
  } finally {
    await client.end().catch(() => {});
  }
  if (!checks.length) {
    if (notRun.length) await ctx.log(`no checks ran: ${notRun.join('; ')}`, 'warn');
    else await ctx.log('no checks configured for this target (key tables or check statements)', 'warn');
  }
  return { checks, notRun };
}
