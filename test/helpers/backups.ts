// Backup integration helpers: a console database with real worker processes, targets and storages made through lib,
// job waits, per-table checksums, restores with plain tools, and /proc scans for the pg tools a worker runs.
// startStack / stopStack are how an integration file begins and ends.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { seedDemoDatabase } from '../../scripts/lib/seed';
import { startWorker, type Child, type ConsoleEnv } from '../../scripts/lib/stack';
import { applyEnv, consoleEnv, createConsoleDatabase, sql, waitFor } from './db';
import { getDb } from '../../lib/db';
import { getConsoleBoss } from '../../lib/jobs/boss';
import { createTarget } from '../../lib/targets/manage-targets';
import type { Role } from '../../lib/auth/roles';

export type Actor = { id: string; email: string; role: Role };

export interface Spawned {
  child: Child;
  lines: string[];
  startedAt: number;
}

export const alive = (s: Pick<Spawned, 'child'>) => s.child.exitCode === null && s.child.signalCode === null;
export const workerTail = (s?: Spawned) => (s ? `\nworker output:\n${s.lines.slice(-40).join('\n')}` : '');

export function killGroup(child: Child, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

export async function exitWithin(child: Child, ms: number) {
  return Promise.race([child, sleep(ms).then(() => undefined)]);
}

/** One test file's console: a console database on `cluster`, the env a worker needs, users, temp folders. */
export class Stack {
  url!: string;
  env!: ConsoleEnv;
  operator!: Actor;
  admin!: Actor;
  readonly spawned: Spawned[] = [];
  readonly tempDirs: string[] = [];
  readonly mounts: string[] = [];

  constructor(readonly cluster: RunningCluster, readonly dbName: string) {}

  async init(): Promise<this> {
    this.url = await createConsoleDatabase(this.cluster, this.dbName);
    const dataDir = this.tempDir('lifeboat-data-');
    this.env = { PATH: process.env.PATH, HOME: process.env.HOME, ...consoleEnv(this.url, { LIFEBOAT_DATA_DIR: dataDir }) };
    applyEnv(this.env);
    const db = getDb();
    const mk = async (email: string, role: Role): Promise<Actor> => {
      const u = await db.user.create({ data: { email, name: email, role } });
      return { id: u.id, email: u.email, role };
    };
    this.operator = await mk(`operator@${this.dbName}.test`, 'operator');
    this.admin = await mk(`admin@${this.dbName}.test`, 'admin');
    return this;
  }

  tempDir(prefix: string): string {
    const d = mkdtempSync(path.join(os.tmpdir(), prefix));
    this.tempDirs.push(d);
    return d;
  }

  spawnWorker(extra: Record<string, string | undefined> = {}): Spawned {
    const lines: string[] = [];
    const child = startWorker({ ...this.env, ...extra } as ConsoleEnv, (l) => {
      lines.push(l);
      if (process.env.LIFEBOAT_TEST_VERBOSE) console.log('[worker]', l);
    });
    const s = { child, lines, startedAt: Date.now() };
    this.spawned.push(s);
    return s;
  }

  /** A worker that has registered its queues (spawnWorker, then workerReady). */
  async readyWorker(extra: Record<string, string | undefined> = {}): Promise<Spawned> {
    const s = this.spawnWorker(extra);
    await this.workerReady(s);
    return s;
  }

  /** Waits until the worker has registered its queues. */
  async workerReady(s: Spawned, timeoutMs = 30_000): Promise<void> {
    await waitFor('the worker to listen', async () => s.lines.some((l) => l.includes('listening on')) || (!alive(s) ? Promise.reject(new Error('worker exited')) : false), timeoutMs, 100).catch((err) => {
      throw new Error(`${(err as Error).message}${workerTail(s)}`);
    });
  }

  async storage(name: string, dir: string) {
    return getDb().storage.create({ data: { name, kind: 'local', path: dir } });
  }

  /** A local storage in a fresh temp folder (removed by close()). */
  async localStorage(name = 'main'): Promise<{ storageDir: string; storageId: string }> {
    const storageDir = this.tempDir('lifeboat-store-');
    return { storageDir, storageId: (await this.storage(name, storageDir)).id };
  }

  async target(input: {
    name: string;
    cluster?: RunningCluster;
    port?: number;
    dbUser?: string;
    password?: string | null;
    database: string | null;
    keyTables?: string[];
    checkStatements?: string[];
    storageId?: string | null;
    workerPool?: string;
  }) {
    const c = input.cluster ?? this.cluster;
    return createTarget(
      this.admin,
      {
        name: input.name,
        host: '127.0.0.1',
        port: input.port ?? c.port,
        dbUser: input.dbUser ?? c.superuser,
        password: input.password === undefined ? (c.password ?? null) : input.password,
        sslMode: 'disable',
        database: input.database,
        keyTables: input.keyTables ?? [],
        checkStatements: input.checkStatements ?? [],
        workerPool: input.workerPool ?? 'default',
        storageId: input.storageId ?? null,
      },
      '192.0.2.10',
    ) as Promise<{ id: string; name: string } & Record<string, unknown>>;
  }

  async job(id: string) {
    const [row] = await sql<JobRow>(this.url, 'SELECT * FROM jobs WHERE id = $1', [id]);
    return row;
  }

  async waitJob(id: string, statuses: string[] = ['succeeded', 'failed', 'cancelled'], timeoutMs = 30_000, w?: Spawned): Promise<JobRow> {
    try {
      return await waitFor(`job ${id} to be ${statuses.join('/')}`, async () => {
        const row = await this.job(id);
        return row && statuses.includes(row.status) ? row : undefined;
      }, timeoutMs, 50);
    } catch (err) {
      const row = await this.job(id);
      throw new Error(`${(err as Error).message}; it is ${row?.status} (step ${row?.step}, ${row?.error_code ?? ''} ${row?.error_message ?? ''})${workerTail(w ?? this.spawned[0])}`);
    }
  }

  async logLines(jobId: string): Promise<string[]> {
    return (await sql<{ line: string }>(this.url, 'SELECT line FROM job_logs WHERE job_id = $1 ORDER BY id', [jobId])).map((r) => r.line);
  }

  async backupRows(jobId: string) {
    return sql<BackupRow>(this.url, 'SELECT * FROM backup_log WHERE job_id = $1 ORDER BY id', [jobId]);
  }

  async close(): Promise<void> {
    await killWorkers(this.spawned);
    await closeConsoleClients();
    for (const m of this.mounts) await execa('umount', ['-l', m], { reject: false });
    for (const d of this.tempDirs) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * How an integration file begins: a throwaway cluster (with a random superuser password when `password`, so libpq
 * must send one, as in production), the console's Stack on it and, with `seed`, the demo database of that name.
 * When a step fails, what was made is removed before the error goes on (the file's afterAll never saw it).
 */
export async function startStack(dbName: string, o: { password?: boolean; seed?: string } = {}): Promise<{ cluster: RunningCluster; stack: Stack }> {
  const cluster = await createThrowawayCluster(o.password ? { password: `pw-${randomBytes(6).toString('hex')}` } : {});
  const stack = new Stack(cluster, dbName);
  try {
    await stack.init();
    if (o.seed) await seedDemoDatabase(cluster.url('postgres'), o.seed);
    return { cluster, stack };
  } catch (err) {
    await stack.close().catch(() => {});
    await cluster.remove().catch(() => {});
    throw err;
  }
}

/** How an integration file ends: its workers, console connections and temp folders, then its clusters. */
export async function stopStack(stack: Stack | undefined, ...clusters: (RunningCluster | undefined)[]): Promise<void> {
  await stack?.close();
  await Promise.all(clusters.map((c) => c?.remove()));
}

/** SIGKILLs each worker still running (its process group) and waits up to 5 s for it to exit. */
export async function killWorkers(workers: Pick<Spawned, 'child'>[]): Promise<void> {
  for (const s of workers) {
    if (alive(s)) {
      killGroup(s.child, 'SIGKILL');
      await exitWithin(s.child, 5_000);
    }
  }
}

/** Ends this process's own connections to the console database: pg-boss and Prisma (errors ignored). */
export async function closeConsoleClients(): Promise<void> {
  await getConsoleBoss()
    .then((b) => b.stop({ graceful: false, wait: true }))
    .catch(() => {});
  await getDb().$disconnect().catch(() => {});
}

/** What an integration file works with: its cluster and Stack, set by the time its tests run. */
export interface StackContext {
  cluster: RunningCluster;
  stack: Stack;
}

/**
 * The beforeAll and afterAll of an integration file: startStack (then `setup`, given the context) before its tests,
 * stopStack after them. The returned object is filled in by beforeAll; read its fields inside hooks and tests only.
 */
export function useStack<C extends StackContext = StackContext>(
  dbName: string,
  o: { password?: boolean; seed?: string; timeoutMs?: number } = {},
  setup?: (c: C) => Promise<void>,
): C {
  const c = {} as C;
  beforeAll(async () => {
    Object.assign(c, await startStack(dbName, o));
    await setup?.(c);
  }, o.timeoutMs ?? 90_000);
  afterAll(() => stopStack(c.stack, c.cluster), 60_000);
  return c;
}

/** A stack with a local storage and a ready worker, before `setup`. */
export interface WorkerContext extends StackContext {
  storageDir: string;
  storageId: string;
  worker: Spawned;
}

/** useStack, then a local storage and a ready worker (with `workerEnv`) in its beforeAll, then `setup`. */
export function useWorkerStack<C extends WorkerContext = WorkerContext>(
  dbName: string,
  o: { password?: boolean; seed?: string; timeoutMs?: number; workerEnv?: Record<string, string> } = {},
  setup?: (c: C) => Promise<void>,
): C {
  return useStack<C>(dbName, o, async (c) => {
    Object.assign(c, await c.stack.localStorage());
    c.worker = await c.stack.readyWorker(o.workerEnv);
    await setup?.(c);
  });
}

export interface JobRow {
  id: string;
  kind: string;
  status: string;
  result: Record<string, unknown> | null;
  step: string | null;
  progress: number | null;
  error_code: string | null;
  error_message: string | null;
  error_hint: string | null;
  error_detail: string | null;
  partial_paths: string[];
  worker_id: string | null;
  finished_at: Date | null;
}

export interface BackupRow {
  id: string;
  backup_file: string;
  backup_size: string | null;
  status: string;
  target_id: string | null;
  schedule_id: string | null;
  job_id: string | null;
  database_name: string | null;
  checksum_sha256: string | null;
  location: string | null;
  server_version: string | null;
  tool_version: string | null;
  error_code: string | null;
  error_message: string | null;
  finished_at: Date | null;
  manifest: Manifest | null;
  key_table_counts: Record<string, number> | null;
  globals_file: string | null;
  format: string | null;
  verified_at: Date | null;
  deleted_at: Date | null;
  created_at: Date;
}

export interface Manifest {
  file: string;
  size: number;
  sha256: string;
  database: string;
  format: string;
  serverVersion: string;
  toolVersion: string;
  keyTableCounts: Record<string, number>;
  globals: { file: string; sha256: string };
  restoreByHand: string[];
  toc: { entries: number; tableData: number };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

export function dbUrl(cluster: RunningCluster, db: string): string {
  return cluster.url(db);
}

const quoteIdent = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** Row count and md5 of every user table's rows (sorted text form), plus sequence positions. */
export async function tableChecksums(conn: string | pg.ClientConfig): Promise<Record<string, string>> {
  const client = new pg.Client(typeof conn === 'string' ? { connectionString: conn } : conn);
  await client.connect();
  try {
    const tables = (
      await client.query<{ s: string; t: string; kind: string }>(
        `SELECT n.nspname AS s, c.relname AS t, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
         ORDER BY 1, 2`,
      )
    ).rows;
    const out: Record<string, string> = {};
    for (const { s, t, kind } of tables) {
      const q = `${quoteIdent(s)}.${quoteIdent(t)}`;
      const r =
        kind === 'S'
          ? (await client.query<{ v: string }>(`SELECT last_value || '/' || is_called AS v FROM ${q}`)).rows[0]!.v
          : (await client.query<{ v: string }>(`SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS v FROM ${q} x`)).rows[0]!.v;
      out[`${s}.${t}`] = r;
    }
    return out;
  } finally {
    await client.end().catch(() => {});
  }
}

/** libpq environment for the plain tools against `cluster`. */
export function pgEnv(cluster: RunningCluster): Record<string, string> {
  return {
    PGHOST: '127.0.0.1',
    PGPORT: String(cluster.port),
    PGUSER: cluster.superuser,
    ...(cluster.password ? { PGPASSWORD: cluster.password } : {}),
  };
}

/**
 * Restores an artifact the way the manifest's restoreByHand says, with plain tools: zstd -d, then pg_restore
 * --dbname into a fresh database on `cluster`. Returns pg_restore's stderr.
 */
export async function restoreByHand(cluster: RunningCluster, artifact: string, fresh: string, workDir: string): Promise<{ stderr: string }> {
  const env = { ...process.env, ...pgEnv(cluster) };
  const dump = path.join(workDir, `${fresh}.dump`);
  if (artifact.endsWith('.zst')) await execa('zstd', ['-d', '-q', artifact, '-o', dump]);
  await sql(cluster.url('postgres'), `CREATE DATABASE ${quoteIdent(fresh)}`);
  const res = await execa('pg_restore', [`--dbname=${fresh}`, '--jobs=2', '--exit-on-error', artifact.endsWith('.zst') ? dump : artifact], { env, reject: false });
  if (res.exitCode !== 0) throw new Error(`pg_restore failed (exit ${res.exitCode}):\n${res.stderr}`);
  return { stderr: res.stderr };
}

export interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
  environ: Record<string, string>;
  state: string;
}

export function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const rest = stat.slice(close + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    let environ: Record<string, string> = {};
    try {
      environ = Object.fromEntries(
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
    } catch {
      // not ours to read
    }
    return { pid, ppid: Number(rest[1]), comm, cmdline, environ, state: rest[0]! };
  } catch {
    return undefined;
  }
}

export function allPids(): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number);
}

/** comm, state and parent from /proc/<pid>/stat alone (cheap enough to poll every few milliseconds). */
function statOf(pid: number): { comm: string; state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Live (not zombie) processes named `comm` whose parent is `ppid`. */
export function childProcs(ppid: number, comm: string): Proc[] {
  return allPids()
    .filter((pid) => {
      const st = statOf(pid);
      return !!st && st.ppid === ppid && st.comm === comm && st.state !== 'Z';
    })
    .map(readProc)
    .filter((p): p is Proc => !!p);
}

/** Live pg tools (pg_dump, pg_dumpall, pg_restore, zstd ...) whose libpq environment points at `port`. */
export function toolProcsFor(port: number, comm = 'pg_dump'): Proc[] {
  return allPids()
    .filter((pid) => {
      const st = statOf(pid);
      return !!st && st.comm === comm && st.state !== 'Z';
    })
    .map(readProc)
    .filter((p): p is Proc => !!p && p.environ.PGPORT === String(port));
}

export function isAlive(pid: number): boolean {
  const p = readProc(pid);
  return !!p && p.state !== 'Z';
}

export function cwdOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** Holds ACCESS EXCLUSIVE on `table` in an open transaction, so a pg_dump of that database waits at its LOCK TABLE. */
export async function holdLock(url: string, table: string): Promise<{ release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await client.query('ROLLBACK').catch(() => {});
      await client.end().catch(() => {});
    },
  };
}

/** Waits until some backend of `database` waits for a lock (pg_dump reached its LOCK TABLE). */
export async function waitForLockWaiter(adminUrl: string, database: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    `a session of ${database} to wait for a lock`,
    async () =>
      (await sql<{ n: number }>(adminUrl, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [database]))[0]!.n > 0,
    timeoutMs,
    50,
  );
}

/** Creates `name` with one table `big` of `rows` rows of md5 text (about 100 bytes a row). */
export async function makeBigDatabase(cluster: RunningCluster, name: string, rows: number): Promise<void> {
  await sql(cluster.url('postgres'), `CREATE DATABASE ${quoteIdent(name)}`);
  await sql(
    cluster.url(name),
    `CREATE TABLE big (id int PRIMARY KEY, a text, b text);
     INSERT INTO big SELECT i, md5(i::text), md5((i * 7)::text) || md5((i * 13)::text) FROM generate_series(1, ${rows}) i;
     CREATE TABLE small (id int PRIMARY KEY, note text);
     INSERT INTO small VALUES (1, 'one'), (2, 'two');`,
  );
}

export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; fields?: Record<string, string>; hint?: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}
