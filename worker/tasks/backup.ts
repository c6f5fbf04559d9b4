// The logical backup: pg_dump (optionally through zstd) to storage, verified by reading every byte of it as it is stored,
// with the roles and tablespaces beside it and a manifest that explains the file without the catalog.
import { execa } from 'execa';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { ToolError } from '../../lib/jobs/lifecycle';
import { LocalStorage, writeSmallFile, diskError, defaultStoragePath, commitFolder, folderSize, type ArtifactWriter } from '../../lib/storage/local-storage';
import { safeName, targetConn } from '../../lib/targets/target-conn';
import { applyRetention } from '../../lib/backups/apply-retention';
import { workerHost } from '../../lib/jobs/sweep-jobs';
import { fingerprintSql } from '../../lib/backups/table-fingerprint';
import { connect, toolEnv, type TargetConn } from '../pg/connect';
import { countTocEntries, defaultDumpSettings, fileExtension, parseDumpProgress, pgDumpallGlobalsArgs, pgDumpArgs, zstdArgs, type DumpSettings } from '../pg/pg-dump';
import { parseServerVersionNum, toolsFor, type ToolSet } from '../pg/tools';
import { startCompressedDump, zstdThreads } from '../pg/pipeline';
import { checkArchiveStream, readArchiveHeadOfFile, readWholeArchive, type StreamCheck } from '../pg/archive-check';

type BackupPayload = JobPayload<'backup'>;

const MAX_TOOL_LOG_LINES = 2000;
const tail = (s: string, n = 8000) => (s.length > n ? s.slice(-n) : s);

function quoteIdent(name: string): string {
  return name
    .split('.')
    .map((p) => `"${p.replaceAll('"', '""')}"`)
    .join('.');
}

export async function backup(ctx: JobContext<BackupPayload>) {
  const db = getDb();

  // resolve: target, schedule settings, storage.
  await ctx.step('resolving target');
  const target = await db.target.findUnique({ where: { id: ctx.payload.targetId }, include: { storage: true } });
  if (!target) throw new UserError('NOT_FOUND', 'The target was deleted.');
  if (target.disabled) throw new UserError('TARGET_DISABLED', `Target "${target.name}" is disabled.`);
  const schedule = ctx.payload.scheduleId ? await db.schedule.findUnique({ where: { id: ctx.payload.scheduleId } }) : await db.schedule.findFirst({ where: { targetId: target.id, kind: 'logical' }, orderBy: { createdAt: 'asc' } });
  const settings: DumpSettings = schedule
    ? { format: schedule.format as DumpSettings['format'], compressLevel: schedule.compressLevel, zstdLevel: schedule.zstdLevel, zstdThreads: 2, jobs: schedule.jobs }
    : defaultDumpSettings;
  // Failures before any database is dumped (storage, connection, tools) still leave a failed row in backup_log,
  // so history and the overview show the target as failing, not as quietly unbacked.
  let storage: LocalStorage;
  let serverVersion: string;
  let databases: string[];
  let tools: Awaited<ReturnType<typeof toolsFor>>;
  try {
    // A configured storage must exist (a missing mount is an error to see); the implicit default is created on first use.
    storage = new LocalStorage(target.storage?.path ?? defaultStoragePath());
    if (!target.storage) await mkdir(storage.root, { recursive: true, mode: 0o700 });
    await storage.check();

    // connect: server version and the databases to dump ("every database" is discovered now, at each run).
    await ctx.step('connecting');
    const admin = await connect(targetConn(target, target.database ?? 'postgres'));
    let major: number;
    try {
      const v = await admin.query<{ server_version_num: string; server_version: string }>('SELECT current_setting($1) AS server_version_num, current_setting($2) AS server_version', ['server_version_num', 'server_version']);
      serverVersion = v.rows[0]!.server_version;
      major = parseServerVersionNum(v.rows[0]!.server_version_num).major;
      databases = target.database
        ? [target.database]
        : (await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname')).rows.map((r) => r.datname);
    } finally {
      await admin.end().catch(() => {});
    }

    // tools: a pg_dump at least as new as the server, or stop before anything starts.
    tools = await toolsFor(major, serverVersion);
    await ctx.log(`server PostgreSQL ${serverVersion}; using ${tools.binDir} (pg_dump ${tools.version}); ${databases.length} database(s)`);
  } catch (err) {
    await recordEarlyFailure(ctx, target, schedule?.id ?? null, settings, err);
    throw err;
  }

  // dump each database: its own backup_log row and result; on a whole server one failure does not stop the others.
  const results = [];
  const failed: { database: string; code: string; message: string; hint: string }[] = [];
  for (const [i, database] of databases.entries()) {
    if (ctx.signal.aborted) break;
    try {
      results.push(await backupDatabase(ctx, { target, schedule, storage, settings, tools, serverVersion, database, index: i, count: databases.length }));
    } catch (err) {
      if (target.database || ctx.signal.aborted || !(err instanceof UserError)) throw err;
      failed.push({ database, code: err.code, message: err.message, hint: err.hint });
      await ctx.log(`${database}: not backed up: [${err.code}] ${err.message}`, 'error');
    }
  }
  const outcome = { backups: results.map((r) => ({ id: String(r.id), database: r.database, size: r.size, file: r.file })), failed };

  // retention: by the schedule's policy, per database; a database's newest good backup always stays.
  if (schedule && results.length) {
    await ctx.step('applying retention');
    const removed = await applyRetention(schedule.id, { log: (l) => ctx.log(l) });
    if (removed.length) await ctx.log(`retention removed ${removed.length} backup(s)`);
  }
  if (failed.length) {
    // The job fails, and its result still says which databases were backed up and why the others were not.
    await getDb().job.updateMany({ where: { id: ctx.jobId, status: 'running' }, data: { result: outcome } });
    throw new UserError('BACKUP_PARTIAL', `${failed.length} of ${databases.length} databases were not backed up: ${failed.map((f) => `${f.database} (${f.code}: ${f.message})`).join('; ')}`);
  }
  return outcome;
}

async function recordEarlyFailure(ctx: JobContext<BackupPayload>, target: { id: string; database: string | null; storageId: string | null }, scheduleId: string | null, settings: DumpSettings, err: unknown) {
  const e = err instanceof UserError ? err : null;
  const aborted = ctx.signal.aborted ? (ctx.signal.reason as UserError | undefined) : undefined;
  await getDb().backupLog.create({
    data: {
      backupType: 'logical',
      backupFile: '(not written)',
      status: aborted?.code === 'JOB_CANCELLED' ? 'cancelled' : 'failed',
      targetId: target.id,
      scheduleId,
      jobId: ctx.jobId,
      databaseName: target.database,
      format: settings.format,
      storageId: target.storageId,
      finishedAt: new Date(),
      durationMs: 0,
      errorCode: aborted?.code ?? e?.code ?? 'INTERNAL',
      errorMessage: aborted?.message ?? e?.message ?? (err as Error).message,
    },
  }).catch(() => {});
}

interface DbRun {
  target: { id: string; name: string; host: string; port: number; dbUser: string; passwordEnc: string | null; sslMode: string; keyTables: string[]; storageId: string | null };
  schedule: { id: string } | null;
  storage: LocalStorage;
  settings: DumpSettings;
  tools: ToolSet;
  serverVersion: string;
  database: string;
  index: number;
  count: number;
}

async function backupDatabase(ctx: JobContext<BackupPayload>, run: DbRun) {
  const db = getDb();
  const started = new Date();
  // Milliseconds and the job id: two backups in the same second never share a name.
  const stamp = started.toISOString().replace(/[-:]/g, '').replace('.', '');
  const file = `${safeName(run.target.name)}/${safeName(run.database)}/${stamp}-${safeName(run.database)}-${ctx.jobId.slice(0, 8)}.${fileExtension(run.settings)}`;
  const row = await db.backupLog.create({
    data: {
      backupType: 'logical',
      backupFile: file,
      status: 'running',
      targetId: run.target.id,
      scheduleId: run.schedule?.id ?? null,
      jobId: ctx.jobId,
      databaseName: run.database,
      format: run.settings.format,
      storageId: run.target.storageId,
      location: run.storage.describe(),
      serverVersion: run.serverVersion,
      toolVersion: run.tools.version,
      createdAt: started,
    },
  });
  const conn = targetConn(run.target, run.database);
  let writer: ArtifactWriter | undefined;
  let check: StreamCheck | undefined;
  let folder: string | undefined;
  // Files already in their final place: removed again if a later step fails, so nothing half-done looks complete.
  let committed: string[] = [];
  let snapshotClient: pg.Client | undefined;
  const endSnapshot = async () => {
    await snapshotClient?.query('COMMIT').catch(() => {});
    await snapshotClient?.end().catch(() => {});
    snapshotClient = undefined;
  };
  const pass = await toolEnv(conn);
  // The passfile is a secret on disk: tracked like a partial file, so a crash sweep removes it too.
  if (pass.dir) await ctx.trackPartial(pass.dir);
  try {
    // snapshot: one exported snapshot for the row counts and for pg_dump, so the counts describe the file exactly.
    await ctx.step(`${run.database}: counting key tables`);
    snapshotClient = await connect(conn);
    await snapshotClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await snapshotClient.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
    const tableCount = Number((await snapshotClient.query<{ n: string }>("SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','m') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'")).rows[0]!.n);
    // The database's own properties (owner, ACL, settings, comment ...), which a pg_dump without --create leaves out.
    const databaseProperties = await readDatabaseProperties(snapshotClient);
    const keyTableCounts: Record<string, number> = {};
    const keyTableChecksums: Record<string, string> = {};
    for (const t of run.target.keyTables) {
      try {
        const fp = (await snapshotClient.query<{ n: string; h: string }>(fingerprintSql(quoteIdent(t)))).rows[0]!;
        keyTableCounts[t] = Number(fp.n);
        keyTableChecksums[t] = fp.h;
      } catch (err) {
        await ctx.log(`key table ${t}: ${(err as Error).message}`, 'warn');
      }
    }

    // globals: roles and tablespaces (which a database dump lacks), read beside the dump so they add no time after it.
    const globalsRun = dumpGlobals(ctx, run, pass.env);
    globalsRun.catch(() => {});

    // dump: pg_dump [| zstd] into <file>.partial, hashing as it streams.
    await ctx.step(`${run.database}: dumping`);
    let stored: { path: string; size: number; sha256: string; files?: { name: string; size: number; sha256: string }[] };
    let stderr: string;
    let size: number;
    if (run.settings.format === 'directory') {
      const finalDir = run.storage.localPath(file);
      folder = `${finalDir}.partial`;
      await mkdir(dirname(finalDir), { recursive: true });
      await ctx.trackPartial(folder);
      ({ stderr, size } = await streamDump(ctx, run, pass.env, snapshot, { folder }, tableCount));
      await endSnapshot();
      stored = await commitFolder(folder, finalDir);
      committed = [stored.path];
      await ctx.untrackPartial(folder);
      folder = undefined;
    } else {
      // Every byte that reaches storage is also read back as it goes: the archive walked block by block (through
      // zstd -d for .zst), so a file that is cut short or does not decode is known before it is called a backup.
      check = checkArchiveStream(run.settings.format === 'custom-zstd', run.tools.path('pg_restore'), ctx.signal);
      writer = await run.storage.createWriter(file, { tap: check.input });
      await ctx.trackPartial(writer.partialPath);
      ({ stderr, size } = await streamDump(ctx, run, pass.env, snapshot, { writer }, tableCount));
      await endSnapshot();
      stored = await writer.commit();
      committed = [stored.path];
      await ctx.untrackPartial(writer.partialPath);
      writer = undefined;
    }
    if (stored.size === 0) throw new UserError('BACKUP_VERIFY_FAILED', 'pg_dump exited cleanly but wrote an empty file.');

    // verify: every data block of the stored archive was read to its end and decoded (not only its TOC).
    await ctx.step(`${run.database}: verifying`);
    const toc = await verifyArchive(ctx, run, stored, check);

    // globals: stored beside the dump.
    await ctx.step(`${run.database}: saving roles and tablespaces`);
    const globalsFile = `${file}.globals.sql`;
    const globals = await globalsRun;
    committed.push(run.storage.localPath(globalsFile));
    const globalsStored = await writeSmallFile(run.storage.localPath(globalsFile), globals);

    // manifest: enough to understand and restore the file without Lifeboat's catalog.
    const finished = new Date();
    const manifest = {
      lifeboat: 1,
      target: { name: run.target.name, host: run.target.host, port: run.target.port },
      database: run.database,
      file: file.split('/').pop(),
      format: run.settings.format,
      compression: run.settings.format === 'custom-zstd' ? `zstd -${run.settings.zstdLevel} (archive: pg_dump --compress=0)` : `pg_dump --compress=${run.settings.compressLevel}`,
      size: stored.size,
      sha256: stored.sha256,
      ...(stored.files ? { files: stored.files, sha256Of: 'the sorted "sha256  file" lines of files' } : {}),
      serverVersion: run.serverVersion,
      toolVersion: `pg_dump ${run.tools.version}`,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      snapshot,
      keyTableCounts,
      // Order-independent content fingerprints of the key tables (lib/backups/table-fingerprint.ts).
      keyTableChecksums,
      toc,
      // Applied again on restore (owner, privileges, ALTER DATABASE/ROLE ... SET, comment); read in the dump's snapshot.
      databaseProperties,
      globals: { file: globalsFile.split('/').pop(), sha256: globalsStored.sha256 },
      worker: workerHost(),
      restoreByHand: restoreCommands(run.settings, file.split('/').pop()!, run.database, { host: run.target.host, port: run.target.port, user: run.target.dbUser }),
    };
    committed.push(run.storage.localPath(`${file}.manifest.json`));
    await writeSmallFile(run.storage.localPath(`${file}.manifest.json`), JSON.stringify(manifest, null, 2) + '\n');

    await db.backupLog.update({
      where: { id: row.id },
      data: {
        status: 'succeeded',
        backupSize: BigInt(stored.size),
        checksumSha256: stored.sha256,
        durationMs: finished.getTime() - started.getTime(),
        finishedAt: finished,
        verifiedAt: finished,
        manifest: manifest as object,
        keyTableCounts,
        globalsFile,
      },
    });
    committed = []; // recorded as succeeded: from here on the files are the backup
    await ctx.log(`${run.database}: ${stored.size} bytes, sha256 ${stored.sha256}, ${toc.entries} TOC entries (stderr lines: ${stderr.split('\n').length})`);
    return { id: row.id, database: run.database, size: size, file };
  } catch (err) {
    if (snapshotClient) await snapshotClient.end().catch(() => {});
    check?.input.destroy();
    if (writer) {
      await writer.abort();
      await ctx.untrackPartial(writer.partialPath).catch(() => {});
    }
    for (const path of committed) await rm(path, { recursive: true, force: true }).catch(() => {});
    if (folder) {
      await rm(folder, { recursive: true, force: true });
      await ctx.untrackPartial(folder).catch(() => {});
    }
    const e = err instanceof UserError ? err : (diskError(err, run.storage.describe()) ?? null);
    const status = ctx.signal.aborted && (ctx.signal.reason as UserError)?.code === 'JOB_CANCELLED' ? 'cancelled' : 'failed';
    await db.backupLog.updateMany({
      where: { id: row.id, status: 'running' },
      data: {
        status,
        finishedAt: new Date(),
        durationMs: Date.now() - started.getTime(),
        errorCode: ctx.signal.aborted ? ((ctx.signal.reason as UserError)?.code ?? 'JOB_CANCELLED') : (e?.code ?? 'INTERNAL'),
        errorMessage: ctx.signal.aborted ? ((ctx.signal.reason as Error)?.message ?? 'Stopped') : (e?.message ?? (err as Error).message),
      },
    });
    throw e ?? err;
  } finally {
    await pass.cleanup();
    if (pass.dir) await ctx.untrackPartial(pass.dir).catch(() => {});
  }
}

/** Where pg_dump's output goes: a stream into one file, or (directory format) a folder pg_dump fills itself. */
type Sink = { writer: ArtifactWriter } | { folder: string };

async function streamDump(ctx: JobContext<BackupPayload>, run: DbRun, env: Record<string, string>, snapshot: string, sink: Sink, tableCount: number) {
  const common = { env: { ...process.env, ...env }, extendEnv: false, cancelSignal: ctx.signal, reject: false, buffer: { stdout: false, stderr: true } } as const;
  const writer = 'writer' in sink ? sink.writer : null;
  const dumpArgs = pgDumpArgs(run.settings, snapshot, 'folder' in sink ? sink.folder : undefined);
  // custom-zstd: pg_dump writes into zstd through a kernel pipe (relaying it through the worker cost more CPU than
  // pg_dump itself); only zstd's compressed output passes through here, to be hashed and stored.
  const piped =
    writer && run.settings.format === 'custom-zstd'
      ? startCompressedDump(run.tools.path('pg_dump'), dumpArgs, zstdArgs({ ...run.settings, zstdThreads: zstdThreads(run.settings.zstdThreads) }), { env: common.env, extendEnv: false, cancelSignal: ctx.signal })
      : null;
  const dump = piped?.dump ?? execa(run.tools.path('pg_dump'), dumpArgs, { ...common, stdin: 'ignore' });
  const zstd = piped?.zstd ?? null;
  if (writer) (zstd ?? dump).stdout!.pipe(writer.stream);
  let writeError: unknown;
  writer?.stream.on('error', (err) => {
    writeError = err;
    dump.kill('SIGTERM');
    zstd?.kill('SIGTERM');
  });
  let folderBytes = 0;
  let tablesDone = 0;
  let current = '';
  // pg_dump's own words go to the job log, batched once a second (capped: a 50 000-table schema is not a log).
  let pendingLines: string[] = [];
  let loggedLines = 0;
  let partialLine = '';
  dump.stderr!.on('data', (chunk: Buffer) => {
    const lines = (partialLine + chunk.toString()).split('\n');
    partialLine = lines.pop() ?? '';
    for (const line of lines) {
      const p = parseDumpProgress(line);
      if (p.table) {
        tablesDone++;
        current = p.table;
      }
      if (line.trim() && loggedLines++ < MAX_TOOL_LOG_LINES) pendingLines.push(line);
    }
  });
  const flushLines = async () => {
    const lines = pendingLines;
    pendingLines = [];
    // Queued in one go: the log keeps call order, so a timer flush and the last flush cannot interleave.
    await Promise.all(lines.map((l) => ctx.log(l, /error/i.test(l) ? 'error' : 'info')));
  };
  const tick = setInterval(() => {
    void flushLines().catch(() => {});
    if ('folder' in sink) void folderSize(sink.folder).then((n) => (folderBytes = n));
    const mb = ((writer ? writer.bytesWritten() : folderBytes) / 1e6).toFixed(1);
    const dbPart = run.count > 1 ? `database ${run.index + 1}/${run.count} · ` : '';
    const pct = ((run.index + Math.min(0.99, tablesDone / Math.max(1, tableCount))) / run.count) * 100;
    void ctx.progress(pct, `${dbPart}${current ? `table ${current} · ` : ''}${mb} MB written`).catch(() => {});
  }, 1000);
  try {
    const [d, z] = await Promise.all([dump, zstd ?? Promise.resolve(null)]);
    if (writer && !writer.stream.destroyed) await finished(writer.stream).catch(() => {});
    const stderr = String(d.stderr ?? '');
    if (writeError) throw diskError(writeError, run.storage.describe()) ?? writeError;
    // pg_dump writing a folder reports a full disk in its own words.
    if (/No space left on device/.test(stderr)) throw new ToolError('DISK_FULL', `The storage at ${run.storage.describe()} is full.`, tail(stderr));
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (d.exitCode !== 0) throw dumpFailure(stderr, d.exitCode ?? d.signal ?? 'unknown');
    if (z && z.exitCode !== 0) throw new ToolError('BACKUP_TOOL_FAILED', `zstd failed (exit ${z.exitCode}).`, String(z.stderr ?? ''));
    return { stderr, size: writer ? writer.bytesWritten() : await folderSize((sink as { folder: string }).folder) };
  } finally {
    clearInterval(tick);
    if (partialLine.trim()) pendingLines.push(partialLine);
    await flushLines().catch(() => {});
    if (loggedLines > MAX_TOOL_LOG_LINES) await ctx.log(`(${loggedLines - MAX_TOOL_LOG_LINES} more pg_dump lines not logged)`).catch(() => {});
  }
}

function dumpFailure(stderr: string, exit: string | number): UserError {
  const denied = [...stderr.matchAll(/permission denied for (?:table|relation|schema|sequence) ([^\s]+)/g)].map((m) => m[1]);
  if (denied.length) return new ToolError('TARGET_PRIVILEGES', `pg_dump could not read: ${[...new Set(denied)].join(', ')}.`, tail(stderr));
  if (/server version mismatch|aborting because of server version mismatch/.test(stderr))
    return new ToolError('TOOL_TOO_OLD', 'pg_dump is older than the server.', tail(stderr));
  if (/permission denied for database|does not have CONNECT privilege/.test(stderr)) return new ToolError('TARGET_CONNECT_DENIED', 'pg_dump may not connect to the database.', tail(stderr));
  if (/password authentication failed|no password supplied/.test(stderr)) return new ToolError('TARGET_AUTH_FAILED', 'pg_dump could not sign in to the target.', tail(stderr));
  if (/could not connect|Connection refused|could not translate host/.test(stderr)) return new ToolError('TARGET_UNREACHABLE', 'pg_dump could not connect to the target.', tail(stderr));
  const last = stderr.trim().split('\n').filter((l) => /error/i.test(l)).pop();
  return new ToolError('BACKUP_TOOL_FAILED', `pg_dump failed (exit ${exit})${last ? `: ${last.replace(/^pg_dump: error: /, '')}` : ''}.`, tail(stderr));
}

async function verifyArchive(ctx: JobContext<BackupPayload>, run: DbRun, stored: { path: string; size: number }, check: StreamCheck | undefined) {
  const refuse = (why: string, detail = '') => new ToolError('BACKUP_VERIFY_FAILED', `The stored backup is not a complete, readable archive: ${why}`, detail);
  if (!check) {
    // Directory format: pg_dump wrote the folder itself; pg_restore reads every file of it back.
    try {
      await readWholeArchive(stored.path, false, run.tools.path('pg_restore'), ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw refuse((err as Error).message);
    }
    const list = await execa(run.tools.path('pg_restore'), ['--list', stored.path], { cancelSignal: ctx.signal, reject: false });
    if (list.exitCode !== 0) throw refuse('pg_restore --list cannot read its table of contents.', tail(String(list.stderr)));
    await ctx.log(`${run.database}: verified: pg_restore read every file of the folder back`);
    return countTocEntries(String(list.stdout));
  }
  try {
    await check.result;
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw refuse((err as Error).message);
  }
  // What the check read is what was written; the file on disk must still be all of it.
  const onDisk = await stat(stored.path).then((st) => st.size, () => -1);
  if (onDisk !== stored.size) throw refuse(`the file holds ${onDisk} bytes but ${stored.size} were written (truncated in storage).`);
  // The TOC's counts for the manifest, read back from the stored file (its first few MB).
  let head;
  try {
    head = await readArchiveHeadOfFile(stored.path, run.settings.format === 'custom-zstd', ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw refuse((err as Error).message);
  }
  await ctx.log(`${run.database}: verified: ${head.tocEntries} TOC entries, the data of all ${head.dataBlocks} read to its end${run.settings.format === 'custom-zstd' ? ' (every zstd frame decoded)' : ''}, ${stored.size} bytes stored`);
  return { entries: head.tocEntries, tableData: head.tableData };
}

export interface DatabaseProperties {
  name: string;
  owner: string;
  /** datacl IS NULL: the built-in default privileges (CONNECT and TEMPORARY for PUBLIC). */
  aclIsDefault: boolean;
  acl: { grantee: string; grantor: string; privilege: string; grantable: boolean }[];
  /** role null: ALTER DATABASE ... SET for everyone; otherwise ALTER ROLE role IN DATABASE ... SET. */
  settings: { role: string | null; name: string; value: string }[];
  comment: string | null;
  encoding: string;
  collate: string;
  ctype: string;
  connectionLimit: number;
}

/** pg_database, aclexplode(datacl) and pg_db_role_setting of the connected database, in the caller's transaction. */
async function readDatabaseProperties(client: pg.Client): Promise<DatabaseProperties> {
  const d = (
    await client.query<{ name: string; owner: string; acl_is_default: boolean; comment: string | null; encoding: string; collate: string; ctype: string; connection_limit: number }>(
      `SELECT d.datname AS name, pg_get_userbyid(d.datdba) AS owner, d.datacl IS NULL AS acl_is_default,
              shobj_description(d.oid, 'pg_database') AS comment, pg_encoding_to_char(d.encoding) AS encoding,
              d.datcollate::text AS collate, d.datctype::text AS ctype, d.datconnlimit AS connection_limit
       FROM pg_database d WHERE d.datname = current_database()`,
    )
  ).rows[0]!;
  const acl = (
    await client.query<{ grantee: string; grantor: string; privilege: string; grantable: boolean }>(
      `SELECT * FROM (
         SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee, pg_get_userbyid(a.grantor) AS grantor,
                a.privilege_type AS privilege, a.is_grantable AS grantable
         FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database()) x
       ORDER BY grantee COLLATE "C", privilege`,
    )
  ).rows;
  const settings = (
    await client.query<{ role: string | null; cfg: string }>(
      `SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END AS role, c.cfg
       FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) WITH ORDINALITY AS c(cfg, n)
       WHERE d.datname = current_database() ORDER BY s.setrole, c.n`,
    )
  ).rows.map((r) => {
    const at = r.cfg.indexOf('=');
    return { role: r.role, name: at < 0 ? r.cfg : r.cfg.slice(0, at), value: at < 0 ? '' : r.cfg.slice(at + 1) };
  });
  return { name: d.name, owner: d.owner, aclIsDefault: d.acl_is_default, acl, settings, comment: d.comment, encoding: d.encoding, collate: d.collate, ctype: d.ctype, connectionLimit: d.connection_limit };
}

async function dumpGlobals(ctx: JobContext<BackupPayload>, run: DbRun, env: Record<string, string>): Promise<string> {
  const opts = { env: { ...process.env, ...env }, extendEnv: false, cancelSignal: ctx.signal, reject: false } as const;
  let res = await execa(run.tools.path('pg_dumpall'), pgDumpallGlobalsArgs(false), opts);
  if (res.exitCode !== 0 && /permission denied/.test(String(res.stderr))) {
    await ctx.log('the backup user cannot read role passwords; saving roles without passwords', 'warn');
    res = await execa(run.tools.path('pg_dumpall'), pgDumpallGlobalsArgs(true), opts);
  }
  if (res.exitCode !== 0) throw new ToolError('BACKUP_TOOL_FAILED', 'pg_dumpall --globals-only failed.', tail(String(res.stderr)));
  return String(res.stdout);
}

const sh = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;

/**
 * The manifest's "restore by hand" lines: a new database on the same (or another) server, never the live one.
 * createdb and the restore are one `&&` line, so a name that already exists stops everything before any restore;
 * `<new_database>` is left unquoted so that a line run without replacing it fails in the shell. Roles (the globals
 * file) are a comment: on a server that has them, running it resets their attributes and passwords.
 */
function restoreCommands(s: DumpSettings, file: string, database: string, server: { host: string; port: number; user: string }): string[] {
  const conn = `-h ${sh(server.host)} -p ${server.port} -U ${sh(server.user)}`;
  const restore = `pg_restore ${conn} --dbname=<new_database> --no-password`;
  const load =
    s.format === 'custom-zstd'
      ? `zstd -d -c ${sh(file)} | ${restore}`
      : `${restore} --jobs=4 ${sh(file)}`;
  return [
    `# WARNING: these lines restore into a NEW database. Replace <new_database> with a name that does not exist on the server yet (never ${sh(database)}, the production database); nothing here writes to an existing database.`,
    `# Password: export PGPASSWORD='<password of ${server.user}>' first, or put it in ~/.pgpass; it is never written here.`,
    `# Roles and tablespaces, only on a server that lacks them (on one that has them this resets their attributes and passwords): psql ${conn} -d postgres -f ${sh(`${file}.globals.sql`)}`,
    `createdb ${conn} --no-password --template=template0 <new_database> && ${load}`,
  ];
}
