// Shared bench plumbing: a console database on its own cluster, a real worker, and a way to wait for a job.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createThrowawayCluster, type RunningCluster } from '../scripts/lib/cluster';
import { migrate } from '../scripts/lib/migrate';
import { installQueueSchema } from '../scripts/lib/queue-schema';
import { ensurePrismaClient, startWorker, stopChild } from '../scripts/lib/stack';

export const say = (s: string) => console.log(`[bench] ${s}`);
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export interface Stats {
  median: number;
  min: number;
  max: number;
}

/** Median and range: one slow round on a shared machine moves the mean, not the median. */
export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return { median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, min: s[0]!, max: s[s.length - 1]! };
}

export const showStats = (x: Stats, digits = 2) => `${x.median.toFixed(digits)} (${x.min.toFixed(digits)}-${x.max.toFixed(digits)})`;

/**
 * CPU seconds (user + system) of a process and of its children it has reaped, from /proc/<pid>/stat: for the
 * worker that is its own work plus pg_dump, zstd and pg_restore; for a postmaster, its backends. Unlike wall
 * time it barely moves when other work shares the machine, so it shows what each variant costs.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 14-17 of proc(5): utime, stime, cutime, cstime, in clock ticks (100 a second on Linux).
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

/** Lets the postmaster reap the backends a run used, so their CPU is counted (taken after the timing). */
export const settle = () => new Promise((r) => setTimeout(r, 500));

export function postmasterPid(c: RunningCluster): number {
  return Number(readFileSync(join(c.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

export async function createDb(c: RunningCluster, name: string) {
  const client = new pg.Client({ connectionString: c.url('postgres') });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
}

export async function dbBytes(c: RunningCluster, name: string): Promise<number> {
  const client = new pg.Client({ connectionString: c.url(name) });
  await client.connect();
  const n = Number((await client.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
  await client.end();
  return n;
}

/** A console (own cluster, migrated), a worker process, a storage folder under `work`, and lib handles. */
export async function startConsole(work: string) {
  await ensurePrismaClient(() => {});
  const consoleDb = await createThrowawayCluster();
  await createDb(consoleDb, 'lifeboat');
  const url = consoleDb.url('lifeboat');
  await migrate(url);
  await installQueueSchema(url);
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', DATABASE_URL: url, NEXTAUTH_SECRET: randomBytes(32).toString('base64'), NEXTAUTH_URL: 'http://127.0.0.1:1', LIFEBOAT_MASTER_KEY: randomBytes(32).toString('base64'), LIFEBOAT_DATA_DIR: work };
  Object.assign(process.env, env);
  // The worker prints "job <id> (<kind>): <outcome>" when a job ends: waiting on that line costs nothing while
  // a job is being timed, where polling the console database would compete with it for the same 2 cores.
  const ended = new Map<string, () => void>();
  const seen = new Set<string>();
  const worker = startWorker(env, (line) => {
    const m = /\] job (\S+) \(/.exec(line);
    if (!m) return;
    seen.add(m[1]!);
    ended.get(m[1]!)?.();
  });
  const { getDb } = await import('../lib/db');
  const { systemActor } = await import('../lib/audit/write-audit');
  const db = getDb();
  await mkdir(join(work, 'lifeboat'), { recursive: true });
  const storage = await db.storage.create({ data: { name: 'bench', path: join(work, 'lifeboat') } });
  const actor = { ...systemActor, role: 'admin' as const };

  /** Waits for a job (its end line, or a poll every 10 s should the line be missed); returns its row, or throws with its error. */
  const waitJob = async (id: string) => {
    for (;;) {
      if (!seen.has(id)) await new Promise<void>((res) => {
        const timer = setTimeout(res, 10_000);
        ended.set(id, () => (clearTimeout(timer), res()));
      });
      ended.delete(id);
      const row = await db.job.findUnique({ where: { id } });
      if (row && ['succeeded', 'failed', 'cancelled'].includes(row.status)) {
        if (row.status !== 'succeeded') throw new Error(`bench job ${row.kind} ${row.status}: ${row.errorMessage}\n${row.errorDetail ?? ''}`);
        return row;
      }
      seen.delete(id); // the line came before the row was final: wait again
    }
  };
  const stop = async () => {
    await stopChild(worker, 10_000);
    await consoleDb.remove();
  };
  return { db, storage, actor, waitJob, stop, workerPid: worker.pid! };
}

/**
 * A bench run's frame: a work folder (0755, so the clusters' OS user can enter it), a data cluster tuned for bulk
 * loads, and stop() for the end of the run whatever happened: the console (if one was started), the data cluster and
 * the work folder.
 */
export async function startBench() {
  const work = await mkdtemp(join(tmpdir(), 'lifeboat-bench-'));
  await chmod(work, 0o755);
  const data = await createThrowawayCluster({ settings: { shared_buffers: '1GB', max_wal_size: '4GB' } });
  let stopConsole: (() => Promise<void>) | undefined;
  return {
    work,
    data,
    /** startConsole(work), stopped by stop(). */
    async startConsole() {
      const lb = await startConsole(work);
      stopConsole = lb.stop;
      return lb;
    },
    async stop() {
      await stopConsole?.();
      await data.remove();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** Runs a bench script's main and exits with its outcome (the worker and pools must not keep the process alive). */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
