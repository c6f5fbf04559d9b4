// Guided repair end to end with a real worker and PostgreSQL 15: a check (the default) of the healthy demo database
// reports no corruption and rebuilds nothing (same relfilenodes, no vacuum or analyze counted); a repair is refused
// without a check that found damage unless forced; forced, the demo database is reindexed, vacuumed and found
// healthy with its data unchanged; a REINDEX behind another session's lock stops with REPAIR_LOCK_TIMEOUT; an index with a garbage page found by amcheck and cured by REINDEX; a table with a
// garbage page that no repair cures, so the result offers the restore wizard; a user who may not install amcheck; a
// user who may not reindex; cancelling a VACUUM FULL that waits for a lock; and the admin role, the database choice and
// the typed confirmation enforced before any job exists.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, startCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { seedDemoDatabase } from '../../scripts/lib/seed';
import { sql, waitFor, withClient } from '../helpers/db';
import { Stack, stopStack, tableChecksums, type JobRow, type Spawned } from '../helpers/backups';
import { startRepair } from '../../lib/repairs/start-repair';
import { cancelJob } from '../../lib/jobs/cancel-job';
import { UserError } from '../../lib/errors';
import type { Role } from '../../lib/auth/roles';
import { getDb } from '../../lib/db';

interface IndexProblem { index: string; table: string; code: string | null; error: string }
interface AmcheckReport { function: string; checked: number; corrupt: IndexProblem[]; unchecked: IndexProblem[] }
interface RepairResult {
  mode: 'check' | 'repair';
  corruptionFound: boolean | null;
  database: string;
  amcheck: string | null;
  before: AmcheckReport | null;
  reindex: { ok: boolean; done: number; error: string | null } | null;
  vacuum: { ok: boolean; done: number; error: string | null } | null;
  after: AmcheckReport | null;
  healthy: boolean | null;
  checkStillFails: boolean;
  corruptIndexes: string[];
  restoreWizard: string | null;
}

const VICTIM_SETTINGS = { autovacuum: 'off', fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };
const password = `pw-${randomBytes(6).toString('hex')}`;

let cluster: RunningCluster | undefined;
/** A second cluster whose files are damaged on purpose (the console's database never lives there). */
let victim: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
const s = () => stack!;

const why = (job: JobRow) => `${job.status} ${job.error_code ?? ''}: ${job.error_message ?? ''}\n${job.error_detail ?? ''}`;
const repairJobs = async () => getDb().job.count({ where: { kind: 'repair' } });

type Input = { database?: string; confirm?: string; mode?: 'check' | 'repair'; force?: boolean; checkJobId?: string; lockTimeoutSeconds?: number };
/** A forced repair (no check first), as the tests of the repair steps need. */
const forced = (confirm: string, database?: string): Input => ({ mode: 'repair', force: true, confirm, ...(database ? { database } : {}) });

/** relfilenode of every table and index of the user's schemas: REINDEX and VACUUM FULL give each a new one. */
async function relfilenodes(url: string) {
  return sql<{ rel: string; node: string }>(
    url,
    `SELECT c.oid::regclass::text AS rel, c.relfilenode::text AS node FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'i') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1`,
  );
}

async function repairAndWait(targetId: string, input: Input, actor = s().admin) {
  const { id } = await startRepair(actor, targetId, input, '192.0.2.20');
  const job = await s().waitJob(id, ['succeeded', 'failed', 'cancelled'], 60_000, worker);
  return { id, job, result: job.result as unknown as RepairResult, log: await s().logLines(id) };
}

async function rejection(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a refusal').toBeInstanceOf(UserError);
  return err as UserError;
}

/** Overwrites the page header of `block` (64 bytes of 0xA5), so PostgreSQL refuses the page as invalid. */
function garbage(cluster: RunningCluster, relFile: string, block: number) {
  const file = path.join(cluster.dataDir, relFile);
  expect(statSync(file).size, `${relFile} has a block ${block}`).toBeGreaterThanOrEqual((block + 1) * 8192);
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, block * 8192);
  } finally {
    closeSync(fd);
  }
}

const extensions = async (c: RunningCluster, db: string) => (await sql<{ extname: string }>(c.url(db), 'SELECT extname FROM pg_extension ORDER BY 1')).map((r) => r.extname);

beforeAll(async () => {
  [cluster, victim] = await Promise.all([
    createThrowawayCluster({ password }),
    // No autovacuum: nothing but the test may read the damaged pages.
    createThrowawayCluster({ password, settings: VICTIM_SETTINGS }),
  ]);
  stack = await new Stack(cluster, 'lifeboat_repair').init();
  await seedDemoDatabase(cluster.url('postgres'), 'eitherway');

  // Damage, with the victim stopped: a leaf page of one index, and the first heap page of core.users.
  await seedDemoDatabase(victim.url('postgres'), 'damaged_index');
  await seedDemoDatabase(victim.url('postgres'), 'damaged_heap');
  const fileOf = async (db: string, rel: string) => (await sql<{ p: string }>(victim!.url(db), 'SELECT pg_relation_filepath($1::regclass) AS p', [rel]))[0]!.p;
  const indexFile = await fileOf('damaged_index', 'core.sessions_user_id_idx');
  const heapFile = await fileOf('damaged_heap', 'core.users');
  await victim.stop('fast');
  garbage(victim, indexFile, 1);
  garbage(victim, heapFile, 0);
  await startCluster({ dataDir: victim.dataDir, binDir: victim.binDir, port: victim.port, password, settings: VICTIM_SETTINGS });

  worker = await s().readyWorker();
}, 120_000);

afterAll(() => stopStack(stack, cluster, victim), 60_000);

describe('guided repair of the demo database', () => {
  let targetId: string;

  it('a check (the default) finds no corruption and rebuilds nothing: same relfilenodes, no vacuum or analyze', async () => {
    targetId = (await s().target({ name: 'eitherway', database: 'eitherway' })).id;
    const url = cluster!.url('eitherway');
    const nodes = await relfilenodes(url);
    const stats = async () => sql<{ rel: string; v: string; a: string }>(url, `SELECT relid::regclass::text AS rel, (vacuum_count + autovacuum_count)::text AS v, (analyze_count + autoanalyze_count)::text AS a FROM pg_stat_user_tables ORDER BY 1`);
    const statsBefore = await stats();
    const { job, result, log } = await repairAndWait(targetId, {});
    expect(job.status, why(job)).toBe('succeeded');
    expect(result).toMatchObject({ mode: 'check', database: 'eitherway', amcheck: 'bt_index_check', healthy: true, corruptionFound: false, reindex: null, vacuum: null, after: null, corruptIndexes: [] });
    expect(result.before).toEqual({ function: 'bt_index_check', checked: 4, corrupt: [], unchecked: [] });
    const text = log.join('\n');
    expect(text).toMatch(/no corruption found: amcheck checked 4 index\(es\); nothing was rebuilt/);
    expect(text).not.toMatch(/REINDEX|VACUUM|reindexed|vacuuming/);
    expect(log.filter((l) => l.startsWith('step:'))).toEqual(['step: connecting', 'step: checking indexes (amcheck)']);
    // Nothing was rebuilt or rewritten, vacuumed or analyzed, and amcheck is gone again.
    expect(await relfilenodes(url)).toEqual(nodes);
    await sql(url, 'SELECT pg_stat_clear_snapshot()');
    expect(await stats()).toEqual(statsBefore);
    expect(await extensions(cluster!, 'eitherway')).toEqual(['plpgsql']);

    // A repair needs a check that found something: not this one, and not none at all (nothing is queued).
    const n = await repairJobs();
    const clean = await rejection(startRepair(s().admin, targetId, { mode: 'repair', confirm: 'eitherway', checkJobId: job.id }, null));
    expect(clean.code).toBe('REPAIR_NOT_NEEDED');
    expect(clean.message).toBe(`The check ${job.id} found no corrupt index in "eitherway"; there is nothing for a repair to fix.`);
    const none = await rejection(startRepair(s().admin, targetId, { mode: 'repair', confirm: 'eitherway' }, null));
    expect(none.code).toBe('REPAIR_NOT_NEEDED');
    expect(none.fields).toEqual({ checkJobId: 'run a check first, or force the repair' });
    expect(await repairJobs()).toBe(n);
  });

  it('forced by an admin: amcheck, REINDEX, VACUUM FULL and amcheck again, healthy, and the data unchanged', async () => {
    const before = await tableChecksums(cluster!.url('eitherway'));
    const nodes = await relfilenodes(cluster!.url('eitherway'));
    const { id, job, result, log } = await repairAndWait(targetId, forced('eitherway'));
    expect(job.status, why(job)).toBe('succeeded');
    expect(job.progress).toBe(100);
    expect(job.partial_paths).toEqual([]);

    // The result: healthy, nothing corrupt before or after, every step done.
    expect(result).toMatchObject({ mode: 'repair', database: 'eitherway', amcheck: 'bt_index_parent_check', healthy: true, checkStillFails: false, corruptIndexes: [], restoreWizard: null });
    expect(result.before).toEqual({ function: 'bt_index_parent_check', checked: 4, corrupt: [], unchecked: [] });
    expect(result.after).toEqual(result.before);
    expect(result.reindex).toMatchObject({ ok: true, error: null });
    expect(result.reindex!.done).toBeGreaterThanOrEqual(4); // the demo's four, plus the catalogs' own
    expect(result.vacuum).toMatchObject({ ok: true, error: null });
    expect(result.vacuum!.done).toBeGreaterThanOrEqual(2);

    // The log tells the story: amcheck results, psql's REINDEX and VACUUM lines, the verdict.
    const text = log.join('\n');
    expect(text).toMatch(/amcheck: extension installed for this repair/);
    expect(text).toMatch(/amcheck before the repair: 4 index\(es\) checked, none corrupt/);
    expect(text).toMatch(/step: REINDEX DATABASE "eitherway"/);
    expect(text).toMatch(/^INFO: {2}index "users_pkey" was reindexed$/m);
    expect(text).toMatch(/^INFO: {2}table "core.sessions" was reindexed$/m);
    expect(text).toMatch(/^REINDEX done: \d+ index\(es\) rebuilt$/m);
    expect(text).toMatch(/^INFO: {2}vacuuming "core.users"$/m);
    expect(text).toMatch(/^INFO: {2}analyzing "core.sessions"$/m);
    expect(text).toMatch(/^VACUUM done: \d+ table\(s\) rewritten and analyzed$/m);
    expect(text).toMatch(/amcheck after the repair: 4 index\(es\) checked, none corrupt/);
    expect(text).toMatch(/healthy: amcheck finds no corrupt index after the repair/);
    expect(text).not.toMatch(/CPU: user:/);
    expect(text).not.toContain(password);
    expect(text).toMatch(/forced by an admin without a check that found damage; each lock is waited for at most 60 s/);
    // Every table and index was rebuilt.
    const now = new Map((await relfilenodes(cluster!.url('eitherway'))).map((r) => [r.rel, r.node]));
    for (const r of nodes) expect(now.get(r.rel), r.rel).not.toBe(r.node);

    // Nothing left behind: same rows, amcheck removed again (it would otherwise ride along in every backup).
    expect(await tableChecksums(cluster!.url('eitherway'))).toEqual(before);
    expect(await extensions(cluster!, 'eitherway')).toEqual(['plpgsql']);
    const audit = await getDb().auditLog.findFirst({ where: { action: 'job.start', entityId: id } });
    expect(audit?.params).toMatchObject({ kind: 'repair', targetId, database: 'eitherway', mode: 'repair', force: true });
  });

  it('a wrong or missing confirmation is VALIDATION, and no job is made', async () => {
    const n = await repairJobs();
    for (const confirm of ['', 'Eitherway', 'eitherway ', 'postgres']) {
      const err = await rejection(startRepair(s().admin, targetId, { mode: 'repair', force: true, confirm }, null));
      expect(err.code).toBe('VALIDATION');
      expect(err.fields).toEqual({ confirm: 'does not match the database name' });
      expect(err.message).toBe('Type the database name "eitherway" exactly to confirm.');
      expect(err.hint).toMatch(/exclusive locks/);
    }
    // Another database than the target's own is refused even when typed consistently.
    const other = await rejection(startRepair(s().admin, targetId, { ...forced('postgres', 'postgres') }, null));
    expect(other.code).toBe('VALIDATION');
    expect(other.fields).toEqual({ database: 'must be eitherway' });
    expect(await repairJobs()).toBe(n);
  });

  it('an operator or viewer is FORBIDDEN, even with the right confirmation, and no job is made', async () => {
    const n = await repairJobs();
    for (const role of ['operator', 'viewer'] as Role[]) {
      const u = await getDb().user.create({ data: { email: `${role}-${randomBytes(3).toString('hex')}@repair.test`, name: role, role } });
      for (const input of [{}, forced('eitherway')]) {
        const err = await rejection(startRepair({ id: u.id, email: u.email, role }, targetId, input, null));
        expect(err.code).toBe('FORBIDDEN');
        expect(err.status).toBe(403);
      }
      const err = await rejection(startRepair({ id: u.id, email: u.email, role }, targetId, { confirm: 'eitherway' }, null));
      expect(err.code).toBe('FORBIDDEN');
      expect(err.status).toBe(403);
    }
    expect(await repairJobs()).toBe(n);
  });
});

describe('a target covering every database (damaged on purpose)', () => {
  let victimId: string;

  beforeAll(async () => {
    victimId = (await s().target({ name: 'victim', cluster: victim, database: null })).id;
  });

  it('requires choosing the database, and the confirmation is that database', async () => {
    const n = await repairJobs();
    const none = await rejection(startRepair(s().admin, victimId, { confirm: 'damaged_index' }, null));
    const noneCheck = await rejection(startRepair(s().admin, victimId, {}, null));
    expect(noneCheck.fields).toEqual({ database: 'choose a database' });
    expect(none.code).toBe('VALIDATION');
    expect(none.fields).toEqual({ database: 'choose a database' });
    const wrong = await rejection(startRepair(s().admin, victimId, { database: 'damaged_index', mode: 'repair', force: true, confirm: 'damaged_heap' }, null));
    expect(wrong.code).toBe('VALIDATION');
    expect(wrong.fields).toEqual({ confirm: 'does not match the database name' });
    expect(await repairJobs()).toBe(n);
  });

  it('a corrupt index: the check names it and offers the repair; the repair after that check cures it, healthy', async () => {
    const check = await repairAndWait(victimId, { database: 'damaged_index' });
    expect(check.job.status, why(check.job)).toBe('succeeded');
    expect(check.result).toMatchObject({ mode: 'check', healthy: false, corruptionFound: true, corruptIndexes: ['core.sessions_user_id_idx'], reindex: null, vacuum: null });
    expect(check.log.join('\n')).toMatch(/corruption found: 1 corrupt index\(es\) \(core\.sessions_user_id_idx\); nothing was rebuilt\. The next step is a repair/);
    // The check of another database does not open a repair of this one.
    const other = await rejection(startRepair(s().admin, victimId, { database: 'damaged_heap', mode: 'repair', confirm: 'damaged_heap', checkJobId: check.id }, null));
    expect(other.code).toBe('VALIDATION');
    const { job, result, log } = await repairAndWait(victimId, { database: 'damaged_index', mode: 'repair', confirm: 'damaged_index', checkJobId: check.id });
    expect(job.status, why(job)).toBe('succeeded');
    expect(result.before?.corrupt).toEqual([
      { index: 'core.sessions_user_id_idx', table: 'core.sessions', code: 'XX001', error: expect.stringMatching(/^invalid page in block 1 of relation base\/\d+\/\d+$/) },
    ]);
    expect(result.before?.checked).toBe(4);
    expect(result.after).toMatchObject({ checked: 4, corrupt: [] });
    expect(result).toMatchObject({ healthy: true, checkStillFails: false, corruptIndexes: [], restoreWizard: null });
    const text = log.join('\n');
    expect(text).toMatch(/amcheck: CORRUPT index core\.sessions_user_id_idx on core\.sessions: invalid page in block 1/);
    expect(text).toMatch(new RegExp(`after check ${check.id} found damage`));
    expect(text).toMatch(/amcheck before the repair: 4 index\(es\) checked, 1 corrupt: core\.sessions_user_id_idx/);
    expect(text).toMatch(/amcheck after the repair: 4 index\(es\) checked, none corrupt/);
    // The index answers again (an index scan, so the rebuilt index is what is read).
    const row = await withClient(victim!.url('damaged_index'), async (c) => {
      await c.query('SET enable_seqscan = off');
      return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM core.sessions WHERE user_id > 0')).rows[0];
    });
    expect(row?.n).toBe(2000);
  });

  it('a damaged table: REINDEX and VACUUM fail on it, amcheck still fails, and the result offers the restore wizard', async () => {
    const { job, result, log } = await repairAndWait(victimId, forced('damaged_heap', 'damaged_heap'));
    // The job ran to its verdict: the verdict is "still damaged", not a crash.
    expect(job.status, why(job)).toBe('succeeded');
    expect(result.healthy).toBe(false);
    expect(result.checkStillFails).toBe(true);
    expect(result.corruptIndexes).toContain('core.users_pkey');
    expect(result.after!.corrupt.find((x) => x.index === 'core.users_pkey')).toMatchObject({ table: 'core.users', code: 'XX001', error: expect.stringMatching(/^invalid page in block 0 of relation/) });
    expect(result.before!.corrupt.map((x) => x.index)).toContain('core.users_pkey');
    expect(result.reindex).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid page in block 0 of relation/) });
    expect(result.vacuum).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid page in block 0 of relation/) });
    expect(result.restoreWizard).toBe(`/restore?targetId=${victimId}`);
    const text = log.join('\n');
    expect(text).toMatch(/^ERROR: {2}invalid page in block 0 of relation/m);
    expect(text).toMatch(/REINDEX failed after \d+ index\(es\): invalid page in block 0/);
    expect(text).toMatch(/still damaged: amcheck still fails on .*core\.users_pkey.*Restore the last good backup/);
    expect(await extensions(victim!, 'damaged_heap')).toEqual(['plpgsql']);
  });
});

describe('users with fewer rights', () => {
  it('an owner who may not install amcheck: the checks are skipped and said so, REINDEX and VACUUM still run', async () => {
    await sql(cluster!.url('postgres'), `CREATE ROLE app_owner LOGIN PASSWORD '${password}'`);
    await sql(cluster!.url('postgres'), 'CREATE DATABASE owned_app OWNER app_owner');
    const ownerUrl = cluster!.url('owned_app').replace(/^postgres:\/\/[^@]+@/, `postgres://app_owner:${encodeURIComponent(password)}@`);
    await sql(ownerUrl, 'CREATE TABLE items (id int PRIMARY KEY, name text UNIQUE); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 500) g');
    const t = await s().target({ name: 'owned', database: 'owned_app', dbUser: 'app_owner', password });
    const { job, result, log } = await repairAndWait(t.id, forced('owned_app'));
    expect(job.status, why(job)).toBe('succeeded');
    expect(result).toMatchObject({ amcheck: null, before: null, after: null, healthy: null, checkStillFails: false, restoreWizard: null });
    expect(result.reindex!.ok).toBe(true);
    expect(result.vacuum!.ok).toBe(true);
    const text = log.join('\n');
    expect(text).toMatch(/amcheck: not installed and cannot be installed here \(permission denied to create extension "amcheck"/);
    expect(text).toMatch(/^INFO: {2}vacuuming "public.items"$/m);
    expect(await extensions(cluster!, 'owned_app')).toEqual(['plpgsql']);
  });

  it('a user who neither owns the database nor is superuser: REPAIR_FAILED before anything runs', async () => {
    await sql(cluster!.url('postgres'), `CREATE ROLE stranger LOGIN PASSWORD '${password}'`);
    const t = await s().target({ name: 'stranger', database: 'eitherway', dbUser: 'stranger', password });
    const { job, log } = await repairAndWait(t.id, forced('eitherway'));
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('REPAIR_FAILED');
    expect(job.error_message).toBe('User "stranger" neither owns "eitherway" nor is a superuser, so PostgreSQL would refuse REINDEX DATABASE.');
    expect(log.filter((l) => l.startsWith('step:'))).toEqual(['step: connecting']);
  });
});

describe('cancelling', () => {
  it('a VACUUM FULL waiting for a lock is cancelled on the server too, and amcheck is removed again', async () => {
    await seedDemoDatabase(cluster!.url('postgres'), 'cancel_me');
    const t = await s().target({ name: 'cancel-me', database: 'cancel_me' });
    // An open transaction holding ACCESS SHARE on core.users: amcheck and REINDEX pass, VACUUM FULL must wait.
    const holder = new pg.Client({ connectionString: cluster!.url('cancel_me') });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE core.users IN ACCESS SHARE MODE');
      const { id } = await startRepair(s().admin, t.id, forced('cancel_me'), null);
      await waitFor(
        'VACUUM FULL to wait for the lock',
        async () => (await sql<{ n: number }>(cluster!.url('postgres'), "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'cancel_me' AND wait_event_type = 'Lock' AND query LIKE 'VACUUM%'"))[0]!.n > 0,
        30_000,
        100,
      );
      expect((await s().job(id))!.step).toBe('VACUUM (FULL, ANALYZE)');
      await cancelJob(s().admin, id, null);
      const job = await s().waitJob(id, ['succeeded', 'failed', 'cancelled'], 30_000, worker);
      expect(job.status, why(job)).toBe('cancelled');
      expect(job.error_code).toBe('JOB_CANCELLED');
      expect(job.partial_paths).toEqual([]);
      // psql got SIGINT and sent a cancel request: no VACUUM is left waiting behind the lock.
      const left = await sql<{ n: number }>(cluster!.url('postgres'), "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'cancel_me' AND query LIKE 'VACUUM%' AND state <> 'idle'");
      expect(left[0]!.n).toBe(0);
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      await holder.end().catch(() => {});
    }
    expect(await extensions(cluster!, 'cancel_me')).toEqual(['plpgsql']);
  });
});

describe('a lock held by another session', () => {
  it('REINDEX waits at most the lock timeout, then the repair fails with REPAIR_LOCK_TIMEOUT instead of hanging', async () => {
    await seedDemoDatabase(cluster!.url('postgres'), 'locked');
    const t = await s().target({ name: 'locked', database: 'locked' });
    // An open transaction holding ROW EXCLUSIVE on core.sessions (as any writer does): REINDEX needs SHARE on it.
    const holder = new pg.Client({ connectionString: cluster!.url('locked') });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE core.sessions IN ROW EXCLUSIVE MODE');
      const startedAt = Date.now();
      const { job, log } = await repairAndWait(t.id, { ...forced('locked'), lockTimeoutSeconds: 2 });
      expect(job.status).toBe('failed');
      expect(job.error_code).toBe('REPAIR_LOCK_TIMEOUT');
      expect(job.error_message).toMatch(/^REINDEX waited more than 2 s for a table lock in "locked" \(another session holds one\) and stopped after \d+ index\(es\); VACUUM FULL did not run\.$/);
      expect(job.error_hint).toMatch(/pg_stat_activity and pg_locks/);
      expect(Date.now() - startedAt).toBeLessThan(45_000);
      expect(log.join('\n')).toMatch(/^ERROR: {2}canceling statement due to lock timeout$/m);
      expect(log.some((l) => l === 'step: VACUUM (FULL, ANALYZE)')).toBe(false);
      // Nothing is left waiting on the server.
      const left = await sql<{ n: number }>(cluster!.url('postgres'), "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'locked' AND query LIKE 'REINDEX%' AND state <> 'idle'");
      expect(left[0]!.n).toBe(0);
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      await holder.end().catch(() => {});
    }
    expect(await extensions(cluster!, 'locked')).toEqual(['plpgsql']);
  });
});
