// Restores onto a fresh cluster whose roles are missing (created from the globals saved beside the dump, or refused
// with ROLES_MISSING), and cancelling a restore mid pg_restore: the new database dropped, no temp file left.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { seedDemoDatabase } from '../../scripts/lib/seed';
import { sql, waitFor, withClient } from '../helpers/db';
import { Stack, listFiles, tableChecksums, toolProcsFor, type BackupRow, type Spawned } from '../helpers/backups';
import { backupNow, databases, makeTarget, restoreAndWait, restoreInput, tableOwner, why } from '../helpers/restores';
import { startRestore } from '../../lib/restores/start-restore';
import { cancelJob } from '../../lib/jobs/cancel-job';

let cluster: RunningCluster | undefined;
let fresh: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let storageDir: string;
let storageId: string;
let sourceId: string;
let freshId: string;
let backup: BackupRow;
let source: Record<string, string>;

const s = () => stack!;

beforeAll(async () => {
  // Two clusters with different superuser passwords, as two real servers would have.
  const started = await Promise.allSettled([
    createThrowawayCluster({ password: `pw-${randomBytes(6).toString('hex')}` }),
    createThrowawayCluster({ password: `other-${randomBytes(6).toString('hex')}` }),
  ]);
  // Keep whichever started, so afterAll removes it even when the other failed.
  [cluster, fresh] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  if (!cluster || !fresh) throw new Error('unreachable');
  stack = await new Stack(cluster, 'lifeboat_restores_roles').init();
  await seedDemoDatabase(cluster.url('postgres'), 'eitherway');
  await sql(cluster.url('postgres'), 'CREATE ROLE app_owner');
  await sql(cluster.url('eitherway'), 'ALTER TABLE core.users OWNER TO app_owner');
  storageDir = s().tempDir('lifeboat-store-');
  storageId = (await s().storage('main', storageDir)).id;
  sourceId = (await makeTarget(s(), { name: 'source', database: 'eitherway', storageId })).id;
  freshId = (await makeTarget(s(), { name: 'fresh', cluster: fresh, database: null })).id;
  worker = s().spawnWorker();
  await s().workerReady(worker);
  backup = await backupNow(s(), worker, sourceId);
  source = await tableChecksums(cluster.url('eitherway'));
}, 90_000);

afterAll(async () => {
  await stack?.close();
  await Promise.all([cluster?.remove(), fresh?.remove()]);
}, 60_000);

describe('a fresh cluster without the owning roles', () => {
  const dest = () => ({ mode: 'new' as const, targetId: freshId, database: 'eitherway' });
  const globalsPath = () => path.join(storageDir, backup.globals_file!);

  it('the backup saved the role beside the dump, and the fresh cluster lacks it', async () => {
    expect(backup.globals_file).toBe(`${backup.backup_file}.globals.sql`);
    expect(readFileSync(globalsPath(), 'utf8')).toMatch(/^CREATE ROLE app_owner;$/m);
    expect(await sql(fresh!.url('postgres'), "SELECT 1 FROM pg_roles WHERE rolname = 'app_owner'")).toEqual([]);
  });

  it('preflight reports the missing role as created from the saved globals, with no problem', async () => {
    const job = await restoreAndWait(s(), worker, s().operator, backup.id, dest(), { preflightOnly: true });
    expect(job.status, why(job)).toBe('succeeded');
    const r = job.result as { roles: { owners: string[]; missing: string[]; createdFromGlobals: string[] }; problems: unknown[]; destination: { target: string } };
    expect([...r.roles.owners].sort()).toEqual(['app_owner', 'postgres']);
    expect(r.roles.missing).toEqual(['app_owner']);
    expect(r.roles.createdFromGlobals).toEqual(['app_owner']);
    expect(r.problems).toEqual([]);
    expect(r.destination.target).toBe('fresh');
  });

  it('without the globals file: preflight reports ROLES_MISSING and the restore fails with it, creating nothing', async () => {
    const dbs = await databases(fresh!);
    renameSync(globalsPath(), `${globalsPath()}.moved`);
    try {
      const pf = await restoreAndWait(s(), worker, s().operator, backup.id, dest(), { preflightOnly: true });
      expect(pf.status, why(pf)).toBe('succeeded');
      const r = pf.result as { roles: { missing: string[]; createdFromGlobals: string[] }; problems: { code: string; message: string }[] };
      expect(r.roles).toMatchObject({ missing: ['app_owner'], createdFromGlobals: [] });
      expect(r.problems.map((p) => p.code)).toEqual(['ROLES_MISSING']);
      expect(r.problems[0]!.message).toContain('app_owner');
      const job = await restoreAndWait(s(), worker, s().operator, backup.id, dest());
      expect(job.status).toBe('failed');
      expect(job.error_code).toBe('ROLES_MISSING');
      expect(await databases(fresh!)).toEqual(dbs);
      expect(await sql(fresh!.url('postgres'), "SELECT 1 FROM pg_roles WHERE rolname = 'app_owner'")).toEqual([]);
    } finally {
      renameSync(`${globalsPath()}.moved`, globalsPath());
    }
  });

  it('restores with the role created from the globals: identical rows, core.users owned by app_owner, the fresh cluster\'s own password unchanged', async () => {
    const job = await restoreAndWait(s(), worker, s().operator, backup.id, dest());
    // The fresh cluster's superuser must still sign in with its own password (the globals also hold the source's).
    const signIn = await withClient(fresh!.url('postgres'), async (c) => (await c.query('SELECT 1 AS ok')).rows[0]).catch((e: Error) => e.message);
    expect(signIn, `the fresh cluster no longer accepts its own superuser password (the restore job: ${why(job)})`).toEqual({ ok: 1 });
    expect(job.status, why(job)).toBe('succeeded');
    expect((job.result as { checksOk: boolean }).checksOk).toBe(true);
    expect(await tableOwner(fresh!.url('eitherway'), 'core', 'users')).toBe('app_owner');
    expect(await tableOwner(fresh!.url('eitherway'), 'core', 'sessions')).toBe('postgres');
    expect(await tableChecksums(fresh!.url('eitherway'))).toEqual(source);
    expect((await s().logLines(job.id)).some((l) => l.startsWith('roles created from globals: app_owner'))).toBe(true);
  });
});

describe('cancelling a restore', () => {
  it('mid pg_restore: the job is cancelled, the new database dropped, no temp file or pg_restore left', async () => {
    // 200k rows of md5 text restore in a fraction of a second here, so a CHECK that sleeps per row keeps pg_restore busy.
    await sql(cluster!.url('postgres'), 'CREATE DATABASE bigdb');
    await sql(
      cluster!.url('bigdb'),
      `CREATE TABLE big (id int PRIMARY KEY, a text, b text);
       INSERT INTO big SELECT i, md5(i::text), md5((i * 7)::text) || md5((i * 13)::text) FROM generate_series(1, 200000) i;
       CREATE FUNCTION slow_ok(x int) RETURNS boolean LANGUAGE sql AS 'SELECT true';
       CREATE TABLE slow (x int CHECK (slow_ok(x)));
       INSERT INTO slow SELECT generate_series(1, 4000);
       CREATE OR REPLACE FUNCTION slow_ok(x int) RETURNS boolean LANGUAGE sql AS 'SELECT pg_sleep(0.002) IS NOT NULL';`,
    );
    const t = await makeTarget(s(), { name: 'big', database: 'bigdb', keyTables: ['public.big'], checkStatements: [], storageId });
    const b = await backupNow(s(), worker, t.id);
    const before = await databases(cluster!);

    const { id } = await startRestore(s().operator, restoreInput(b.id, { mode: 'new', targetId: t.id, database: 'bigdb_copy' }), null);
    // Mid-run: pg_restore is copying rows into the new database.
    await waitFor(
      'pg_restore to copy into bigdb_copy',
      async () => (await sql<{ n: number }>(cluster!.url('postgres'), "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'bigdb_copy' AND query LIKE 'COPY%'"))[0]!.n > 0,
      30_000,
      25,
    );
    expect(toolProcsFor(cluster!.port, 'pg_restore').length).toBeGreaterThan(0);
    expect(listFiles(storageDir).filter((f) => f.includes('.restore-'))).toHaveLength(1);
    await cancelJob(s().operator, id, null);
    const job = await s().waitJob(id, undefined, 30_000, worker);
    expect(job.status, why(job)).toBe('cancelled');
    expect(job.error_code).toBe('JOB_CANCELLED');
    expect(job.partial_paths).toEqual([]);
    expect(await databases(cluster!)).toEqual(before);
    expect(listFiles(storageDir).filter((f) => f.includes('.restore-'))).toEqual([]);
    expect(existsSync(path.join(storageDir, `.restore-${id}.dump`))).toBe(false);
    await waitFor('pg_restore to exit', async () => toolProcsFor(cluster!.port, 'pg_restore').length === 0, 5_000, 50);
  }, 60_000);
});
