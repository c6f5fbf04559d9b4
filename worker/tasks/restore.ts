// Restores that prove themselves: preflight (file, checksum, tools, roles, destination), restore into a new or
// side database, integrity checks against what the backup recorded, then for production a swap with a measured
// outage (or the runbook's in-place method), and for drills a timed scratch restore that is dropped afterwards.
import { execa } from 'execa';
import { readFile, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
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
import { runHook } from '../restore/hooks';
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
  createRoles: string[];
  globalsPath: string | null;
  report: Record<string, unknown>;
}

/** Everything that can be checked before a database is touched; problems are collected, then the first is thrown. */
/** Throws BACKUP_CHECKSUM_MISMATCH unless the file is the same bytes the backup wrote. */
async function verifyChecksum(ctx: JobContext<RestorePayload>, backup: Plan['backup'], path: string) {
  const sum = await checksumOf(path, ctx.signal);
  if (backup.checksumSha256 && sum.sha256 !== backup.checksumSha256) {
    throw new UserError('BACKUP_CHECKSUM_MISMATCH', `The file ${backup.backupFile} does not match its recorded SHA-256 (recorded ${backup.checksumSha256.slice(0, 16)}…, now ${sum.sha256.slice(0, 16)}…, ${sum.size} bytes).`);
  }
  await ctx.log(`file ${path}: ${sum.size} bytes, SHA-256 matches the catalog`);
  return sum;
}

/**
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
  const s = stamp();
  const mode = p.destination.mode;
  const method = p.destination.mode === 'replace' ? p.destination.method : null;
  const workDb =
    mode === 'new' ? p.destination.database : mode === 'drill' ? fitName(prod, `_drill_${s}`) : method === 'swap' ? fitName(prod, `_restore_${s}`) : prod;

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

  // roles: every owner in the archive exists on the destination, or the saved globals create it.
  const existing = new Set((await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [toc.owners])).rows.map((r) => r.rolname));
  const missing = toc.owners.filter((o) => !existing.has(o));
  const globalsPath = backup.globalsFile ? storage.localPath(backup.globalsFile) : null;
  const globals = globalsPath ? await readFile(globalsPath, 'utf8').catch(() => '') : '';
  const createRoles = missing.filter((r) => new RegExp(`^CREATE ROLE ${quoteIdent(r).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')};|^CREATE ROLE ${r};`, 'm').test(globals));
  const uncreatable = missing.filter((r) => !createRoles.includes(r));
  if (uncreatable.length) problems.push({ code: 'ROLES_MISSING', message: `The archive's objects are owned by role(s) missing on the destination and not in the saved globals: ${uncreatable.join(', ')}.` });

  // destination name: free for a new or side database; production's open connections for a replace.
  const workExists = await databaseExists(c, workDb);
  if (mode !== 'replace' || method === 'swap') {
    if (workExists) problems.push({ code: 'DESTINATION_EXISTS', message: `A database named "${workDb}" already exists on ${dest.name}.` });
  }
  const prodConnections = mode === 'replace' && (await databaseExists(c, prod)) ? await connectionCount(c, prod) : null;

  // space: where it can be checked (the destination's data directory is on this worker's host and readable).
  const space = await freeSpace(c, dest, source, backup, sum.size);
  if (space && space.freeBytes < space.neededBytes) {
    problems.push({ code: 'DISK_FULL', message: `The destination's data directory has ${gib(space.freeBytes)} free; the restore needs about ${gib(space.neededBytes)} (${space.basis}).` });
  }
  const report = {
    file: { path, size: sum.size, sha256: sum.sha256, matchesCatalog: checksum === 'now' ? true : 'checked during the restore' },
    archive: { format: toc.format, dumpedBy: toc.dumpedBy, dumpedFrom: toc.dumpedFrom, entries: toc.entries.length, tables: toc.tables, partitions: toc.partitions, schemas: toc.schemas },
    tool: { pgRestore: tools.version, binDir: tools.binDir },
    destination: { target: dest.name, serverVersion: v.ver, database: workDb, production: mode === 'replace' ? prod : null, productionConnections: prodConnections },
    space,
    roles: { owners: toc.owners, missing, createdFromGlobals: createRoles },
    problems,
  };
  await ctx.log(`preflight: ${problems.length ? problems.map((x) => x.message).join(' ') : 'all checks passed'}`);
  return { backup, path, storageRoot: storage.root, dest, source, prod, workDb, mode, method, tools, toc, createRoles, globalsPath, report };
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
  let productionTouched = false;
  let downtimeStart: number | null = null;
  try {
    // archive: a .zst is decompressed to a file first, because pg_restore --jobs needs to seek; its checksum is
    // taken meanwhile on the core zstd leaves idle, not later beside pg_restore, which needs both.
    let archive = plan.path;
    let checksummed = false;
    if (plan.backup.format === 'custom-zstd') {
      await ctx.step('decompressing the archive');
      temp = join(plan.storageRoot, `.restore-${ctx.jobId}.dump`);
      await ctx.trackPartial(temp);
      const z = await decompressAndHash(plan.path, temp, ctx.signal);
      // a damaged file is the likelier story of a failed decompression: the checksum says so first
      if (plan.backup.checksumSha256 && z.sha256 !== plan.backup.checksumSha256) {
        throw new UserError('BACKUP_CHECKSUM_MISMATCH', `The file ${plan.backup.backupFile} does not match its recorded SHA-256 (recorded ${plan.backup.checksumSha256.slice(0, 16)}…, now ${z.sha256.slice(0, 16)}…, ${z.size} bytes).`);
      }
      if (z.exitCode !== 0) throw new ToolError('BACKUP_UNREADABLE', 'zstd could not decompress the archive.', z.stderr);
      await ctx.log(`file ${plan.path}: ${z.size} bytes, ${plan.backup.checksumSha256 ? 'SHA-256 matches the catalog' : `SHA-256 ${z.sha256} (the catalog records none to compare)`} (hashed while decompressing)`);
      checksummed = true;
      archive = temp;
    }

    // roles: only the missing owners are created from the saved globals (running the whole file would also
    // reset existing roles' passwords, the destination's superuser included).
    if (plan.createRoles.length && plan.globalsPath) {
      await ctx.step('creating missing roles from the saved globals');
      const sql = rolesSql(await readFile(plan.globalsPath, 'utf8'), plan.createRoles);
      const r = await execa(plan.tools.path('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres', '-f', '-'], { input: sql, env: { ...process.env, ...pass.env }, extendEnv: false, cancelSignal: ctx.signal, reject: false, all: true });
      if (r.exitCode !== 0) throw new ToolError('ROLES_MISSING', `Creating the roles ${plan.createRoles.join(', ')} from the saved globals failed.`, tail(String(r.all ?? '')));
      await ctx.log(`roles created from globals: ${plan.createRoles.join(', ')}`);
    }

    // in place (runbook): production goes away now; the outage lasts until the restore is done.
    if (plan.mode === 'replace' && plan.method === 'in-place') {
      await ctx.step('taking production offline (in-place restore)');
      downtimeStart = Date.now();
      productionTouched = true;
      if (await databaseExists(c, plan.prod)) {
        await blockAndTerminate(c, plan.prod);
        await dropDatabase(c, plan.prod);
      }
    }

    // restore: into a fresh database, in parallel, stopping at the first error.
    await ctx.step(`restoring into "${plan.workDb}"`);
    await createDatabase(c, plan.workDb);
    created = true;
    if (p.tables.length) await createSchemas(plan, p);
    const restoreStarted = Date.now();
    // The checksum runs beside pg_restore (into a side database, so nothing is at stake until it agrees).
    const checksum = inPlace || checksummed ? null : verifyChecksum(ctx, plan.backup, plan.path);
    checksum?.catch(() => {}); // awaited below; a mismatch must not surface as an unhandled rejection first
    try {
      await pgRestore(ctx, plan, archive, pass.env, p);
    } catch (err) {
      await checksum; // a damaged file explains a failed restore better than pg_restore's words
      throw err;
    }
    await checksum;
    const restoreMs = Date.now() - restoreStarted;

    // checks: row counts recorded at backup time, and the target's own check statements.
    await ctx.step('running integrity checks');
    const checks = p.runChecks ? await runChecks(ctx, plan, p) : [];
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
    };

    if (plan.mode === 'drill') {
      // drill: the scratch copy has served its purpose.
      await ctx.step('dropping the scratch database');
      await dropDatabase(c, plan.workDb);
      created = false; // the drill task records the checks, and fails the job when one is red
    } else if (plan.mode === 'replace' && plan.method === 'swap') {
      if (!checksOk) throw new UserError('CHECKS_FAILED', `${checks.filter((x) => !x.ok).length} check(s) failed on the restored copy; production was not touched.`);
      // swap: hook, block and end production's connections, two renames, hook. Only this part is an outage.
      await ctx.step('running the pre-restore hook');
      const pre = await runHook(plan.dest.preRestoreHook, 'pre-restore', { target: plan.dest.name, database: plan.prod }, ctx.signal);
      if (pre !== null) await ctx.log(`pre-restore hook: ${pre}`);
      await ctx.step('swapping production');
      const kept = fitName(plan.prod, `_before_restore_${stamp()}`);
      const prodExists = await databaseExists(c, plan.prod);
      const keptCopySize = prodExists ? Number((await c.query<{ n: string }>('SELECT pg_database_size($1) AS n', [plan.prod])).rows[0]!.n) : null;
      // The outage starts here: production stops taking connections.
      downtimeStart = Date.now();
      productionTouched = true;
      const terminated = prodExists ? await blockAndTerminate(c, plan.prod) : 0;
      if (prodExists) await renameDatabase(c, plan.prod, kept);
      // The swap is the point of no return; the job now ends succeeded whatever is asked of it (see lifecycle).
      ctx.commit();
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
      await ctx.log(`swapped: "${plan.prod}" is the restored copy; the previous database is kept as "${kept}" (${terminated} connection(s) ended, outage ${downtimeMs} ms)`);
      await ctx.step('running the post-restore hook');
      // Past the swap a cancel no longer applies: the hook gets its own time limit instead of the job's signal.
      const post = await runHook(plan.dest.postRestoreHook, 'post-restore', { target: plan.dest.name, database: plan.prod }, AbortSignal.timeout(120_000)).catch(async (err) => {
        await ctx.log(`post-restore hook failed (the swap is done): ${(err as Error).message}`, 'error');
        return null;
      });
      if (post !== null) await ctx.log(`post-restore hook: ${post}`);
      Object.assign(result, { database: plan.prod, keptCopy: prodExists ? kept : null, keptCopySize, downtimeMs, connectionsEnded: terminated });
    } else if (plan.mode === 'replace') {
      const downtimeMs = Date.now() - downtimeStart!;
      Object.assign(result, { database: plan.prod, downtimeMs });
      created = false;
    } else {
      created = false; // a new database is the result, kept even when a check failed (the result page shows it red)
    }
    result.durationMs = Date.now() - started;
    return result;
  } catch (err) {
    // Before the swap production is untouched: the side database goes away; an in-place restore keeps what it has.
    if (created && !(plan.mode === 'replace' && plan.method === 'in-place')) {
      await dropDatabase(c, plan.workDb).catch((e) => ctx.log(`could not drop "${plan.workDb}": ${(e as Error).message}`, 'error'));
    }
    if (!productionTouched && plan.mode === 'replace') await ctx.log('production was not touched').catch(() => {});
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

/** The CREATE ROLE / ALTER ROLE lines of pg_dumpall --globals-only for the given roles only. */
export function rolesSql(globals: string, roles: string[]): string {
  const names = new Set(roles);
  const out: string[] = [];
  for (const line of globals.split('\n')) {
    const m = /^(?:CREATE|ALTER) ROLE ("(?:[^"]|"")+"|[^\s;]+)[\s;]/.exec(line);
    if (!m) continue;
    const name = m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replaceAll('""', '"') : m[1]!;
    if (names.has(name)) out.push(line);
  }
  return out.join('\n') + '\n';
}

/** Schemas of the chosen tables, which pg_restore --table does not create. */
async function createSchemas(plan: Plan, p: RestorePayload) {
  const client = await connect(targetConn(plan.dest, plan.workDb));
  try {
    for (const schema of new Set(p.tables.map((t) => splitTable(t).schema))) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function pgRestore(ctx: JobContext<RestorePayload>, plan: Plan, archive: string, env: Record<string, string>, p: RestorePayload) {
  const total = Math.max(1, plan.toc.entries.length);
  let done = 0;
  let current = '';
  let rest = '';
  let pending: string[] = [];
  const child = execa(plan.tools.path('pg_restore'), pgRestoreArgs(archive, plan.workDb, { jobs: p.jobs, schemas: p.schemas, tables: p.tables, section: p.section }), {
    env: { ...process.env, ...env },
    extendEnv: false,
    cancelSignal: ctx.signal,
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
    for (const l of lines) await ctx.log(l, /error/i.test(l) ? 'error' : 'info');
  };
  const tick = setInterval(() => {
    void flush().catch(() => {});
    void ctx.progress(Math.min(99, (done / total) * 100), `${done} of ${total} items${current ? ` · ${current}` : ''}`).catch(() => {});
  }, 1000);
  try {
    const r = await child;
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (r.exitCode !== 0) {
      const last = String(r.stderr).trim().split('\n').filter((l) => /error/i.test(l)).pop();
      throw new ToolError('RESTORE_FAILED', `pg_restore failed (exit ${r.exitCode ?? r.signal})${last ? `: ${last.replace(/^pg_restore: error: /, '')}` : ''}.`, tail(String(r.stderr)));
    }
  } finally {
    clearInterval(tick);
    await flush().catch(() => {});
  }
}

async function runChecks(ctx: JobContext<RestorePayload>, plan: Plan, p: RestorePayload): Promise<Check[]> {
  const checks: Check[] = [];
  const client = await connect(targetConn(plan.dest, plan.workDb));
  try {
    const restoredTables = new Set(p.tables.length ? plan.toc.tables.filter((t) => p.tables.some((x) => t === x || t.endsWith(`.${x}`))) : plan.toc.tables);
    const counts = (plan.backup.keyTableCounts ?? {}) as Record<string, number>;
    const sums = ((plan.backup.manifest as { keyTableChecksums?: Record<string, string> } | null)?.keyTableChecksums ?? {}) as Record<string, string>;
    if (p.section !== 'schema') {
      for (const [table, expected] of Object.entries(counts)) {
        if (!restoredTables.has(table)) continue;
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
    }
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
    }
  } finally {
    await client.end().catch(() => {});
  }
  if (!checks.length) await ctx.log('no checks configured for this target (key tables or check statements)', 'warn');
  return checks;
}
