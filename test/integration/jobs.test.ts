// The job path with real worker processes: enqueue (one transaction), run, fail, cancel, crash sweep, shutdown, expiry, bad env.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { freePort, startWorker, type Child, type ConsoleEnv } from '../../scripts/lib/stack';
import { applyEnv, consoleEnv, createConsoleDatabase, sql, waitFor } from '../helpers/db';
import { closeConsoleClients, exitWithin, killGroup, killWorkers, rejection } from '../helpers/backups';
import { getDb } from '../../lib/db';
import { errorRegistry, UserError } from '../../lib/errors';
import { enqueueJob } from '../../lib/jobs/enqueue-job';
import { cancelJob } from '../../lib/jobs/cancel-job';
import { runJob } from '../../lib/jobs/lifecycle';
import { checkedTask } from '../../lib/jobs/checked-task';
import { getJob, listJobs } from '../../lib/jobs/list-jobs';
import { markWorkerStopped, registerWorker } from '../../lib/workers/register-worker';
import type { Role } from '../../lib/auth/roles';

let cluster: RunningCluster | undefined;
let url: string;
let env: ConsoleEnv;
const tempDirs: string[] = [];

interface Spawned {
  child: Child;
  lines: string[];
  startedAt: number;
  /** Lives across tests (the main worker); others are killed after the test that started them. */
  keep?: boolean;
}
const spawned: Spawned[] = [];

function spawnWorker(extra: Record<string, string | undefined> = {}): Spawned {
  const lines: string[] = [];
  const child = startWorker({ ...env, ...extra } as ConsoleEnv, (l) => {
    lines.push(l);
    if (process.env.LIFEBOAT_TEST_VERBOSE) console.log('[worker]', l);
  });
  const s = { child, lines, startedAt: Date.now() };
  spawned.push(s);
  return s;
}

const tail = (s: Spawned) => `\nworker output:\n${s.lines.slice(-30).join('\n')}`;

type Actor = { id: string; email: string; role: Role };
let operator: Actor;
let viewer: Actor;
let admin: Actor;

async function makeUser(email: string, role: Role): Promise<Actor> {
  const u = await getDb().user.create({ data: { email, name: email, role } });
  return { id: u.id, email: u.email, role };
}

async function jobRow(id: string) {
  const [row] = await sql<{
    status: string;
    result: { reply?: string } | null;
    progress: number | null;
    step: string | null;
    worker_id: string | null;
    error_code: string | null;
    error_message: string | null;
    error_hint: string | null;
    partial_paths: string[];
    started_at: Date | null;
    finished_at: Date | null;
    cancel_requested: boolean;
    boss_job_id: string | null;
  }>(url, 'SELECT * FROM jobs WHERE id = $1', [id]);
  return row;
}

async function logLines(id: string): Promise<string[]> {
  return (await sql<{ line: string }>(url, 'SELECT line FROM job_logs WHERE job_id = $1 ORDER BY id', [id])).map((r) => r.line);
}

async function counts() {
  const [row] = await sql<{ jobs: number; audit: number; boss: number }>(
    url,
    `SELECT (SELECT count(*)::int FROM jobs) AS jobs, (SELECT count(*)::int FROM audit_log) AS audit,
            (SELECT count(*)::int FROM pgboss.job) AS boss`,
  );
  return row!;
}

async function waitForStatus(id: string, status: string, timeoutMs: number, w?: Spawned) {
  try {
    return await waitFor(`job ${id} to be ${status}`, async () => {
      const row = await jobRow(id);
      return row?.status === status ? row : undefined;
    }, timeoutMs, 50);
  } catch (err) {
    throw new Error(`${(err as Error).message}; it is ${(await jobRow(id))?.status}${w ? tail(w) : ''}`);
  }
}

beforeAll(async () => {
  cluster = await createThrowawayCluster();
  url = await createConsoleDatabase(cluster, 'lifeboat_jobs');
  env = { PATH: process.env.PATH, HOME: process.env.HOME, ...consoleEnv(url) };
  applyEnv(env);
  operator = await makeUser('operator@jobs.test', 'operator');
  viewer = await makeUser('viewer@jobs.test', 'viewer');
  admin = await makeUser('admin@jobs.test', 'admin');
});

// A failed test must not leave its worker to take the next test's jobs.
afterEach(() => killWorkers(spawned.filter((s) => !s.keep)));

afterAll(async () => {
  await killWorkers(spawned);
  await closeConsoleClients();
  await cluster?.remove();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

describe('jobs', () => {
  let firstJobId: string;
  let main: Spawned;

  describe('enqueueJob', () => {
    it('creates the job row, its audit entry and the pg-boss message with the same id', async () => {
      const before = await counts();
      const { id } = await enqueueJob(operator, 'ping', { seconds: 1, message: 'x' }, { ip: '192.0.2.7' });
      firstJobId = id;
      expect(await counts()).toEqual({ jobs: before.jobs + 1, audit: before.audit + 1, boss: before.boss + 1 });

      const job = (await sql(url, 'SELECT kind, queue, status, payload, created_by_id, boss_job_id, worker_id, started_at FROM jobs WHERE id = $1', [id]))[0];
      expect(job).toEqual({
        kind: 'ping',
        queue: 'ping.default',
        status: 'queued',
        payload: { seconds: 1, message: 'x', fail: false },
        created_by_id: operator.id,
        boss_job_id: id,
        worker_id: null,
        started_at: null,
      });
      const audit = await sql(url, `SELECT actor_id, actor_email, action, entity_type, entity_id, params, ip FROM audit_log WHERE entity_id = $1`, [id]);
      expect(audit).toEqual([
        {
          actor_id: operator.id,
          actor_email: 'operator@jobs.test',
          action: 'job.start',
          entity_type: 'job',
          entity_id: id,
          params: { kind: 'ping', seconds: 1, message: 'x', fail: false },
          ip: '192.0.2.7',
        },
      ]);
      const boss = await sql(url, 'SELECT id::text, name, data, state, retry_limit FROM pgboss.job WHERE id = $1', [id]);
      expect(boss).toEqual([{ id, name: 'ping.default', data: { jobId: id }, state: 'created', retry_limit: 0 }]);
    });

    it('decides the time limit once and stores it on the row (a ping: its own length plus a minute)', async () => {
      expect(await sql(url, 'SELECT timeout_seconds, expires_at FROM jobs WHERE id = $1', [firstJobId])).toEqual([{ timeout_seconds: 61, expires_at: null }]);
      const { id } = await enqueueJob(operator, 'ping', { seconds: 0, message: 'limit' }, { pool: 'nobody-limit' });
      expect(await sql(url, 'SELECT timeout_seconds FROM jobs WHERE id = $1', [id])).toEqual([{ timeout_seconds: 60 }]);
      await cancelJob(operator, id, null);
    });

    it('refuses an invalid payload with VALIDATION and adds no row anywhere', async () => {
      const before = await counts();
      const err = await rejection(enqueueJob(operator, 'ping', { seconds: -1, message: 'x' }));
      expect(err).toBeInstanceOf(UserError);
      expect(err.code).toBe('VALIDATION');
      expect(err.message).toContain('seconds');
      expect(await counts()).toEqual(before);
    });

    it('refuses a viewer with FORBIDDEN and adds no row anywhere', async () => {
      const before = await counts();
      const err = await rejection(enqueueJob(viewer, 'ping', { seconds: 1 }));
      expect(err).toBeInstanceOf(UserError);
      expect(err.code).toBe('FORBIDDEN');
      expect(err.message).toContain('operator');
      expect(await counts()).toEqual(before);
    });

    it('is one transaction: when the queue insert fails, neither the job row nor the audit entry remains', async () => {
      const before = await counts();
      await sql(
        url,
        `CREATE FUNCTION public.test_refuse_boss_insert() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'queue insert refused by the test'; END $$;
         CREATE TRIGGER test_refuse_boss_insert BEFORE INSERT ON pgboss.job FOR EACH ROW EXECUTE FUNCTION public.test_refuse_boss_insert();`,
      );
      try {
        const err = await rejection(enqueueJob(operator, 'ping', { seconds: 1, message: 'atomic' }));
        expect(String(err.message)).toContain('queue insert refused by the test');
      } finally {
        await sql(url, 'DROP TRIGGER test_refuse_boss_insert ON pgboss.job; DROP FUNCTION public.test_refuse_boss_insert();');
      }
      expect(await counts()).toEqual(before);
      expect(await sql(url, `SELECT id FROM jobs WHERE payload->>'message' = 'atomic'`)).toEqual([]);
    });
  });

  describe('with a running worker', () => {
    it('runs the queued job: queued -> running -> succeeded, with result, log, progress and owner', async () => {
      const seen: string[] = [(await jobRow(firstJobId))!.status];
      main = spawnWorker();
      main.keep = true;
      const watching = (async () => {
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
          const s = (await jobRow(firstJobId))!.status;
          if (seen.at(-1) !== s) seen.push(s);
          if (s === 'succeeded' || s === 'failed' || s === 'cancelled') return;
          await sleep(25);
        }
      })();
      await watching;
      expect(seen, tail(main)).toEqual(['queued', 'running', 'succeeded']);

      const job = (await jobRow(firstJobId))!;
      expect(job.result?.reply).toBe('pong: x');
      expect(job.progress).toBe(100);
      expect(job.step).toBe('done');
      expect(job.error_code).toBeNull();
      expect(job.started_at).toBeInstanceOf(Date);
      expect(job.finished_at!.getTime()).toBeGreaterThanOrEqual(job.started_at!.getTime() + 900);

      const lines = await logLines(firstJobId);
      expect(lines).toContain('step: waiting');
      expect(lines.at(-1)).toBe('finished: succeeded');
      expect(lines.indexOf('step: waiting')).toBeLessThan(lines.indexOf('finished: succeeded'));

      const [worker] = await sql<{ id: string; host: string; pid: number; version: string; pool: string; stopped_at: Date | null }>(
        url,
        'SELECT id, host, pid, version, pool, stopped_at FROM workers WHERE id = $1',
        [job.worker_id],
      );
      expect(worker).toMatchObject({ host: os.hostname(), pid: main.child.pid, version: '0.1.0', pool: 'default', stopped_at: null });
      const [boss] = await sql<{ state: string }>(url, 'SELECT state FROM pgboss.job WHERE id = $1', [firstJobId]);
      expect(boss?.state).toBe('completed');
    }, 45_000);

    it('heartbeats: last_seen_at advances about every 5 s', async () => {
      const read = async () =>
        (await sql<{ last_seen_at: Date }>(url, 'SELECT last_seen_at FROM workers WHERE pid = $1', [main.child.pid]))[0]!.last_seen_at.getTime();
      const first = await read();
      const second = await waitFor('a heartbeat', async () => ((await read()) > first ? read() : undefined), 8_000, 200);
      const third = await waitFor('another heartbeat', async () => ((await read()) > second ? read() : undefined), 8_000, 200);
      expect(third - second).toBeGreaterThan(4_000);
      expect(third - second).toBeLessThan(6_500);
    }, 20_000);

    it('a failing ping ends failed with its code, message and hint', async () => {
      const { id } = await enqueueJob(operator, 'ping', { seconds: 0, message: 'doomed', fail: true });
      const job = await waitForStatus(id, 'failed', 15_000, main);
      expect(job.error_code).toBe('PING_FAILED');
      expect(job.error_message).toBe('The ping "doomed" was asked to fail.');
      expect(job.error_hint).toBe(errorRegistry.PING_FAILED.hint);
      expect(job.finished_at).toBeInstanceOf(Date);
      expect(job.result).toBeNull();
      expect((await logLines(id)).at(-1)).toBe('failed: [PING_FAILED] The ping "doomed" was asked to fail.');
    });

    it('cancels a running job within about 3 s', async () => {
      const { id } = await enqueueJob(operator, 'ping', { seconds: 30, message: 'long' });
      await waitForStatus(id, 'running', 15_000, main);
      await waitFor('the first tick', async () => (await logLines(id)).includes('tick 1/30'), 5_000);
      const asked = Date.now();
      expect(await cancelJob(operator, id, '192.0.2.8')).toEqual({ id, status: 'cancelling' });
      const job = await waitForStatus(id, 'cancelled', 3_000, main);
      expect(Date.now() - asked).toBeLessThan(3_000);
      expect(job.error_code).toBe('JOB_CANCELLED');
      expect(job.cancel_requested).toBe(true);
      expect(job.finished_at).toBeInstanceOf(Date);
      const audit = await sql(url, `SELECT actor_email, action, params, ip FROM audit_log WHERE entity_id = $1 ORDER BY id`, [id]);
      expect(audit.map((a) => a.action)).toEqual(['job.start', 'job.cancel']);
      expect(audit[1]).toEqual({ actor_email: 'operator@jobs.test', action: 'job.cancel', params: { kind: 'ping', was: 'running' }, ip: '192.0.2.8' });
    });

    it('cancels a queued job at once, and a worker that later receives it never runs it', async () => {
      const { id } = await enqueueJob(operator, 'ping', { seconds: 1, message: 'nobody' }, { pool: 'nobody' });
      expect((await jobRow(id))!.status).toBe('queued');
      expect(await cancelJob(operator, id, null)).toEqual({ id, status: 'cancelled' });
      const job = (await jobRow(id))!;
      expect(job).toMatchObject({ status: 'cancelled', error_code: 'JOB_CANCELLED', started_at: null, worker_id: null });
      expect(job.finished_at).toBeInstanceOf(Date);

      // A worker for that pool takes the message from the queue and must leave the job alone.
      const other = spawnWorker({ LIFEBOAT_WORKER_POOL: 'nobody' });
      await waitFor(
        'the nobody worker to consume the message',
        async () => (await sql<{ state: string }>(url, 'SELECT state FROM pgboss.job WHERE id = $1', [id]))[0]?.state === 'completed',
        20_000,
        200,
      ).catch((err) => {
        throw new Error(`${(err as Error).message}${tail(other)}`);
      });
      expect(other.lines.some((l) => l.includes(`job ${id} (ping): skipped`)), tail(other)).toBe(true);
      expect(await jobRow(id)).toMatchObject({ status: 'cancelled', started_at: null, worker_id: null, error_code: 'JOB_CANCELLED' });
      expect(await logLines(id)).toEqual([]);
      killGroup(other.child, 'SIGTERM');
      expect((await exitWithin(other.child, 10_000))?.exitCode).toBe(0);
    }, 45_000);

    it("the worker's claim starts the clock of the limit stored on the row, not one of its own", async () => {
      const { id } = await enqueueJob(operator, 'ping', { seconds: 30, message: 'short limit' }, { pool: 'limit' });
      // As if the console had been configured with a 2-second limit when it enqueued the job.
      await sql(url, 'UPDATE jobs SET timeout_seconds = 2 WHERE id = $1', [id]);
      const w = spawnWorker({ LIFEBOAT_WORKER_POOL: 'limit' });
      const job = await waitForStatus(id, 'failed', 30_000, w);
      expect(job.error_code).toBe('JOB_EXPIRED');
      expect(job.error_message).toBe('The job ran longer than its limit of 2 s and was stopped.');
      const [row] = await sql<{ ms: number }>(url, 'SELECT (extract(epoch FROM expires_at - started_at) * 1000)::int AS ms FROM jobs WHERE id = $1', [id]);
      expect(row!.ms).toBeGreaterThanOrEqual(2000);
      expect(row!.ms).toBeLessThan(2050);
      killGroup(w.child, 'SIGTERM');
      await exitWithin(w.child, 10_000);
    }, 45_000);

    it('refuses to cancel a finished job (JOB_NOT_CANCELLABLE) or an unknown one (NOT_FOUND), writing no audit entry', async () => {
      const before = await counts();
      const err = await rejection(cancelJob(operator, firstJobId, null));
      expect(err).toBeInstanceOf(UserError);
      expect(err.code).toBe('JOB_NOT_CANCELLABLE');
      expect(err.message).toBe('The job has already succeeded.');
      expect((await rejection(cancelJob(operator, randomUUID(), null))).code).toBe('NOT_FOUND');
      expect(await counts()).toEqual(before);
    });

    it('stops gracefully on SIGTERM when idle: exit 0 within a few seconds, stopped_at set', async () => {
      const sent = Date.now();
      process.kill(main.child.pid!, 'SIGTERM');
      const result = await exitWithin(main.child, 8_000);
      expect(result, `no exit within 8 s${tail(main)}`).toBeDefined();
      expect(result!.exitCode).toBe(0);
      expect(Date.now() - sent).toBeLessThan(5_000);
      const [w] = await sql<{ stopped_at: Date | null }>(url, 'SELECT stopped_at FROM workers WHERE pid = $1', [main.child.pid]);
      expect(w?.stopped_at).toBeInstanceOf(Date);
      expect(main.lines.some((l) => l.includes('SIGTERM: stopping; 0 job(s) running'))).toBe(true);
    });
  });

  describe('a worker killed mid-job', () => {
    it('is swept by the next worker at boot: job WORKER_LOST, partial file removed, old worker stopped', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-partial-'));
      tempDirs.push(dir);
      const partial = path.join(dir, 'dump.partial');
      writeFileSync(partial, 'half a backup');

      // Both workers share a scratch root, as two lives of one host's worker do.
      const scratch = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-scratch-'));
      tempDirs.push(scratch);
      const doomed = spawnWorker({ LIFEBOAT_SCRATCH_DIR: scratch });
      const { id } = await enqueueJob(operator, 'ping', { seconds: 60, message: 'crash' });
      const running = await waitForStatus(id, 'running', 20_000, doomed);
      await sql(url, 'UPDATE jobs SET partial_paths = ARRAY[$1] WHERE id = $2', [partial, id]);
      // The job's scratch folder (as ctx.scratch() makes it), and one of a job still queued, which must stay.
      mkdirSync(path.join(scratch, id));
      writeFileSync(path.join(scratch, id, 'decompressed.dump'), 'scratch data');
      const queuedJob = (await getDb().job.create({ data: { kind: 'ping', queue: 'ping.nobody', payload: { seconds: 1 } }, select: { id: true } })).id;
      mkdirSync(path.join(scratch, queuedJob));
      const [doomedRow] = await sql<{ id: string }>(url, 'SELECT id FROM workers WHERE pid = $1', [doomed.child.pid]);
      expect(running.worker_id).toBe(doomedRow!.id);

      killGroup(doomed.child, 'SIGKILL');
      const killed = await exitWithin(doomed.child, 5_000);
      expect(killed?.signal).toBe('SIGKILL');
      expect((await jobRow(id))!.status).toBe('running');

      const next = spawnWorker({ LIFEBOAT_SCRATCH_DIR: scratch });
      const job = await waitForStatus(id, 'failed', 15_000, next);
      expect(Date.now() - next.startedAt).toBeLessThan(15_000);
      expect(job.error_code).toBe('WORKER_LOST');
      expect(job.error_hint).toBe(errorRegistry.WORKER_LOST.hint);
      expect(job.finished_at).toBeInstanceOf(Date);
      // The sweep fails the job first, then removes its files and clears the list.
      await waitFor('the partial list to be cleared', async () => (await jobRow(id))!.partial_paths.length === 0, 3_000);
      expect(existsSync(partial)).toBe(false);
      expect(existsSync(dir)).toBe(true);
      await waitFor('the dead job scratch folder to be removed', async () => !existsSync(path.join(scratch, id)), 3_000);
      expect(existsSync(path.join(scratch, queuedJob))).toBe(true);
      await getDb().job.delete({ where: { id: queuedJob } });
      const [old] = await sql<{ stopped_at: Date | null }>(url, 'SELECT stopped_at FROM workers WHERE id = $1', [doomedRow!.id]);
      expect(old?.stopped_at).toBeInstanceOf(Date);
      await waitFor('the boot sweep log line', async () => next.lines.some((l) => l.includes(`boot sweep failed 1 job(s) left by a dead worker: ${id}`)), 5_000).catch(
        (err) => {
          throw new Error(`${(err as Error).message}${tail(next)}`);
        },
      );
      expect(await logLines(id)).toContain('failed by the sweep: its worker is gone or its time ran out');
      expect(await sql(url, `SELECT id, payload, worker_id, started_at FROM jobs WHERE status = 'running'`), tail(next)).toEqual([]);

      killGroup(next.child, 'SIGTERM');
      expect((await exitWithin(next.child, 10_000))?.exitCode).toBe(0);
    }, 60_000);
  });

  describe('a worker stopped mid-job', () => {
    it('on SIGTERM waits its grace period, then fails the job WORKER_LOST and exits 0', async () => {
      const w = spawnWorker();
      const { id } = await enqueueJob(operator, 'ping', { seconds: 60, message: 'interrupted' });
      const running = await waitForStatus(id, 'running', 20_000, w);
      const [own] = await sql<{ id: string }>(url, 'SELECT id FROM workers WHERE pid = $1', [w.child.pid]);
      expect(running.worker_id).toBe(own!.id);
      const sent = Date.now();
      process.kill(w.child.pid!, 'SIGTERM');
      const result = await exitWithin(w.child, 20_000);
      expect(result, `no exit within 20 s${tail(w)}`).toBeDefined();
      expect(result!.exitCode).toBe(0);
      // The 10 s grace, then the abort; not the full 60 s of the job.
      expect(Date.now() - sent).toBeGreaterThanOrEqual(9_000);
      expect(Date.now() - sent).toBeLessThan(15_000);
      const job = (await jobRow(id))!;
      expect(job.status).toBe('failed');
      expect(job.error_code).toBe('WORKER_LOST');
      expect(job.error_message).toBe('The worker was stopped while the job ran.');
      const [row] = await sql<{ stopped_at: Date | null }>(url, 'SELECT stopped_at FROM workers WHERE pid = $1', [w.child.pid]);
      expect(row?.stopped_at).toBeInstanceOf(Date);
      expect(w.lines.some((l) => l.includes('SIGTERM: stopping; 1 job(s) running'))).toBe(true);
    }, 45_000);
  });

  describe('runJob in-process', () => {
    let workerId: string;
    beforeAll(async () => {
      workerId = await registerWorker('in-process', 'test');
    });
    afterAll(async () => {
      await markWorkerStopped(workerId).catch(() => {});
    });

    const newJob = async (data: { status?: 'queued' | 'cancelled'; cancelRequested?: boolean } = {}) =>
      (await getDb().job.create({ data: { kind: 'ping', queue: 'ping.in-process', payload: { seconds: 1 }, ...data }, select: { id: true } })).id;

    it('stops a job past its expiry: failed, JOB_EXPIRED, tracked partial file removed', async () => {
      const id = await newJob();
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-expiry-'));
      tempDirs.push(dir);
      const partial = path.join(dir, 'x.partial');
      let sawAbort: unknown;
      const started = Date.now();
      const outcome = await runJob<{ seconds: number }, unknown>({ jobId: id, workerId, expireInSeconds: 2 }, async (ctx) => {
        await ctx.step('sleeping');
        writeFileSync(partial, 'partial');
        await ctx.trackPartial(partial);
        try {
          await sleep(60_000, undefined, { signal: ctx.signal });
        } catch (err) {
          sawAbort = err;
          throw err;
        }
      });
      const elapsed = Date.now() - started;
      expect(outcome).toBe('failed');
      expect(elapsed).toBeGreaterThanOrEqual(1_900);
      expect(elapsed).toBeLessThan(5_000);
      expect((sawAbort as Error).name).toBe('AbortError');
      const job = (await jobRow(id))!;
      expect(job.status).toBe('failed');
      expect(job.error_code).toBe('JOB_EXPIRED');
      expect(job.error_message).toContain('2 s');
      expect(job.error_hint).toBe(errorRegistry.JOB_EXPIRED.hint);
      expect(job.worker_id).toBe(workerId);
      expect(job.partial_paths).toEqual([]);
      expect(existsSync(partial)).toBe(false);
    }, 15_000);

    describe('scratch folder and cleanup stack', () => {
      const scratchRoot = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-scratch-inproc-'));
      tempDirs.push(scratchRoot);
      let saved: string | undefined;
      beforeAll(() => {
        saved = process.env.LIFEBOAT_SCRATCH_DIR;
        process.env.LIFEBOAT_SCRATCH_DIR = scratchRoot;
      });
      afterAll(() => {
        if (saved === undefined) delete process.env.LIFEBOAT_SCRATCH_DIR;
        else process.env.LIFEBOAT_SCRATCH_DIR = saved;
      });

      it('on failure undoes last-in first-out, logs each step, a failing undo is a warning, and the job keeps its own error', async () => {
        const id = await newJob();
        const undone: string[] = [];
        let folder = '';
        const outcome = await runJob({ jobId: id, workerId, expireInSeconds: 30 }, async (ctx) => {
          folder = await ctx.scratch();
          expect(await ctx.scratch()).toBe(folder);
          writeFileSync(path.join(folder, 'temp.dump'), 'x');
          ctx.defer('drop the side database', async () => void undone.push('drop'));
          const drop = ctx.defer('remove the handed-over file', async () => void undone.push('never'));
          ctx.defer('a cleanup that fails', async () => {
            undone.push('fails');
            throw new Error('disk went away');
          });
          ctx.defer('close the connection', async () => void undone.push('close'), { always: true });
          drop();
          throw new UserError('RESTORE_FAILED', 'pg_restore failed (exit 1).');
        });
        expect(outcome).toBe('failed');
        expect(undone).toEqual(['close', 'fails', 'drop']);
        expect(folder).toBe(path.join(scratchRoot, id));
        expect(existsSync(folder)).toBe(false);
        expect(await jobRow(id)).toMatchObject({ status: 'failed', error_code: 'RESTORE_FAILED', error_message: 'pg_restore failed (exit 1).' });
        const lines = await logLines(id);
        expect(lines).toEqual([
          'cleanup: close the connection',
          'cleanup: a cleanup that fails',
          'cleanup failed: a cleanup that fails: disk went away',
          'cleanup: drop the side database',
          'failed: [RESTORE_FAILED] pg_restore failed (exit 1).',
        ]);
        const [warn] = await sql<{ level: string }>(url, "SELECT level FROM job_logs WHERE job_id = $1 AND line LIKE 'cleanup failed:%'", [id]);
        expect(warn?.level).toBe('warn');
      });

      it('on success runs only the steps meant for every outcome, and removes the 0700 scratch folder', async () => {
        const id = await newJob();
        const undone: string[] = [];
        let mode = 0;
        const outcome = await runJob({ jobId: id, workerId, expireInSeconds: 30 }, async (ctx) => {
          const folder = await ctx.scratch();
          mode = statSync(folder).mode & 0o777;
          ctx.defer('drop the side database', async () => void undone.push('drop'));
          ctx.defer('remove the passfile', async () => void undone.push('passfile'), { always: true });
          return { ok: true };
        });
        expect(outcome).toBe('succeeded');
        expect(mode).toBe(0o700);
        expect(undone).toEqual(['passfile']);
        expect(existsSync(path.join(scratchRoot, id))).toBe(false);
        expect(await logLines(id)).toEqual(['cleanup: remove the passfile', 'finished: succeeded']);
      });

      it('a cancel runs the undo steps too (with ctx.signal already aborted), and the job is cancelled', async () => {
        const id = await newJob();
        let abortedDuringUndo: boolean | undefined;
        const run = runJob({ jobId: id, workerId, expireInSeconds: 30 }, async (ctx) => {
          await ctx.scratch();
          ctx.defer('drop the scratch database', async () => {
            abortedDuringUndo = ctx.signal.aborted;
          });
          await sleep(60_000, undefined, { signal: ctx.signal });
        });
        await waitForStatus(id, 'running', 5_000);
        await sql(url, 'UPDATE jobs SET cancel_requested = true WHERE id = $1', [id]);
        expect(await run).toBe('cancelled');
        expect(abortedDuringUndo).toBe(true);
        expect(existsSync(path.join(scratchRoot, id))).toBe(false);
        expect(await logLines(id)).toContain('cleanup: drop the scratch database');
      }, 15_000);

      it('ctx.incomplete records what a put is writing on the job row, and a failure removes it', async () => {
        const id = await newJob();
        const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-incomplete-'));
        tempDirs.push(dir);
        const handle = path.join(dir, 'a.dump.0123456789ab.partial');
        const outcome = await runJob({ jobId: id, workerId, expireInSeconds: 30 }, async (ctx) => {
          await ctx.incomplete.add(handle);
          writeFileSync(handle, 'half');
          expect((await jobRow(id))!.partial_paths).toEqual([handle]);
          await ctx.incomplete.add(`${handle}.2`);
          await ctx.incomplete.remove(`${handle}.2`);
          expect((await jobRow(id))!.partial_paths).toEqual([handle]);
          throw new Error('the producer died');
        });
        expect(outcome).toBe('failed');
        expect(existsSync(handle)).toBe(false);
        expect((await jobRow(id))!.partial_paths).toEqual([]);
      });
    });

    it("fails a task whose result does not match its kind's schema as INTERNAL, each issue in the log; a matching one succeeds", async () => {
      const quiet = console.error;
      console.error = () => {};
      try {
        const bad = await newJob();
        expect(await runJob({ jobId: bad, workerId, expireInSeconds: 10 }, checkedTask('ping', async () => ({ reply: 'pong', pid: 'one' })))).toBe('failed');
        const job = (await jobRow(bad))!;
        expect(job).toMatchObject({ status: 'failed', error_code: 'INTERNAL', result: null, error_hint: errorRegistry.INTERNAL.hint });
        expect(job.error_message).toContain('its result does not match what the console expects (3 problems');
        const lines = await logLines(bad);
        expect(lines.filter((l) => l.startsWith('result does not match its schema: '))).toHaveLength(3);
        expect(lines.at(-1)).toMatch(/^failed: \[INTERNAL\] /);
      } finally {
        console.error = quiet;
      }
      const good = await newJob();
      expect(await runJob({ jobId: good, workerId, expireInSeconds: 10 }, checkedTask('ping', async () => ({ reply: 'pong', host: 'h', pid: 1, elapsedMs: 0 })))).toBe('succeeded');
      expect((await jobRow(good))!.result).toEqual({ reply: 'pong', host: 'h', pid: 1, elapsedMs: 0 });
    });

    it('skips a job that is no longer queued (cancelled) without running it', async () => {
      const id = await newJob({ status: 'cancelled' });
      let ran = false;
      const outcome = await runJob({ jobId: id, workerId, expireInSeconds: 10 }, async () => {
        ran = true;
      });
      expect(outcome).toBe('skipped');
      expect(ran).toBe(false);
      expect(await jobRow(id)).toMatchObject({ status: 'cancelled', worker_id: null, started_at: null });
    });

    it('cancels a job whose cancel was requested before it started, without running it', async () => {
      const id = await newJob({ cancelRequested: true });
      let ran = false;
      const outcome = await runJob({ jobId: id, workerId, expireInSeconds: 10 }, async () => {
        ran = true;
      });
      expect(outcome).toBe('cancelled');
      expect(ran).toBe(false);
      expect(await jobRow(id)).toMatchObject({ status: 'cancelled', error_code: 'JOB_CANCELLED' });
    });

    it('never revives a job a sweep took away: the sweep outcome stays on the row', async () => {
      const id = await newJob();
      const run = runJob({ jobId: id, workerId, expireInSeconds: 30 }, async (ctx) => {
        await sleep(60_000, undefined, { signal: ctx.signal });
        return { done: true };
      });
      await waitForStatus(id, 'running', 5_000);
      await sql(url, `UPDATE jobs SET status = 'failed', error_code = 'WORKER_LOST', error_message = 'swept by the test', finished_at = now() WHERE id = $1`, [id]);
      const outcome = await Promise.race([run, sleep(5_000).then(() => 'still running')]);
      expect(outcome).toBe('failed');
      expect(await jobRow(id)).toMatchObject({ status: 'failed', error_code: 'WORKER_LOST', error_message: 'swept by the test' });
    }, 15_000);
  });

  describe('the job log', () => {
    let workerId: string;
    let logJobId: string;
    let expected: string[];
    beforeAll(async () => {
      workerId = await registerWorker('in-process-log', 'test');
    });
    afterAll(async () => {
      await markWorkerStopped(workerId).catch(() => {});
    });

    it('stores 5000 lines logged fast from several async paths in call order, and "finished" last', async () => {
      logJobId = (await getDb().job.create({ data: { kind: 'ping', queue: 'ping.in-process', payload: { seconds: 0 } }, select: { id: true } })).id;
      expected = [];
      const outcome = await runJob<unknown, unknown>({ jobId: logJobId, workerId, expireInSeconds: 120 }, async (ctx) => {
        const say = (line: string) => {
          expected.push(line);
          return ctx.log(line);
        };
        // Four paths interleave: some await their write, some leave it in flight (as tool-output handlers do).
        await Promise.all(
          [0, 1, 2, 3].map(async (p) => {
            for (let i = 0; i < 1250; i++) {
              const written = say(`path ${p} line ${i} ${'x'.repeat((i * 37) % 200)}`);
              if (i % 97 === 0) await written;
              else if (i % 5 === p) await Promise.resolve();
              else void written.catch(() => {});
            }
          }),
        );
        void say('the last line, not awaited').catch(() => {});
        return { lines: expected.length };
      });
      expect(outcome).toBe('succeeded');
      const stored = await logLines(logJobId);
      expect(stored.length).toBe(5002);
      expect(stored.slice(0, -1)).toEqual(expected);
      expect(stored.at(-1)).toBe('finished: succeeded');
    }, 120_000);

    it('the job API pages through every line: after an id, before an id, and the tail, with exact counts', async () => {
      const all = await logLines(logJobId);
      // forward, 1000 at a time
      const seen: string[] = [];
      let after = 0;
      for (;;) {
        const page = await getJob(logJobId, { afterLogId: BigInt(after), logLimit: 1000 }, 'viewer');
        expect(page.log.total).toBe(5002);
        expect(page.log.earlier).toBe(seen.length);
        seen.push(...page.logs.map((l) => l.line));
        expect(page.log.later).toBe(5002 - seen.length);
        if (page.logs.length === 0) break;
        after = Number(page.logs.at(-1)!.id);
      }
      expect(seen).toEqual(all);
      // the default is not a silent cut: the newest lines by default when asked for the tail, with what is left
      const tail = await getJob(logJobId, { tail: true, logLimit: 500 }, 'viewer');
      expect(tail.logs.map((l) => l.line)).toEqual(all.slice(-500));
      expect(tail.log).toEqual({ total: 5002, earlier: 4502, later: 0 });
      // backward from the tail's first line
      const back: string[] = [...tail.logs.map((l) => l.line)];
      let before = Number(tail.logs[0]!.id);
      while (true) {
        const page = await getJob(logJobId, { beforeLogId: BigInt(before), logLimit: 2000 }, 'viewer');
        if (page.logs.length === 0) break;
        expect(page.log.earlier).toBe(5002 - back.length - page.logs.length);
        back.unshift(...page.logs.map((l) => l.line));
        before = Number(page.logs[0]!.id);
      }
      expect(back).toEqual(all);
      // without paging options: the first page, and the counts say what is left
      const first = await getJob(logJobId);
      expect(first.logs.length).toBe(1000);
      expect(first.log).toEqual({ total: 5002, earlier: 0, later: 4002 });
    }, 60_000);
  });

  describe('restore hooks are admin-only', () => {
    let hookJobId: string;
    const secret = 'S3CRET-hook';
    const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
    beforeAll(async () => {
      hookJobId = (
        await getDb().job.create({
          data: {
            kind: 'restore',
            queue: 'restore.in-process',
            status: 'failed',
            payload: { backupId: '1', destination: { mode: 'replace', method: 'swap' }, preRestoreHook: `/usr/local/bin/${secret}-pre.sh` },
            result: {
              database: 'shop',
              hooks: { pre: { command: `/usr/local/bin/${secret}-pre.sh`, output: `${secret} pre output`, exitCode: 0 } },
              checks: [{ name: 'rows', ok: true }],
            },
            errorCode: 'HOOK_FAILED',
            errorMessage: `The post-restore hook https://hooks.example/${secret} answered HTTP 500.`,
            errorHint: 'Fix the hook (or clear it on the target) and run the restore again.',
            errorDetail: `${secret} stderr of the hook`,
            finishedAt: new Date(),
          },
          select: { id: true },
        })
      ).id;
      await getDb().jobLog.createMany({
        data: [
          { jobId: hookJobId, line: 'step: running the pre-restore hook' },
          { jobId: hookJobId, line: `pre-restore hook: ${secret} pre output` },
          { jobId: hookJobId, line: `post-restore hook failed (the swap is done): ${secret}`, level: 'error' },
          { jobId: hookJobId, line: `failed: [HOOK_FAILED] The post-restore hook https://hooks.example/${secret} answered HTTP 500.`, level: 'error' },
          { jobId: hookJobId, line: 'production was not touched' },
        ],
      });
    });

    it.each(['viewer', 'operator'] as const)('a %s sees no hook text or output in the job, its log or the job list', async (role) => {
      const one = await getJob(hookJobId, {}, role);
      expect(json(one)).not.toContain(secret);
      expect(json(one)).not.toContain('hooks.example');
      expect(one.job.result).toEqual({ database: 'shop', checks: [{ name: 'rows', ok: true }] });
      expect(one.job.payload).toEqual({ backupId: '1', destination: { mode: 'replace', method: 'swap' } });
      expect(one.job.errorCode).toBe('HOOK_FAILED');
      expect(one.job.errorMessage).toBe('A restore hook failed; its text and output are shown to admins only.');
      expect(one.job.errorDetail).toBeNull();
      expect(one.logs.map((l) => l.line)).toEqual([
        'step: running the pre-restore hook',
        'pre-restore hook: (shown to admins only)',
        'post-restore hook failed (shown to admins only)',
        'failed: [HOOK_FAILED] (shown to admins only)',
        'production was not touched',
      ]);
      expect(one.log).toEqual({ total: 5, earlier: 0, later: 0 });
      const list = await listJobs({ kind: 'restore', limit: 200 }, role);
      const row = list.find((j) => j.id === hookJobId)!;
      expect(row).toBeDefined();
      expect(json(list)).not.toContain(secret);
      expect(row.errorMessage).toBe('A restore hook failed; its text and output are shown to admins only.');
    });

    it('an admin sees the hooks, their output and the full log', async () => {
      const one = await getJob(hookJobId, {}, 'admin');
      expect((one.job.result as { hooks: unknown }).hooks).toEqual({ pre: { command: `/usr/local/bin/${secret}-pre.sh`, output: `${secret} pre output`, exitCode: 0 } });
      expect(one.job.errorDetail).toBe(`${secret} stderr of the hook`);
      expect(one.job.errorMessage).toContain(`https://hooks.example/${secret}`);
      expect(one.logs.map((l) => l.line)).toContain(`pre-restore hook: ${secret} pre output`);
      const list = await listJobs({ kind: 'restore', limit: 200 }, 'admin');
      expect(list.find((j) => j.id === hookJobId)!.errorMessage).toContain(secret);
    });
  });

  describe('cancel rights and the point of no return', () => {
    let workerId: string;
    beforeAll(async () => {
      workerId = await registerWorker('in-process-cancel', 'test');
    });
    afterAll(async () => {
      await markWorkerStopped(workerId).catch(() => {});
    });

    const restoreJob = async (destination: object) =>
      (
        await getDb().job.create({
          data: { kind: 'restore', queue: 'restore.in-process', payload: { backupId: '1', destination, jobs: 2, schemas: [], tables: [], section: 'all', runChecks: true }, createdById: admin.id },
          select: { id: true },
        })
      ).id;

    /** A job that runs until released; `reached` resolves once its body got past `before` (e.g. a commit). */
    function heldJob(id: string, before: (ctx: { commit(): Promise<void> | void }) => Promise<void> | void = () => {}) {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let reached!: () => void;
      const reachedP = new Promise<void>((r) => (reached = r));
      const outcome = runJob<unknown, unknown>({ jobId: id, workerId, expireInSeconds: 60 }, async (ctx) => {
        await before(ctx);
        reached();
        await released;
        // A task that cannot stop anymore checks nothing here; one that can, stops.
        return { restored: true };
      });
      return { release, reached: reachedP, outcome };
    }

    it("an operator's cancel of an admin's in-place production restore is FORBIDDEN; the job keeps running and succeeds", async () => {
      const id = await restoreJob({ mode: 'replace', method: 'in-place' });
      const run = heldJob(id);
      await run.reached;
      const before = await counts();
      const err = await rejection(cancelJob(operator, id, null));
      expect(err).toBeInstanceOf(UserError);
      expect(err.code).toBe('FORBIDDEN');
      expect(err.status).toBe(403);
      expect(err.message).toBe('Only an admin may cancel this job (Restore into production): it needs the role that may start it; you are operator.');
      expect(await counts()).toEqual(before);
      expect(await jobRow(id)).toMatchObject({ status: 'running', cancel_requested: false });
      // The worker's watcher polls every second: give it two looks before the task ends.
      await sleep(2_200);
      run.release();
      expect(await run.outcome).toBe('succeeded');
      expect(await jobRow(id)).toMatchObject({ status: 'succeeded', cancel_requested: false, error_code: null });
    }, 20_000);

    it('a swap into production is admin-only to cancel too, while an operator may cancel a restore into a new database', async () => {
      const swap = await restoreJob({ mode: 'replace', method: 'swap' });
      expect((await rejection(cancelJob(operator, swap, null))).code).toBe('FORBIDDEN');
      expect(await cancelJob(admin, swap, null)).toEqual({ id: swap, status: 'cancelled' });
      const fresh = await restoreJob({ mode: 'new', targetId: randomUUID(), database: 'copy' });
      expect(await cancelJob(operator, fresh, null)).toEqual({ id: fresh, status: 'cancelled' });
      // Admin-only kinds follow their kind's role.
      const repair = (await getDb().job.create({ data: { kind: 'repair', queue: 'repair.in-process', payload: {} }, select: { id: true } })).id;
      expect((await rejection(cancelJob(operator, repair, null))).code).toBe('FORBIDDEN');
    });

    it('after the point of no return a cancel is refused with JOB_PAST_POINT_OF_NO_RETURN (409), and the job finishes', async () => {
      const id = await restoreJob({ mode: 'replace', method: 'in-place' });
      const run = heldJob(id, (ctx) => ctx.commit());
      await run.reached;
      const row = (await sql<{ committed_at: Date | null }>(url, 'SELECT committed_at FROM jobs WHERE id = $1', [id]))[0]!;
      expect(row.committed_at).toBeInstanceOf(Date);
      const before = await counts();
      const err = await rejection(cancelJob(admin, id, null));
      expect(err.code).toBe('JOB_PAST_POINT_OF_NO_RETURN');
      expect(err.status).toBe(409);
      expect(err.hint).toBe(errorRegistry.JOB_PAST_POINT_OF_NO_RETURN.hint);
      expect(err.hint).toContain('finish');
      expect(await counts()).toEqual(before);
      expect(await jobRow(id)).toMatchObject({ status: 'running', cancel_requested: false });
      run.release();
      expect(await run.outcome).toBe('succeeded');
      expect(await jobRow(id)).toMatchObject({ status: 'succeeded', error_code: null });
    }, 20_000);

    it('a cancel asked before the commit wins: commit() throws JOB_CANCELLED and nothing is committed', async () => {
      const id = await restoreJob({ mode: 'replace', method: 'in-place' });
      let gate!: () => void;
      const gated = new Promise<void>((r) => (gate = r));
      let commitError: unknown;
      let started!: () => void;
      const startedP = new Promise<void>((r) => (started = r));
      const outcome = runJob<unknown, unknown>({ jobId: id, workerId, expireInSeconds: 60 }, async (ctx) => {
        started();
        await gated;
        try {
          await ctx.commit();
        } catch (e) {
          commitError = e;
          throw e;
        }
        return { restored: true };
      });
      await startedP;
      expect(await cancelJob(admin, id, null)).toEqual({ id, status: 'cancelling' });
      gate();
      expect(await outcome).toBe('cancelled');
      expect((commitError as UserError).code).toBe('JOB_CANCELLED');
      const row = (await sql<{ committed_at: Date | null; status: string }>(url, 'SELECT committed_at, status FROM jobs WHERE id = $1', [id]))[0]!;
      expect(row).toEqual({ committed_at: null, status: 'cancelled' });
    }, 20_000);
  });

  describe('a bad environment', () => {
    it('without DATABASE_URL: exits 1 with one line naming DATABASE_URL', async () => {
      const w = spawnWorker({ DATABASE_URL: undefined });
      const result = await exitWithin(w.child, 20_000);
      expect(result, tail(w)).toBeDefined();
      expect(result!.exitCode).toBe(1);
      expect(w.lines, tail(w)).toHaveLength(1);
      expect(w.lines[0]).toMatch(/^Configuration error: DATABASE_URL is not set\. Set DATABASE_URL to /);
    }, 30_000);

    it('with the database unreachable: keeps running, says "unreachable" and "retrying", never prints the password', async () => {
      const port = await freePort();
      const w = spawnWorker({ DATABASE_URL: `postgres://postgres:hunter2-not-shown@127.0.0.1:${port}/lifeboat` });
      await waitFor('an unreachable line', async () => w.lines.some((l) => /unreachable/.test(l) && /retrying/.test(l)), 20_000, 100).catch((err) => {
        throw new Error(`${(err as Error).message}${tail(w)}`);
      });
      const line = w.lines.find((l) => /unreachable/.test(l))!;
      expect(line).toContain(`127.0.0.1:${port}/lifeboat`);
      await sleep(2_500);
      expect(w.child.exitCode, tail(w)).toBeNull();
      expect(w.lines.filter((l) => /unreachable/.test(l)).length).toBeGreaterThanOrEqual(2);
      expect(w.lines.join('\n')).not.toContain('hunter2-not-shown');
      killGroup(w.child, 'SIGTERM');
      expect((await exitWithin(w.child, 10_000))?.exitCode).toBe(0);
    }, 40_000);
  });
});
