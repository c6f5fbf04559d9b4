// Restores onto a fresh cluster whose roles are missing: created from the globals saved beside the dump only for an
// admin, without SUPERUSER, REPLICATION, BYPASSRLS or the password unless each is ticked (checked in pg_authid);
// refused for an operator (ROLES_NEED_ADMIN) unless restored without owners; ROLES_MISSING without the globals.
// And cancelling a restore mid pg_restore: the new database dropped, no temp file left.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { seedDemoDatabase } from '../../scripts/lib/seed';
import { sql, waitFor, withClient } from '../helpers/db';
import { Stack, stopStack, listFiles, rejection, tableChecksums, toolProcsFor, type BackupRow, type Spawned } from '../helpers/backups';
import { backupNow, databases, makeTarget, restoreAndWait, restoreInput, tableOwner, why, protectedTarget } from '../helpers/restores';
import { startRestore } from '../../lib/restores/start-restore';
import { cancelJob } from '../../lib/jobs/cancel-job';
import { jobScratchPath } from '../../worker/scratch';

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
  // The source's role is powerful and has a password: the globals carry all of it.
  await sql(cluster.url('postgres'), "CREATE ROLE app_owner SUPERUSER LOGIN REPLICATION BYPASSRLS CREATEROLE PASSWORD 'app-secret'");
  await sql(cluster.url('eitherway'), 'ALTER TABLE core.users OWNER TO app_owner');
  ({ storageDir, storageId, targetId: sourceId, worker, backup } = await protectedTarget(s(), { name: 'source', database: 'eitherway' }));
  freshId = (await makeTarget(s(), { name: 'fresh', cluster: fresh, database: null })).id;
  source = await tableChecksums(cluster.url('eitherway'));
}, 90_000);

afterAll(() => stopStack(stack, cluster, fresh), 60_000);

describe('a fresh cluster without the owning roles', () => {
  const dest = () => ({ mode: 'new' as const, targetId: freshId, database: 'eitherway' });
  const globalsPath = () => path.join(storageDir, backup.globals_file!);

  it('the backup saved the role beside the dump, and the fresh cluster lacks it', async () => {
    expect(backup.globals_file).toBe(`${backup.backup_file}.globals.sql`);
    expect(readFileSync(globalsPath(), 'utf8')).toMatch(/^CREATE ROLE app_owner;$/m);
    expect(await sql(fresh!.url('postgres'), "SELECT 1 FROM pg_roles WHERE rolname = 'app_owner'")).toEqual([]);
  });

  const authid = async () =>
    (await sql<{ rolsuper: boolean; rolreplication: boolean; rolbypassrls: boolean; rolcreaterole: boolean; rolcanlogin: boolean; rolpassword: string | null }>(
      fresh!.url('postgres'),
      "SELECT rolsuper, rolreplication, rolbypassrls, rolcreaterole, rolcanlogin, rolpassword FROM pg_authid WHERE rolname = 'app_owner'",
    ))[0];
  const noRole = async () => expect(await sql(fresh!.url('postgres'), "SELECT 1 FROM pg_roles WHERE rolname = 'app_owner'")).toEqual([]);

  it("an admin's preflight lists the role it will create and exactly the attributes it will get", async () => {
    const job = await restoreAndWait(s(), worker, s().admin, backup.id, dest(), { preflightOnly: true });
    expect(job.status, why(job)).toBe('succeeded');
    const r = job.result as { roles: { owners: string[]; missing: string[]; createdFromGlobals: string[]; toCreate: unknown[] }; problems: unknown[]; destination: { target: string } };
    expect([...r.roles.owners].sort()).toEqual(['app_owner', 'postgres']);
    expect(r.roles.missing).toEqual(['app_owner']);
    expect(r.roles.createdFromGlobals).toEqual(['app_owner']);
    expect(r.roles.toCreate).toEqual([{ name: 'app_owner', attributes: ['NOSUPERUSER', 'NOCREATEROLE', 'NOREPLICATION', 'NOBYPASSRLS', 'INHERIT', 'NOCREATEDB', 'LOGIN'], password: false }]);
    expect(r.problems).toEqual([]);
    expect(r.destination.target).toBe('fresh');
  });

  it("an operator's restore that needs a missing role is refused with ROLES_NEED_ADMIN and creates nothing", async () => {
    const dbs = await databases(fresh!);
    const pf = await restoreAndWait(s(), worker, s().operator, backup.id, dest(), { preflightOnly: true });
    expect((pf.result as { problems: { code: string; message: string }[] }).problems.map((p) => p.code)).toEqual(['ROLES_NEED_ADMIN']);
    const job = await restoreAndWait(s(), worker, s().operator, backup.id, dest());
    expect(job.status, why(job)).toBe('failed');
    expect(job.error_code).toBe('ROLES_NEED_ADMIN');
    expect(job.error_message).toContain('app_owner');
    await noRole();
    expect(await databases(fresh!)).toEqual(dbs);
    // Nor may an operator tick what created roles keep.
    const err = await rejection(startRestore(s().operator, restoreInput(backup.id, dest(), { roleGrants: { superuser: true } }), null));
    expect(err.code).toBe('FORBIDDEN');
  });

  it('an operator may restore without owners: the restoring login owns everything, no role is created', async () => {
    const job = await restoreAndWait(s(), worker, s().operator, backup.id, { mode: 'new', targetId: freshId, database: 'no_owners' }, { withoutOwners: true });
    expect(job.status, why(job)).toBe('succeeded');
    expect(await tableOwner(fresh!.url('no_owners'), 'core', 'users')).toBe(fresh!.superuser);
    expect(await tableChecksums(fresh!.url('no_owners'))).toEqual(source);
    await noRole();
  });

  it('without the globals file: preflight reports ROLES_MISSING and the restore fails with it, creating nothing', async () => {
    const dbs = await databases(fresh!);
    renameSync(globalsPath(), `${globalsPath()}.moved`);
    try {
      const pf = await restoreAndWait(s(), worker, s().admin, backup.id, dest(), { preflightOnly: true });
      expect(pf.status, why(pf)).toBe('succeeded');
      const r = pf.result as { roles: { missing: string[]; createdFromGlobals: string[] }; problems: { code: string; message: string }[] };
      expect(r.roles).toMatchObject({ missing: ['app_owner'], createdFromGlobals: [] });
      expect(r.problems.map((p) => p.code)).toEqual(['ROLES_MISSING']);
      expect(r.problems[0]!.message).toContain('app_owner');
      const job = await restoreAndWait(s(), worker, s().admin, backup.id, dest());
      expect(job.status).toBe('failed');
      expect(job.error_code).toBe('ROLES_MISSING');
      expect(await databases(fresh!)).toEqual(dbs);
      await noRole();
    } finally {
      renameSync(`${globalsPath()}.moved`, globalsPath());
    }
  });

  it("an admin's restore creates the role without SUPERUSER, CREATEROLE, REPLICATION, BYPASSRLS or password; the fresh cluster's own password unchanged", async () => {
    const job = await restoreAndWait(s(), worker, s().admin, backup.id, dest());
    // The fresh cluster's superuser must still sign in with its own password (the globals also hold the source's).
    const signIn = await withClient(fresh!.url('postgres'), async (c) => (await c.query('SELECT 1 AS ok')).rows[0]).catch((e: Error) => e.message);
    expect(signIn, `the fresh cluster no longer accepts its own superuser password (the restore job: ${why(job)})`).toEqual({ ok: 1 });
    expect(job.status, why(job)).toBe('succeeded');
    expect(await authid()).toEqual({ rolsuper: false, rolreplication: false, rolbypassrls: false, rolcreaterole: false, rolcanlogin: true, rolpassword: null });
    expect((job.result as { checksOk: boolean }).checksOk).toBe(true);
    expect(await tableOwner(fresh!.url('eitherway'), 'core', 'users')).toBe('app_owner');
    expect(await tableOwner(fresh!.url('eitherway'), 'core', 'sessions')).toBe('postgres');
    expect(await tableChecksums(fresh!.url('eitherway'))).toEqual(source);
    expect(await s().logLines(job.id)).toContain('role created: app_owner NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT NOCREATEDB LOGIN without a password');
  });

  it('an admin who ticks superuser and password gets exactly those, and nothing else', async () => {
    await sql(fresh!.url('postgres'), 'DROP DATABASE eitherway');
    await sql(fresh!.url('postgres'), 'DROP DATABASE no_owners');
    await sql(fresh!.url('postgres'), 'DROP ROLE app_owner');
    const job = await restoreAndWait(s(), worker, s().admin, backup.id, dest(), { roleGrants: { superuser: true, password: true } });
    expect(job.status, why(job)).toBe('succeeded');
    const [hash] = await sql<{ rolpassword: string }>(cluster!.url('postgres'), "SELECT rolpassword FROM pg_authid WHERE rolname = 'app_owner'");
    expect(hash!.rolpassword).toMatch(/^SCRAM-SHA-256\$/);
    expect(await authid()).toEqual({ rolsuper: true, rolreplication: false, rolbypassrls: false, rolcreaterole: false, rolcanlogin: true, rolpassword: hash!.rolpassword });
    // The hash never reaches the log.
    expect((await s().logLines(job.id)).some((l) => l.includes('SCRAM-SHA-256'))).toBe(false);
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
    // The decompressed archive is in the job's scratch folder, never in the storage (issue 9).
    expect(listFiles(jobScratchPath(id))).toContain('archive.dump');
    expect(listFiles(storageDir).filter((f) => f.includes('.restore-'))).toEqual([]);
    await cancelJob(s().operator, id, null);
    const job = await s().waitJob(id, undefined, 30_000, worker);
    expect(job.status, why(job)).toBe('cancelled');
    expect(job.error_code).toBe('JOB_CANCELLED');
    expect(job.partial_paths).toEqual([]);
    expect(await databases(cluster!)).toEqual(before);
    expect(listFiles(storageDir).filter((f) => f.includes('.restore-'))).toEqual([]);
    expect(existsSync(path.join(storageDir, `.restore-${id}.dump`))).toBe(false);
    expect(existsSync(jobScratchPath(id))).toBe(false);
    await waitFor('pg_restore to exit', async () => toolProcsFor(cluster!.port, 'pg_restore').length === 0, 5_000, 50);
  }, 60_000);
});
