// Console databases on throwaway clusters for integration tests: migrated, with pg-boss's schema, plus small SQL and wait helpers.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { migrate } from '../../scripts/lib/migrate';
import { installQueueSchema } from '../../scripts/lib/queue-schema';
import type { ConsoleEnv } from '../../scripts/lib/stack';

/** Creates database `name` on the cluster, applies Lifeboat's migrations and pg-boss's schema; returns its URL. */
export async function createConsoleDatabase(cluster: RunningCluster, name: string): Promise<string> {
  await withClient(cluster.url('postgres'), (c) => c.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`));
  const url = cluster.url(name);
  await migrate(url);
  await installQueueSchema(url);
  return url;
}

/** A complete, valid console environment for `url` (fresh secrets each call). */
export function consoleEnv(url: string, extra: Record<string, string | undefined> = {}): ConsoleEnv {
  return {
    DATABASE_URL: url,
    NEXTAUTH_SECRET: randomBytes(32).toString('base64'),
    NEXTAUTH_URL: 'http://127.0.0.1:3999',
    LIFEBOAT_MASTER_KEY: randomBytes(32).toString('base64'),
    ...extra,
  };
}

/** Puts `env` into this process's environment, for in-process lib calls (lib/db.ts reads DATABASE_URL). */
export function applyEnv(env: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs one statement on its own connection and returns the rows. */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  return withClient(url, async (c) => (await c.query<T>(text, values)).rows);
}

/** Polls `probe` until it returns something other than undefined/false, or throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
