// The route x role table: every app/api/**/route.ts and exported verb has an entry here, and each entry is called as
// anonymous, viewer, operator and admin against the running console; also cross-origin refusal and validation errors.
// Targets point at a small database on the e2e cluster itself; every target made here is deleted in afterAll, so the
// overview's "No targets yet." holds for whichever file runs next.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signInCookie } from '../helpers/browser';
import { e2eUsers, type E2eRole } from '../helpers/e2e-users';

const root = fileURLToPath(new URL('../../', import.meta.url));
const base = inject('baseUrl');
const databaseUrl = inject('databaseUrl');
const run = `${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
/** The e2e cluster's port: targets back up a database on the same throwaway cluster. */
const clusterPort = Number(new URL(databaseUrl).port);
const appDatabase = 'e2e_app';
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Need = 'public' | 'next-auth' | 'viewer' | 'operator' | 'admin';
type Caller = 'anonymous' | E2eRole;
type Json = any;

interface Entry {
  role: Need;
  /** Values for `:param` segments, asked for each call (a cancel that will succeed needs a fresh job each time). */
  params?: (willSucceed: boolean) => Promise<Record<string, string>> | Record<string, string>;
  /** A valid body, asked for each call (a new user needs a new email each time). */
  body?: () => unknown;
  /** A query string for the call (without '?'). */
  query?: string;
  /** The answer is a file, not JSON (the content type is not checked; `ok` gets the bytes). */
  binary?: boolean;
  /** Extra checks on a successful answer. */
  ok?: (json: Json, as: E2eRole, r: Answer) => void | Promise<void>;
  /** Checks that a refused call changed nothing (run after every 401/403 of this entry). */
  unchanged?: () => Promise<void>;
}

const rank: Record<E2eRole, number> = { viewer: 1, operator: 2, admin: 3 };
const callers: Caller[] = ['anonymous', 'viewer', 'operator', 'admin'];
const unsafe = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// Filled in beforeAll.
const cookies = {} as Record<E2eRole, string>;
let pingJobId = '';
let patchUserId = '';
let requesterCookie = '';
/** The target most entries act on, with one succeeded backup made in beforeAll. */
let mainTargetId = '';
/** A second target that carries the schedules (so no schedule can start a backup of the main one). */
let scheduleTargetId = '';
let patchScheduleId = '';
let backupId = 0;
let backupSha = '';
let backupSize = 0;

async function call(method: string, path: string, opts: { cookie?: string; body?: unknown; origin?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  if (unsafe.has(method)) headers.origin = opts.origin ?? base;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    redirect: 'manual',
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: Json = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // asserted by the caller
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json, bytes, headers: res.headers };
}
type Answer = Awaited<ReturnType<typeof call>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until a job has ended; returns its row. */
async function waitForJob(id: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ status: string; error_code: string | null; error_message: string | null }>(
      'SELECT status, error_code, error_message FROM jobs WHERE id = $1',
      [id],
    );
    const row = rows[0];
    if (row && !['queued', 'running'].includes(row.status)) return row;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${row?.status ?? 'missing'} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Waits until no job of the target is queued or running (a delete is refused while one is). */
async function waitForTargetIdle(targetId: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM jobs WHERE target_id = $1 AND status IN ('queued', 'running')`, [targetId]);
    if (rows.length === 0) return;
    if (Date.now() > deadline) throw new Error(`target ${targetId} still has active jobs after ${timeoutMs} ms: ${rows.map((r) => r.id).join(', ')}`);
    await sleep(200);
  }
}

/** A valid target body on the e2e cluster's own database; names carry the run so reruns never collide. */
function targetBody(tag: string) {
  return {
    name: `roles-${tag}-${run}-${Math.random().toString(36).slice(2, 7)}`,
    host: '127.0.0.1',
    port: clusterPort,
    dbUser: 'postgres',
    password: null,
    sslMode: 'disable',
    database: appDatabase,
  };
}

/** Creates a target as admin and waits for the connection test that creation starts. */
async function newTarget(tag: string): Promise<string> {
  const r = await call('POST', '/api/targets', { cookie: cookies.admin, body: targetBody(tag) });
  expect(r.status, r.text).toBe(200);
  const id = r.json.target.id as string;
  const test = await waitForJob(r.json.testJob.id);
  expect(test.status, `the connection test of a new target: ${test.error_code} ${test.error_message}`).toBe('succeeded');
  return id;
}

async function newSchedule(): Promise<string> {
  const r = await call('POST', '/api/schedules', { cookie: cookies.admin, body: { targetId: scheduleTargetId, cron: '0 2 * * *', timezone: 'UTC' } });
  expect(r.status, r.text).toBe(200);
  return r.json.schedule.id as string;
}

/** The params of a call on a finished comparison: its own (a call that will succeed), or a job that does not exist. */
async function comparisonParams(willSucceed: boolean): Promise<{ id: string }> {
  if (!willSucceed) return { id: '00000000-0000-4000-8000-000000000000' };
  const r = await call('POST', '/api/recoveries', { cookie: cookies.operator, body: { backupId: String(backupId), tables: ['public.items'] } });
  expect(r.status, r.text).toBe(200);
  const done = await waitForJob(r.json.job.id);
  expect(done.status, `the comparison: ${done.error_code} ${done.error_message}`).toBe('succeeded');
  return { id: r.json.job.id as string };
}

async function rowExists(table: 'targets' | 'schedules', id: string) {
  const { rows } = await db.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id]);
  return rows.length === 1;
}

/** A long ping (so it is still queued or running when cancelled), started by the operator. */
async function newCancellableJob(): Promise<string> {
  const r = await call('POST', '/api/jobs/ping', { cookie: cookies.operator, body: { message: `cancel me ${run}`, seconds: 60 } });
  expect(r.status, r.text).toBe(200);
  return r.json.job.id as string;
}

/** A ping that failed with a retryable code, as a worker would leave it. */
async function failedPing(): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO jobs (id, kind, queue, status, payload, error_code, error_message, finished_at)
     VALUES (gen_random_uuid(), 'ping', 'ping.default', 'failed', $1, 'PING_FAILED', 'asked to fail', now()) RETURNING id`,
    [JSON.stringify({ message: `run again ${run}`, seconds: 0, fail: false })],
  );
  return rows[0]!.id;
}

/** A production restore request by the second admin: the setting is on only while it is asked for. */
async function newRestoreRequest(): Promise<string> {
  const on = await call('PUT', '/api/settings', { cookie: cookies.admin, body: { requireSecondAdmin: true } });
  expect(on.status, on.text).toBe(200);
  try {
    const r = await call('POST', '/api/restores', { cookie: requesterCookie, body: { backupId: String(backupId), destination: { mode: 'replace', method: 'swap' }, confirm: appDatabase } });
    expect(r.status, r.text).toBe(200);
    return r.json.request.id as string;
  } finally {
    // Switching approvals off is itself a request: the other admin approves it.
    const off = await call('PUT', '/api/settings', { cookie: cookies.admin, body: { requireSecondAdmin: false } });
    if (off.json?.pendingRequest) {
      const ok = await call('POST', `/api/restores/requests/${off.json.pendingRequest.id}`, { cookie: requesterCookie, body: { decision: 'approve' } });
      expect(ok.status, ok.text).toBe(200);
    }
  }
}

let sharedRequestId = '';

// The table. Keys are 'METHOD /api/path' with `:param` for [param] folders and `*` for a [...catch-all].
const table: Record<string, Entry> = {
  'GET /api/health': { role: 'public' },
  'GET /api/auth/*': { role: 'next-auth' },
  'POST /api/auth/*': { role: 'next-auth' },
  'GET /api/me': {
    role: 'viewer',
    ok: (j, as) => expect(j.user).toMatchObject({ email: e2eUsers[as].email, role: as, name: e2eUsers[as].name }),
  },
  'GET /api/overview': {
    role: 'viewer',
    ok: (j) => {
      expect(Array.isArray(j.workers)).toBe(true);
      expect(typeof j.targetCount).toBe('number');
    },
  },
  'GET /api/targets': {
    role: 'viewer',
    ok: (j) => {
      expect(j.targets.map((t: { id: string }) => t.id)).toContain(mainTargetId);
      // Sealed passwords never leave the server.
      expect(JSON.stringify(j)).not.toMatch(/passwordEnc|password_enc/);
    },
  },
  'POST /api/targets': {
    role: 'admin',
    body: () => targetBody('new'),
    ok: (j) => {
      expect(j.target).toMatchObject({ host: '127.0.0.1', port: clusterPort, dbUser: 'postgres', database: appDatabase, sslMode: 'disable', hasPassword: false, disabled: false });
      expect(j.target.id).toMatch(uuid);
      expect(j.target.passwordEnc).toBeUndefined();
      expect(j.testJob.id).toMatch(uuid);
    },
  },
  'GET /api/targets/:id': {
    role: 'viewer',
    params: () => ({ id: mainTargetId }),
    ok: (j) => {
      expect(j.target).toMatchObject({ id: mainTargetId, database: appDatabase, hasPassword: false });
      expect(j.target.passwordEnc).toBeUndefined();
      expect(Array.isArray(j.target.schedules)).toBe(true);
    },
  },
  'PATCH /api/targets/:id': {
    role: 'admin',
    params: () => ({ id: mainTargetId }),
    body: () => ({ keyTables: ['public.items'] }),
    ok: (j) => expect(j.target).toMatchObject({ id: mainTargetId, keyTables: ['public.items'] }),
  },
  'DELETE /api/targets/:id': {
    role: 'admin',
    // A call that will succeed deletes a throwaway target; a refused one aims at the main target, which must survive.
    params: async (willSucceed) => ({ id: willSucceed ? await newTarget('delete-me') : mainTargetId }),
    ok: (j) => {
      expect(j).toMatchObject({ backupsKept: 0 });
      expect(j.id).toMatch(uuid);
    },
    unchanged: async () => expect(await rowExists('targets', mainTargetId), 'a refused DELETE removed the target').toBe(true),
  },
  'POST /api/targets/:id/test': {
    role: 'admin',
    params: () => ({ id: mainTargetId }),
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  'POST /api/targets/:id/backup': {
    role: 'operator',
    // One backup per target at a time: a call that should succeed first waits for the previous backup to end.
    params: async (willSucceed) => {
      if (willSucceed) await waitForTargetIdle(mainTargetId);
      return { id: mainTargetId };
    },
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  'POST /api/targets/:id/base-backup': {
    role: 'operator',
    // One base backup per target at a time, and the target idle for the entries after it: each that succeeds ends.
    params: async (willSucceed) => {
      if (willSucceed) await waitForTargetIdle(mainTargetId);
      return { id: mainTargetId };
    },
    body: () => ({}),
    ok: async (j) => {
      expect(j.job.id).toMatch(uuid);
      expect((await waitForJob(j.job.id, 90_000)).status).toBe('succeeded');
    },
  },
  'GET /api/targets/:id/trend': {
    role: 'viewer',
    params: () => ({ id: mainTargetId }),
    ok: (j) => {
      expect(j.points.length).toBeGreaterThanOrEqual(1);
      expect(j.points[0]).toMatchObject({ id: expect.any(Number), size: expect.any(Number), durationMs: expect.any(Number), database: appDatabase, sudden: false });
    },
  },
  'GET /api/targets/:id/wal': {
    role: 'viewer',
    params: () => ({ id: mainTargetId }),
    ok: (j) => {
      expect(j.config.postgresqlConf).toContain("archive_command = '/usr/local/bin/lifeboat-wal push %p'");
      expect(j.config.walConf).toMatch(/\ntarget=[A-Za-z0-9._-]+\n/);
    },
  },
  'GET /api/targets/:id/window': {
    role: 'viewer',
    params: () => ({ id: mainTargetId }),
    ok: (j) => {
      expect(j.window).toMatchObject({ ranges: expect.any(Array), gaps: expect.any(Array) });
      expect(j.restorePoints).toEqual(expect.any(Array));
    },
  },
  'POST /api/targets/:id/restore-points': {
    role: 'operator',
    params: () => ({ id: mainTargetId }),
    // A new name each call: one name once per target.
    body: () => ({ name: `e2e point ${run} ${Math.random().toString(36).slice(2, 8)}` }),
    ok: async (j) => {
      expect(j.job.id).toMatch(uuid);
      const done = await waitForJob(j.job.id);
      expect(done.status, `${done.error_code}: ${done.error_message}`).toBe('succeeded');
      const { rows } = await db.query<{ lsn: string }>('SELECT lsn FROM restore_points WHERE job_id = $1', [j.job.id]);
      expect(rows[0]?.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    },
  },
  'GET /api/targets/:id/restore-points': {
    role: 'viewer',
    params: () => ({ id: mainTargetId }),
    ok: (j) => expect(j.restorePoints).toEqual(expect.any(Array)),
  },
  // Operators may add base-backup schedules (as they may press "Base backup now"); a logical schedule is an admin's
  // (the test below). Disabled, so no base backup runs against the table's target during the suite.
  'POST /api/schedules': {
    role: 'operator',
    body: () => ({ targetId: scheduleTargetId, kind: 'base', cron: '0 2 * * *', timezone: 'UTC', enabled: false }),
    ok: (j) => {
      expect(j.schedule).toMatchObject({ targetId: scheduleTargetId, kind: 'base', cron: '0 2 * * *', timezone: 'UTC', enabled: false, retentionDays: 56 });
    },
  },
  'PATCH /api/schedules/:id': {
    role: 'admin',
    params: () => ({ id: patchScheduleId }),
    body: () => ({ enabled: false }),
    ok: (j) => expect(j.schedule).toMatchObject({ id: patchScheduleId, enabled: false, cron: '0 2 * * *' }),
  },
  'DELETE /api/schedules/:id': {
    role: 'admin',
    params: async (willSucceed) => ({ id: willSucceed ? await newSchedule() : patchScheduleId }),
    ok: (j) => expect(j.id).toMatch(uuid),
    unchanged: async () => expect(await rowExists('schedules', patchScheduleId), 'a refused DELETE removed the schedule').toBe(true),
  },
  'GET /api/schedules/preview': {
    role: 'viewer',
    query: `cron=${encodeURIComponent('0 2 * * *')}&timezone=UTC`,
    ok: (j) => {
      expect(j.runs).toHaveLength(5);
      for (const at of j.runs as string[]) expect(at).toMatch(/T02:00:00(\.000)?Z$/);
    },
  },
  'GET /api/backups': {
    role: 'viewer',
    ok: (j) => {
      expect(typeof j.total).toBe('number');
      expect(j.items.map((b: { id: number }) => b.id)).toContain(backupId);
    },
  },
  'GET /api/backups/:id': {
    role: 'viewer',
    params: () => ({ id: String(backupId) }),
    ok: (j) => {
      expect(j.backup).toMatchObject({ id: backupId, status: 'succeeded', checksumSha256: backupSha, databaseName: appDatabase });
      expect(Array.isArray(j.logs)).toBe(true);
    },
  },
  'GET /api/backups/:id/download': {
    role: 'admin',
    binary: true,
    params: () => ({ id: String(backupId) }),
    ok: (_j, _as, r) => {
      expect(r.type).toBe('application/octet-stream');
      expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="[\w.-]+"$/);
      expect(r.headers.get('x-checksum-sha256')).toBe(backupSha);
      // The handler sets content-length, but the built server answers chunked; when it is there it must be right.
      const length = r.headers.get('content-length');
      if (length !== null) expect(Number(length)).toBe(r.bytes.length);
      expect(r.bytes.length).toBe(backupSize);
      expect(createHash('sha256').update(r.bytes).digest('hex')).toBe(backupSha);
    },
  },
  'POST /api/restores': {
    role: 'operator',
    // Into a new database (operators may); replacing production is admin-only and checked separately below.
    body: () => ({ backupId: String(backupId), destination: { mode: 'new', targetId: mainTargetId, database: `roles_restore_${run}_${Math.random().toString(36).slice(2, 7)}` }, runChecks: false }),
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  'POST /api/restores/preflight': {
    role: 'operator',
    body: () => ({ backupId: String(backupId), destination: { mode: 'replace', method: 'swap' } }),
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  'POST /api/recoveries': {
    role: 'operator',
    body: () => ({ backupId: String(backupId), tables: ['public.items'] }),
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  // The entries below act on a finished comparison: a call that will succeed gets one of its own (nothing is missing
  // from e2e_app, so a re-insert inserts nothing); a refused one names a job that does not exist.
  'POST /api/recoveries/:id/reinsert': {
    role: 'admin',
    params: comparisonParams,
    body: () => ({ confirm: appDatabase }),
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  'POST /api/recoveries/:id/discard': {
    role: 'operator',
    params: comparisonParams,
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  'POST /api/recoveries/:id/export': {
    role: 'operator',
    params: comparisonParams,
    body: () => ({ format: 'csv' }),
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  'GET /api/recoveries/exports/:id': {
    role: 'operator',
    binary: true,
    params: async (willSucceed) => {
      if (!willSucceed) return { id: '00000000-0000-4000-8000-000000000000' };
      const r = await call('POST', '/api/recoveries', { cookie: cookies.operator, body: { backupId: String(backupId), tables: ['public.items'] } });
      expect(r.status, r.text).toBe(200);
      const done = await waitForJob(r.json.job.id);
      expect(done.status, `the comparison: ${done.error_code} ${done.error_message}`).toBe('succeeded');
      const e = await call('POST', `/api/recoveries/${r.json.job.id}/export`, { cookie: cookies.operator, body: { format: 'sql' } });
      expect(e.status, e.text).toBe(200);
      const written = await waitForJob(e.json.job.id);
      expect(written.status, `the export: ${written.error_code} ${written.error_message}`).toBe('succeeded');
      return { id: e.json.job.id as string };
    },
    ok: (_j, _as, r) => {
      expect(r.type).toMatch(/^application\/sql/);
      expect(r.headers.get('content-disposition')).toBe(`attachment; filename="${appDatabase}-missing-rows-public.items.sql"`);
      expect(r.bytes.toString('utf8')).toMatch(/^BEGIN;$/m);
      expect(r.bytes.toString('utf8')).not.toMatch(/^INSERT INTO/m);
    },
  },
  'GET /api/restores/requests': { role: 'admin', ok: (j) => expect(Array.isArray(j.requests)).toBe(true) },
  'POST /api/restores/requests/:id': {
    role: 'admin',
    // A refusal that will succeed gets a fresh request; a refused call aims at one that must stay undecided.
    params: async (willSucceed) => {
      if (willSucceed) return { id: await newRestoreRequest() };
      sharedRequestId ||= await newRestoreRequest();
      return { id: sharedRequestId };
    },
    body: () => ({ decision: 'refuse', reason: 'roles test' }),
    ok: (j) => expect(j).toMatchObject({ status: 'refused' }),
    unchanged: async () => {
      const { rows } = await db.query('SELECT status FROM restore_requests WHERE id = $1', [sharedRequestId]);
      expect(rows[0]?.status, 'a refused decision changed the request').toBe('requested');
    },
  },
  'POST /api/uploads': {
    role: 'admin',
    // Read when the call is made (the target exists only after beforeAll). The body is not a dump: the upload is
    // accepted and the worker's check then refuses it, which is not this table's business.
    get query() {
      return `targetId=${mainTargetId}&database=${appDatabase}&fileName=roles.dump`;
    },
    body: () => ({ not: 'a dump' }),
    ok: (j) => {
      expect(j.job.id).toMatch(uuid);
      expect(j.sha256).toMatch(/^[0-9a-f]{64}$/);
    },
  },
  'GET /api/settings': { role: 'viewer', ok: (j) => expect(typeof j.settings.rtoSeconds).toBe('number') },
  'PUT /api/settings': {
    role: 'admin',
    body: () => ({ rtoSeconds: 3600 }),
    ok: (j) => expect(j.settings).toMatchObject({ rtoSeconds: 3600 }),
  },
  'POST /api/targets/:id/drill': {
    role: 'operator',
    params: () => ({ id: mainTargetId }),
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  'GET /api/targets/:id/drills': {
    role: 'viewer',
    params: () => ({ id: mainTargetId }),
    ok: (j) => {
      expect(Array.isArray(j.drills)).toBe(true);
      expect(typeof j.rtoSeconds).toBe('number');
    },
  },
  'GET /api/targets/:id/copies': { role: 'viewer', params: () => ({ id: mainTargetId }), ok: (j) => expect(Array.isArray(j.copies)).toBe(true) },
  'POST /api/targets/:id/copies/drop': {
    role: 'admin',
    params: () => ({ id: mainTargetId }),
    // A copy name that does not exist: the job is accepted (and then fails on the worker), nothing is dropped.
    body: () => ({ database: 'no_such_db_restore_20260101t000000z' }),
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  'POST /api/targets/:id/rollback': {
    role: 'admin',
    params: () => ({ id: mainTargetId }),
    body: () => ({ keptDatabase: 'no_such_db_before_restore_20260101t000000z' }),
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  'POST /api/targets/:id/repair': {
    role: 'admin',
    params: () => ({ id: mainTargetId }),
    // The typed database name confirms; the repair of the small e2e database runs in seconds.
    body: () => ({ confirm: appDatabase }),
    ok: (j) => expect(j.job.id).toMatch(uuid),
  },
  'GET /api/storages': { role: 'viewer', ok: (j) => expect(Array.isArray(j.storages)).toBe(true) },
  'POST /api/storages': {
    role: 'admin',
    body: () => ({ name: `roles-storage-${run}-${Math.random().toString(36).slice(2, 7)}`, path: join(tmpdir(), `lifeboat-roles-storage-${run}`) }),
    ok: (j) => {
      expect(j.storage).toMatchObject({ kind: 'local', path: join(tmpdir(), `lifeboat-roles-storage-${run}`) });
      expect(j.storage.name).toMatch(/^roles-storage-/);
    },
  },
  'GET /api/jobs': { role: 'viewer', ok: (j) => expect(Array.isArray(j.jobs)).toBe(true) },
  'GET /api/jobs/:id': {
    role: 'viewer',
    params: () => ({ id: pingJobId }),
    ok: (j) => {
      expect(j.job).toMatchObject({ id: pingJobId, kind: 'ping' });
      expect(Array.isArray(j.logs)).toBe(true);
    },
  },
  'POST /api/jobs/ping': {
    role: 'operator',
    body: () => ({ message: `roles ${run}`, seconds: 0 }),
    ok: (j) => expect(j.job.id).toMatch(/^[0-9a-f-]{36}$/),
  },
  'POST /api/jobs/:id/cancel': {
    role: 'operator',
    // Only a call that will succeed gets a fresh long job: a refused one must not leave a 60 s job on the worker.
    params: async (willSucceed) => ({ id: willSucceed ? await newCancellableJob() : pingJobId }),
    ok: (j) => expect(['cancelled', 'cancelling']).toContain(j.status),
  },
  'POST /api/jobs/:id/run-again': {
    role: 'operator',
    // A call that will succeed gets a failed ping (PING_FAILED is retryable); its new run is a quick ping.
    params: async (willSucceed) => ({ id: willSucceed ? await failedPing() : pingJobId }),
    ok: (j) => expect(j.job.id).toMatch(/^[0-9a-f-]{36}$/),
  },
  'GET /api/audit': { role: 'admin', ok: (j) => expect(Array.isArray(j.entries)).toBe(true) },
  'GET /api/users': {
    role: 'admin',
    ok: (j) => {
      expect(j.users.map((u: { email: string }) => u.email)).toContain(e2eUsers.admin.email);
      // Password hashes never leave the server.
      expect(JSON.stringify(j)).not.toMatch(/passwordHash|\$argon2/);
    },
  },
  'POST /api/users': {
    role: 'admin',
    body: () => ({ email: `roles-new-${run}-${Math.random().toString(36).slice(2, 7)}@e2e.test`, name: 'Roles New', role: 'viewer', password: 'a-long-enough-password' }),
    ok: (j) => {
      expect(j.user).toMatchObject({ role: 'viewer', disabled: false, hasPassword: true });
      expect(j.user.passwordHash).toBeUndefined();
    },
  },
  'PATCH /api/users/:id': {
    role: 'admin',
    params: () => ({ id: patchUserId }),
    body: () => ({ name: `Renamed ${run}` }),
    ok: (j) => expect(j.user).toMatchObject({ id: patchUserId, name: `Renamed ${run}`, role: 'viewer' }),
  },
};

/** Every route file under app/api and the verbs it exports, as 'METHOD /api/path' keys. */
function routesOnDisk(): string[] {
  const apiDir = join(root, 'app/api');
  const files = (readdirSync(apiDir, { recursive: true }) as string[]).filter(
    (f) => f === 'route.ts' || f.endsWith(`${sep}route.ts`) || f === 'route.js' || f.endsWith(`${sep}route.js`),
  );
  const keys: string[] = [];
  for (const file of files) {
    const segments = relative(join(root, 'app'), join(apiDir, file)).split(sep).slice(0, -1);
    const path =
      '/' +
      segments
        .filter((s) => !/^\(.*\)$/.test(s)) // route groups do not appear in the URL
        .map((s) => (/^\[\[?\.\.\./.test(s) ? '*' : s.replace(/^\[(.+)\]$/, ':$1')))
        .join('/');
    const text = readFileSync(join(apiDir, file), 'utf8');
    const verbs = new Set<string>();
    const verb = '(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)';
    for (const m of text.matchAll(new RegExp(`export\\s+(?:const|let|var)\\s+${verb}\\b`, 'g'))) verbs.add(m[1]!);
    for (const m of text.matchAll(new RegExp(`export\\s+(?:async\\s+)?function\\s*\\*?\\s*${verb}\\b`, 'g'))) verbs.add(m[1]!);
    for (const m of text.matchAll(/export\s*\{([^}]*)\}/g)) {
      for (const part of m[1]!.split(',')) {
        const name = part.trim().split(/\s+as\s+/).pop()?.trim();
        if (name && new RegExp(`^${verb}$`).test(name)) verbs.add(name);
      }
    }
    if (verbs.size === 0) keys.push(`NONE ${path}`);
    for (const v of verbs) keys.push(`${v} ${path}`);
  }
  return keys.sort();
}

function fill(path: string, params: Record<string, string>): string {
  return path.replace(/:([A-Za-z]+)/g, (_, k: string) => {
    if (!params[k]) throw new Error(`no value for :${k} in ${path}`);
    return encodeURIComponent(params[k]);
  });
}

function expectErrorBody(r: Answer, status: number, code: string, message?: string, hint?: string) {
  expect(r.status, `${r.status} ${r.text.slice(0, 300)}`).toBe(status);
  expect(r.type).toMatch(/^application\/json/);
  expect(r.json?.error?.code, r.text).toBe(code);
  expect(typeof r.json.error.message).toBe('string');
  expect(r.json.error.message.length).toBeGreaterThan(0);
  expect(typeof r.json.error.hint).toBe('string');
  expect(r.json.error.hint.length).toBeGreaterThan(0);
  if (message !== undefined) expect(r.json.error.message).toBe(message);
  if (hint !== undefined) expect(r.json.error.hint).toBe(hint);
}

let db: pg.Client;

beforeAll(async () => {
  for (const role of Object.keys(e2eUsers) as E2eRole[]) {
    cookies[role] = await signInCookie(base, e2eUsers[role].email, e2eUsers[role].password);
  }
  const ping = await call('POST', '/api/jobs/ping', { cookie: cookies.operator, body: { message: `roles target ${run}`, seconds: 0 } });
  expect(ping.status, ping.text).toBe(200);
  pingJobId = ping.json.job.id;
  const user = await call('POST', '/api/users', {
    cookie: cookies.admin,
    body: { email: `roles-patch-${run}@e2e.test`, name: 'Roles Patch', role: 'viewer', password: 'a-long-enough-password' },
  });
  expect(user.status, user.text).toBe(200);
  patchUserId = user.json.user.id;
  // A second admin who asks for production restores, so the seeded admin may decide them (not their own).
  const requester = { email: `roles-requester-${run}@e2e.test`, password: 'another-long-password' };
  const made = await call('POST', '/api/users', { cookie: cookies.admin, body: { ...requester, name: 'Roles Requester', role: 'admin' } });
  expect(made.status, made.text).toBe(200);
  requesterCookie = await signInCookie(base, requester.email, requester.password);
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();

  // A small database on the e2e cluster for the targets to back up.
  const server = new URL(databaseUrl);
  server.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: server.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${appDatabase}`).catch((err: { code?: string }) => {
    if (err.code !== '42P04') throw err; // already there (another file, or a rerun against a kept cluster)
  });
  await admin.end();
  server.pathname = `/${appDatabase}`;
  const app = new pg.Client({ connectionString: server.toString() });
  await app.connect();
  await app.query('CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text NOT NULL)');
  await app.query(`INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g ON CONFLICT DO NOTHING`);
  await app.end();

  mainTargetId = await newTarget('main');
  scheduleTargetId = await newTarget('schedules');
  patchScheduleId = await newSchedule();

  // One succeeded backup of the main target, for the download and detail entries.
  const started = await call('POST', `/api/targets/${mainTargetId}/backup`, { cookie: cookies.operator });
  expect(started.status, started.text).toBe(200);
  const job = await waitForJob(started.json.job.id, 90_000);
  expect(job.status, `the beforeAll backup: ${job.error_code} ${job.error_message}`).toBe('succeeded');
  const list = await call('GET', `/api/backups?targetId=${mainTargetId}`, { cookie: cookies.viewer });
  expect(list.status, list.text).toBe(200);
  expect(list.json.items).toHaveLength(1);
  expect(list.json.items[0]).toMatchObject({ status: 'succeeded', jobId: started.json.job.id });
  backupId = list.json.items[0].id;
  const detail = await call('GET', `/api/backups/${backupId}`, { cookie: cookies.viewer });
  backupSha = detail.json.backup.checksumSha256;
  backupSize = detail.json.backup.backupSize;
  expect(backupSize).toBeGreaterThan(0);
  expect(backupSha).toMatch(/^[0-9a-f]{64}$/);
}, 180_000);

afterAll(async () => {
  // Leave the shared worker idle for the next file: cancel any job of this run that is still queued or running.
  if (db) {
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM jobs WHERE status IN ('queued', 'running') AND payload->>'message' LIKE $1`,
      [`%${run}`],
    );
    for (const { id } of rows) await call('POST', `/api/jobs/${id}/cancel`, { cookie: cookies.operator });
    // Delete every target this file made (after their jobs end), so the overview is empty again for other files.
    const mine = await db.query<{ id: string; name: string }>(`SELECT id, name FROM targets WHERE name LIKE $1`, [`roles-%-${run}-%`]);
    const failures: string[] = [];
    for (const t of mine.rows) {
      try {
        await waitForTargetIdle(t.id);
        const r = await call('DELETE', `/api/targets/${t.id}`, { cookie: cookies.admin });
        if (r.status !== 200) failures.push(`${t.name}: ${r.status} ${r.text}`);
      } catch (err) {
        failures.push(`${t.name}: ${(err as Error).message}`);
      }
    }
    await db.end();
    expect(failures, 'targets this file could not delete').toEqual([]);
  }
}, 120_000);

describe('API route x role table', () => {
  it('has exactly one table entry per route file and exported method', () => {
    const onDisk = routesOnDisk();
    expect(onDisk.length).toBeGreaterThan(5); // the walk found the API at all
    const noVerbs = onDisk.filter((k) => k.startsWith('NONE '));
    expect(noVerbs, 'route files that export no HTTP method (is the export style recognized?)').toEqual([]);
    const missing = onDisk.filter((k) => !(k in table));
    expect(missing, `add these to the table in test/e2e/api-roles.test.ts: ${missing.join(', ')}`).toEqual([]);
    const stale = Object.keys(table).filter((k) => !onDisk.includes(k));
    expect(stale, `these table entries have no route file or exported method any more; remove them: ${stale.join(', ')}`).toEqual([]);
  });

  const guarded = Object.entries(table).filter(([, e]) => e.role !== 'public' && e.role !== 'next-auth');
  for (const [key, entry] of guarded) {
    const [method, path] = key.split(' ') as [string, string];
    for (const caller of callers) {
      const allowed = caller !== 'anonymous' && rank[caller] >= rank[entry.role as E2eRole];
      const expectation = caller === 'anonymous' ? '401 UNAUTHENTICATED' : allowed ? '2xx' : '403 FORBIDDEN';
      it(`${key} as ${caller} -> ${expectation}`, async () => {
        const params = entry.params ? await entry.params(allowed) : {};
        const url = fill(path, params) + (entry.query ? `?${entry.query}` : '');
        const body = entry.body?.();
        const r = await call(method, url, { cookie: caller === 'anonymous' ? undefined : cookies[caller], body });
        if (caller === 'anonymous') {
          expectErrorBody(r, 401, 'UNAUTHENTICATED', 'You are not signed in.', 'Sign in and try again.');
          await entry.unchanged?.();
        } else if (!allowed) {
          expectErrorBody(r, 403, 'FORBIDDEN', `This needs the ${entry.role} role; you are ${caller}.`, 'Ask an admin for a role that allows this.');
          await entry.unchanged?.();
        } else {
          expect(r.status, r.text.slice(0, 500)).toBeGreaterThanOrEqual(200);
          expect(r.status, r.text.slice(0, 500)).toBeLessThan(300);
          if (!entry.binary) {
            expect(r.type).toMatch(/^application\/json/);
            expect(r.json?.error).toBeUndefined();
          }
          await entry.ok?.(r.json, caller, r);
        }
      });
    }
  }

  it('GET /api/health is public: 200 JSON for everyone, no secrets', async () => {
    for (const caller of callers) {
      const r = await call('GET', '/api/health', { cookie: caller === 'anonymous' ? undefined : cookies[caller] });
      expect(r.status, r.text).toBe(200);
      expect(r.type).toMatch(/^application\/json/);
      expect(r.json).toMatchObject({ status: 'ok', database: 'up', service: 'lifeboat-console' });
      expect(r.text).not.toMatch(/postgres(ql)?:\/\//);
    }
  });

  it("next-auth's own endpoints are public: session, csrf and providers answer 200", async () => {
    const anonSession = await call('GET', '/api/auth/session');
    expect(anonSession.status).toBe(200);
    expect(anonSession.json).toEqual({});
    const csrf = await call('GET', '/api/auth/csrf');
    expect(csrf.status).toBe(200);
    expect(csrf.json.csrfToken).toMatch(/^[0-9a-f]{32,}$/);
    const providers = await call('GET', '/api/auth/providers');
    expect(providers.status).toBe(200);
    expect(providers.json.credentials).toMatchObject({ id: 'credentials', type: 'credentials' });
    for (const role of Object.keys(e2eUsers) as E2eRole[]) {
      const s = await call('GET', '/api/auth/session', { cookie: cookies[role] });
      expect(s.status).toBe(200);
      expect(s.json.userId).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof s.json.expires).toBe('string');
    }
  });

  it('POST to next-auth (credentials sign-in) works from the same origin and is refused from another site', async () => {
    // Same origin: signInCookie already signed in every role in beforeAll through POST /api/auth/callback/credentials.
    expect(cookies.viewer).toContain('next-auth.session-token=');
    const csrfRes = await fetch(`${base}/api/auth/csrf`);
    const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
    const csrfCookie = csrfRes.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const res = await fetch(`${base}/api/auth/callback/credentials`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie, origin: 'http://evil.example' },
      body: new URLSearchParams({ csrfToken, email: e2eUsers.viewer.email, password: e2eUsers.viewer.password, json: 'true' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as Json).error.code).toBe('CROSS_ORIGIN');
    expect(res.headers.getSetCookie().some((c) => c.startsWith('next-auth.session-token='))).toBe(false);
  });
});

describe('cross-origin requests', () => {
  it('POST /api/jobs/ping with an admin session from http://evil.example -> 403 CROSS_ORIGIN, and no job is created', async () => {
    const before = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM jobs');
    const r = await call('POST', '/api/jobs/ping', { cookie: cookies.admin, origin: 'http://evil.example', body: { message: `evil ${run}`, seconds: 0 } });
    expectErrorBody(r, 403, 'CROSS_ORIGIN', 'This request came from another site and was refused.', 'Use the console itself; requests from other sites are refused.');
    const after = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM jobs');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('every mutating API entry refuses another origin, even with a valid admin session, and changes nothing', async () => {
    const rowCounts = async () =>
      (
        await db.query(
          `SELECT (SELECT count(*) FROM targets)::int AS targets, (SELECT count(*) FROM schedules)::int AS schedules,
                  (SELECT count(*) FROM storages)::int AS storages, (SELECT count(*) FROM jobs)::int AS jobs,
                  (SELECT count(*) FROM schedules WHERE enabled)::int AS enabled_schedules,
                  (SELECT key_tables FROM targets WHERE id = $1) AS main_key_tables`,
          [mainTargetId],
        )
      ).rows[0];
    const before = await rowCounts();
    for (const [key, entry] of Object.entries(table)) {
      const [method, path] = key.split(' ') as [string, string];
      if (!unsafe.has(method) || entry.role === 'public' || entry.role === 'next-auth') continue;
      const url = fill(path, entry.params ? await entry.params(false) : {}) + (entry.query ? `?${entry.query}` : '');
      const r = await call(method, url, { cookie: cookies.admin, origin: 'http://evil.example', body: entry.body?.() });
      expectErrorBody(r, 403, 'CROSS_ORIGIN');
      await entry.unchanged?.();
    }
    // Nor did a refused call create, change or delete a target, schedule, storage or job.
    expect(await rowCounts()).toEqual(before);
  });

  it('a browser-style cross-site fetch (Sec-Fetch-Site: cross-site, no Origin) is refused too', async () => {
    const res = await fetch(`${base}/api/jobs/ping`, {
      method: 'POST',
      headers: { cookie: cookies.admin, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
      body: JSON.stringify({ message: `evil ${run}`, seconds: 0 }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as Json).error.code).toBe('CROSS_ORIGIN');
  });
});

describe('validation errors', () => {
  it('POST /api/users with bad fields -> 400 VALIDATION naming each field', async () => {
    const r = await call('POST', '/api/users', {
      cookie: cookies.admin,
      body: { email: 'not-an-email', name: '', role: 'superuser', password: 'short' },
    });
    expectErrorBody(r, 400, 'VALIDATION', undefined, 'Correct the fields named above and send again.');
    expect(r.json.error.fields).toEqual({
      email: 'must be an email address',
      name: 'is required',
      role: expect.any(String),
      password: 'Passwords need at least 12 characters.',
    });
    expect(r.json.error.message).toMatch(/^The request body is not valid: /);
  });

  it('PATCH /api/users/:id with nothing to change -> 400 VALIDATION', async () => {
    const r = await call('PATCH', `/api/users/${patchUserId}`, { cookie: cookies.admin, body: {} });
    expectErrorBody(r, 400, 'VALIDATION');
    expect(r.json.error.fields).toEqual({ _: 'Nothing to change.' });
  });

  it('POST /api/jobs/ping with seconds out of range -> 400 VALIDATION with fields.seconds', async () => {
    const r = await call('POST', '/api/jobs/ping', { cookie: cookies.operator, body: { seconds: 100_000 } });
    expectErrorBody(r, 400, 'VALIDATION');
    expect(Object.keys(r.json.error.fields)).toEqual(['seconds']);
  });

  it('GET /api/jobs/:id with a malformed id -> 400 VALIDATION with fields.id', async () => {
    const r = await call('GET', '/api/jobs/not-a-uuid', { cookie: cookies.viewer });
    expectErrorBody(r, 400, 'VALIDATION');
    expect(r.json.error.fields).toEqual({ id: 'must be a job id' });
  });

  it('a body that is not JSON -> 400 VALIDATION', async () => {
    const res = await fetch(`${base}/api/jobs/ping`, {
      method: 'POST',
      headers: { cookie: cookies.operator, origin: base, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ code: 'VALIDATION', message: 'The request body must be JSON.' });
  });

  it('POST /api/schedules of a logical schedule as operator -> 403 FORBIDDEN saying only base-backup schedules are theirs, and no schedule is made', async () => {
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schedules');
    const r = await call('POST', '/api/schedules', { cookie: cookies.operator, body: { targetId: scheduleTargetId, cron: '0 2 * * *', timezone: 'UTC' } });
    expectErrorBody(r, 403, 'FORBIDDEN', 'Only an admin can add a logical schedule; operators can add base-backup schedules.');
    const after = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schedules');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it("POST /api/schedules with cron '61 * * * *' -> 400 INVALID_CRON naming the minute field, and no schedule is made", async () => {
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schedules');
    const r = await call('POST', '/api/schedules', { cookie: cookies.admin, body: { targetId: scheduleTargetId, cron: '61 * * * *', timezone: 'UTC' } });
    expectErrorBody(
      r,
      400,
      'INVALID_CRON',
      'The schedule "61 * * * *" is not valid: the minute field "61" is out of range (0-59).',
      'Use five fields: minute hour day-of-month month day-of-week, e.g. "0 2 * * *".',
    );
    expect(r.json.error.fields).toEqual({ cron: 'the minute field "61" is out of range (0-59)' });
    const after = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schedules');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it("GET /api/schedules/preview with cron '61 * * * *' -> 400 INVALID_CRON naming the minute field", async () => {
    const r = await call('GET', `/api/schedules/preview?cron=${encodeURIComponent('61 * * * *')}&timezone=UTC`, { cookie: cookies.viewer });
    expectErrorBody(r, 400, 'INVALID_CRON');
    expect(r.json.error.message).toMatch(/minute field "61"/);
  });

  it('POST /api/targets without a host -> 400 VALIDATION with fields.host only, and no target is made', async () => {
    const { host: _host, ...body } = targetBody('nohost');
    const r = await call('POST', '/api/targets', { cookie: cookies.admin, body });
    expectErrorBody(r, 400, 'VALIDATION', undefined, 'Correct the fields named above and send again.');
    expect(Object.keys(r.json.error.fields)).toEqual(['host']);
    expect(r.json.error.message).toMatch(/^The request body is not valid: host: /);
    const { rows } = await db.query('SELECT 1 FROM targets WHERE name = $1', [body.name]);
    expect(rows).toHaveLength(0);
  });

  it("POST /api/targets with an empty host -> 400 VALIDATION, fields.host 'is required'", async () => {
    const r = await call('POST', '/api/targets', { cookie: cookies.admin, body: { ...targetBody('emptyhost'), host: '' } });
    expectErrorBody(r, 400, 'VALIDATION');
    expect(r.json.error.fields).toEqual({ host: 'is required' });
  });

  it('POST /api/restores replacing production: an operator gets 403 FORBIDDEN; an admin with a wrong typed name 400 VALIDATION (fields.confirm); no job either way', async () => {
    const before = (await db.query('SELECT count(*)::int AS n FROM jobs WHERE kind = $1', ['restore'])).rows[0].n as number;
    const body = { backupId: String(backupId), destination: { mode: 'replace', method: 'swap' } };
    const op = await call('POST', '/api/restores', { cookie: cookies.operator, body: { ...body, confirm: appDatabase } });
    expect(op.status, op.text).toBe(403);
    expect(op.json.error.code).toBe('FORBIDDEN');
    const wrong = await call('POST', '/api/restores', { cookie: cookies.admin, body: { ...body, confirm: 'not-the-name' } });
    expect(wrong.status, wrong.text).toBe(400);
    expect(wrong.json.error.code).toBe('VALIDATION');
    expect(wrong.json.error.fields).toEqual({ confirm: 'does not match the database name' });
    expect((await db.query('SELECT count(*)::int AS n FROM jobs WHERE kind = $1', ['restore'])).rows[0].n).toBe(before);
  });

  it('GET /api/backups/:id with a malformed id -> 400 VALIDATION; an unknown id -> 404 NOT_FOUND', async () => {
    const bad = await call('GET', '/api/backups/not-a-number', { cookie: cookies.viewer });
    expectErrorBody(bad, 400, 'VALIDATION');
    expect(bad.json.error.fields).toEqual({ id: 'must be a backup id' });
    const unknown = await call('GET', '/api/backups/999999999', { cookie: cookies.viewer });
    expectErrorBody(unknown, 404, 'NOT_FOUND', 'There is no backup 999999999.');
  });

  it('GET /api/jobs/:id for an unknown id -> 404 NOT_FOUND', async () => {
    const r = await call('GET', '/api/jobs/00000000-0000-4000-8000-000000000000', { cookie: cookies.viewer });
    expectErrorBody(r, 404, 'NOT_FOUND', 'There is no job 00000000-0000-4000-8000-000000000000.');
  });
});
