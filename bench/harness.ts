// Shared bench plumbing: a console database on its own cluster, a real worker, and a way to wait for a job.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { createThrowawayCluster, type RunningCluster } from '../scripts/lib/cluster';
import { migrate } from '../scripts/lib/migrate';
import { installQueueSchema } from '../scripts/lib/queue-schema';
import { ensurePrismaClient, startWorker, stopChild } from '../scripts/lib/stack';

export const say = (s: string) => console.log(`[bench] ${s}`);
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

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
  const worker = startWorker(env);
  const { getDb } = await import('../lib/db');
  const { systemActor } = await import('../lib/audit/write-audit');
  const db = getDb();
  await mkdir(join(work, 'lifeboat'), { recursive: true });
  const storage = await db.storage.create({ data: { name: 'bench', path: join(work, 'lifeboat') } });
  const actor = { ...systemActor, role: 'admin' as const };

  /** Waits for a job; returns its row, or throws with its error when it did not succeed. */
  const waitJob = async (id: string) => {
    for (;;) {
      const row = await db.job.findUnique({ where: { id } });
      if (row && ['succeeded', 'failed', 'cancelled'].includes(row.status)) {
        if (row.status !== 'succeeded') throw new Error(`bench job ${row.kind} ${row.status}: ${row.errorMessage}\n${row.errorDetail ?? ''}`);
        return row;
      }
      await new Promise((res) => setTimeout(res, 200));
    }
  };
  const stop = async () => {
    await stopChild(worker, 10_000);
    await consoleDb.remove();
  };
  return { db, storage, actor, waitJob, stop };
}
