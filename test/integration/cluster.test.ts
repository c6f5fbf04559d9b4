// Exercises scripts/lib/cluster.ts against real PostgreSQL clusters: start, reuse, restart, stale pid, auth, removal.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createThrowawayCluster,
  findServerBinDir,
  startCluster,
  type RunningCluster,
} from '../../scripts/lib/cluster.js';

const created: RunningCluster[] = [];
const strayDirs: string[] = [];

async function track(p: Promise<RunningCluster>): Promise<RunningCluster> {
  const c = await p;
  created.push(c);
  return c;
}

async function query<T extends pg.QueryResultRow>(config: string | pg.ClientConfig, sql: string): Promise<T[]> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

// Removing every cluster here, not in the tests, so a failed assertion never leaves a postmaster behind.
afterAll(async () => {
  for (const c of created) await c.remove().catch(() => {});
  for (const d of strayDirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

describe('cluster', { timeout: 30_000 }, () => {
  let main: RunningCluster;

  it('starts a throwaway cluster that answers queries', async () => {
    main = await track(createThrowawayCluster());
    expect(main.host).toBe('127.0.0.1');
    expect(path.basename(path.dirname(main.dataDir))).toMatch(/^lifeboat-pg-/);
    const [row] = await query<{ version: string }>(main.url(), 'SELECT version()');
    expect(row?.version).toContain('PostgreSQL 15');
    expect(main.major).toBe(15);
  });

  it('reuses a cluster that is already running on the same data folder', async () => {
    const again = await startCluster({ dataDir: main.dataDir, binDir: main.binDir });
    expect(again.port).toBe(main.port);
    expect(again.major).toBe(main.major);
  });

  it('keeps data across stop and start, and stop is idempotent', async () => {
    await query(main.url(), 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$survives$$)');
    await main.stop();
    await main.stop();
    await expect(query(main.url(), 'SELECT 1')).rejects.toThrow();

    const restarted = await startCluster({ dataDir: main.dataDir, binDir: main.binDir });
    const rows = await query<{ v: string }>(restarted.url(), 'SELECT v FROM kept');
    expect(rows).toEqual([{ v: 'survives' }]);
    main = restarted;
  });

  it('starts again over the stale pid file of a killed postmaster', async () => {
    const pid = Number(readFileSync(path.join(main.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    const revived = await startCluster({ dataDir: main.dataDir, binDir: main.binDir });
    const rows = await query<{ v: string }>(revived.url(), 'SELECT v FROM kept');
    expect(rows).toEqual([{ v: 'survives' }]);
    main = revived;
  });

  it('remove() stops the cluster and deletes its folder', async () => {
    const c = await track(createThrowawayCluster());
    const root = path.dirname(c.dataDir);
    expect(existsSync(root)).toBe(true);
    await c.remove();
    expect(existsSync(root)).toBe(false);
    await expect(query(c.url(), 'SELECT 1')).rejects.toThrow();
    await c.stop();
  });

  it('enforces the password when one is given', async () => {
    const password = 'p@ss w:rd/?#%';
    const c = await track(createThrowawayCluster({ password }));
    const base = { host: c.host, port: c.port, user: c.superuser, database: 'postgres' };

    await expect(query(base, 'SELECT 1')).rejects.toThrow();
    await expect(query({ ...base, password: 'wrong' }, 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });
    expect(await query({ ...base, password }, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    expect(await query(c.url('postgres'), 'SELECT current_user AS u')).toEqual([{ u: 'postgres' }]);
  });

  it('names what to install when a major is missing', () => {
    expect(() => findServerBinDir(9)).toThrow(/apt-get install postgresql-9/);
  });

  it.skipIf(process.getuid?.() !== 0)('explains when the postgres user cannot reach the folder', async () => {
    const hidden = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-hidden-'));
    strayDirs.push(hidden);
    await expect(startCluster({ dataDir: path.join(hidden, 'data') })).rejects.toThrow(
      `PostgreSQL runs as the postgres OS user, which cannot enter ${hidden}.`,
    );
  });
});
