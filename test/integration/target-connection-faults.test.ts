// The worker's connections to a target under faults: a session terminated mid-job (pg_terminate_backend) fails that job
// with TARGET_CONNECTION_LOST, or is logged when the job no longer needs it, and never ends the worker process; a key
// table that cannot be fingerprinted does not abort the snapshot; a test-connection job another worker owns keeps
// its row untouched.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { sql, waitFor } from '../helpers/db';
import { Stack, alive, holdLock, startStack, stopStack, workerTail, type Spawned } from '../helpers/backups';
import { why } from '../helpers/restores';
import { startBackup } from '../../lib/backups/start-backup';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import { runJob } from '../../lib/jobs/lifecycle';
import { markWorkerStopped, registerWorker } from '../../lib/workers/register-worker';
import { testConnection } from '../../worker/tasks/test-connection';

// No host here has a PostgreSQL server newer than every installed pg_dump, so the one case of test-connection that
// writes its result before failing (no fitting pg_dump) is brought about by making the in-process tool lookup refuse.
// The spawned worker is not affected.
const tools = vi.hoisted(() => ({ refuse: false }));
vi.mock('../../worker/pg/tools', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../worker/pg/tools')>();
  return {
    ...real,
    toolsFor: async (major: number, version: string) => {
      if (tools.refuse) throw new UserError('TOOL_TOO_OLD', `The server is PostgreSQL ${major} (${version}); no pg_dump of that major here (test).`);
      return real.toolsFor(major, version);
    },
  };
});

let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let storageId: string;
const s = () => stack!;
const DB = 'faults';

async function backupDone(targetId: string, timeoutMs = 60_000) {
  const { id } = await startBackup(s().operator, targetId);
  return s().waitJob(id, undefined, timeoutMs, worker);
}

/** The pid of the worker's session on DB that matches `where` (pg_stat_activity columns), once there is one. */
async function lifeboatSession(where: string): Promise<number> {
  return waitFor(
    `a Lifeboat session of ${DB} where ${where}`,
    async () =>
      (await sql<{ pid: number }>(cluster!.url('postgres'), `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lifeboat' AND ${where}`, [DB]))[0]?.pid,
    20_000,
    50,
  );
}

async function terminate(pid: number) {
  const [r] = await sql<{ ok: boolean }>(cluster!.url('postgres'), 'SELECT pg_terminate_backend($1) AS ok', [pid]);
  expect(r!.ok).toBe(true);
}

beforeAll(async () => {
  ({ cluster, stack } = await startStack('lifeboat_target_faults', { password: true }));
  await sql(cluster.url('postgres'), `CREATE DATABASE ${DB}`);
  await sql(
    cluster.url(DB),
    `CREATE TABLE accounts (id int PRIMARY KEY, name text);
     INSERT INTO accounts SELECT i, 'account ' || i FROM generate_series(1, 42) i;
     CREATE TABLE orders (id int PRIMARY KEY, account int);
     INSERT INTO orders SELECT i, i % 42 + 1 FROM generate_series(1, 100) i;`,
  );
  ({ storageId } = await s().localStorage());
  worker = await s().readyWorker();
}, 120_000);

afterAll(() => stopStack(stack, cluster), 60_000);

describe('a target session terminated mid-job', () => {
  it('while a statement runs: the job fails with TARGET_CONNECTION_LOST, the worker lives and takes the next job', async () => {
    const t = await s().target({ name: 'terminated mid-statement', database: DB, keyTables: ['public.accounts'], storageId });
    // The key-table fingerprint waits behind this lock, so the worker's session is caught in the middle of a statement.
    const lock = await holdLock(cluster!.url(DB), 'accounts');
    let jobId: string;
    try {
      ({ id: jobId } = await startBackup(s().operator, t.id));
      await terminate(await lifeboatSession(`wait_event_type = 'Lock'`));
    } finally {
      await lock.release();
    }
    const job = await s().waitJob(jobId, undefined, 30_000, worker);
    expect(job.status, why(job) + workerTail(worker)).toBe('failed');
    expect(job.error_code).toBe('TARGET_CONNECTION_LOST');
    expect(job.error_message).toContain(`database "${DB}"`);
    expect(job.error_message).toContain('terminating connection due to administrator command');
    const lines = await s().logLines(jobId);
    expect(lines.at(-1)).toMatch(/^failed: \[TARGET_CONNECTION_LOST\] /);
    expect((await s().backupRows(jobId)).map((r) => [r.status, r.error_code])).toEqual([['failed', 'TARGET_CONNECTION_LOST']]);

    expect(alive(worker), workerTail(worker)).toBe(true);
    const next = await backupDone(t.id);
    expect(next.status, why(next)).toBe('succeeded');
    expect(next.worker_id).toBe(job.worker_id);
  }, 120_000);

  it('while the job holds it idle (the snapshot, once pg_dump has it): the loss is logged, the backup goes on, the worker lives', async () => {
    const t = await s().target({ name: 'terminated while idle', database: DB, keyTables: ['public.accounts'], storageId });
    // pg_dump imports the snapshot, then waits for its lock on orders: the snapshot session sits idle in its transaction.
    const lock = await holdLock(cluster!.url(DB), 'orders');
    let jobId: string;
    try {
      ({ id: jobId } = await startBackup(s().operator, t.id));
      await lifeboatSession(`wait_event_type = 'Lock'`);
      await terminate(await lifeboatSession(`state = 'idle in transaction'`));
      // The worker would have died right here; give it the time to show it did not.
      await new Promise((r) => setTimeout(r, 500));
      expect(alive(worker), workerTail(worker)).toBe(true);
    } finally {
      await lock.release();
    }
    const job = await s().waitJob(jobId, undefined, 60_000, worker);
    expect(job.status, why(job) + workerTail(worker)).toBe('succeeded');
    const lines = await s().logLines(jobId);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^The connection to database "${DB}" on .* was lost while the job used it: .* the worker goes on\\.$`)));
    const [row] = await s().backupRows(jobId);
    expect(row!.key_table_counts).toEqual({ 'public.accounts': 42 });
    expect(alive(worker), workerTail(worker)).toBe(true);
  }, 120_000);
});

describe('the snapshot step', () => {
  it('a key table that cannot be fingerprinted is named in the log with the reason; the other key tables and the backup go on', async () => {
    const t = await s().target({ name: 'missing key table', database: DB, keyTables: ['public.missing', 'public.accounts', 'public.orders'], storageId });
    const job = await backupDone(t.id);
    expect(job.status, why(job)).toBe('succeeded');
    const [row] = await s().backupRows(job.id);
    expect(row!.key_table_counts).toEqual({ 'public.accounts': 42, 'public.orders': 100 });
    expect(row!.manifest!.keyTableCounts).toEqual({ 'public.accounts': 42, 'public.orders': 100 });
    const lines = await s().logLines(job.id);
    expect(lines).toContainEqual('key table public.missing could not be fingerprinted (its count and checksum are left out of the manifest): relation "public.missing" does not exist');
    expect(lines.filter((l) => /current transaction is aborted/.test(l))).toEqual([]);
  }, 90_000);
});

describe('test-connection', () => {
  it('writes what it found on the job only while this worker owns it', async () => {
    const db = getDb();
    const t = await s().target({ name: 'checked in process', database: DB, storageId });
    const self = await registerWorker('in-process', 'test');
    const other = await registerWorker('in-process', 'test');
    const newJob = async () => (await db.job.create({ data: { kind: 'test-connection', queue: 'test-connection.in-process', payload: { targetId: t.id }, targetId: t.id }, select: { id: true } })).id;
    tools.refuse = true;
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      // Owned: the failed test keeps what it found on the job.
      const mine = await newJob();
      expect(await runJob({ jobId: mine, workerId: self, expireInSeconds: 30 }, testConnection)).toBe('failed');
      const done = await s().job(mine);
      expect(done!.error_code).toBe('TOOL_TOO_OLD');
      expect(done!.result).toMatchObject({ ok: false, toolProblem: { code: 'TOOL_TOO_OLD' } });

      // Taken over by another worker while it ran: the row stays the other worker's, with no result of this one.
      const taken = await newJob();
      expect(
        await runJob({ jobId: taken, workerId: self, expireInSeconds: 30 }, async (ctx) => {
          await db.job.update({ where: { id: taken }, data: { workerId: other } });
          return testConnection(ctx as Parameters<typeof testConnection>[0]);
        }),
      ).toBe('failed');
      const row = await s().job(taken);
      expect(row).toMatchObject({ status: 'running', worker_id: other, result: null, error_code: null });
    } finally {
      tools.refuse = false;
      quiet.mockRestore();
      await markWorkerStopped(self).catch(() => {});
      await markWorkerStopped(other).catch(() => {});
    }
  }, 60_000);
});
