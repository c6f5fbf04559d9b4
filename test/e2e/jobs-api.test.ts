// The job API as each role sees it, over HTTP against the built console: who may cancel a production restore, the
// point of no return, the paged log, and restore hooks' text and output kept to admins; then the job page itself.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, signInCookie, signInPage } from '../helpers/browser';
import { e2eUsers, type E2eRole } from '../helpers/e2e-users';

const base = inject('baseUrl');
const databaseUrl = inject('databaseUrl');
const cookies = {} as Record<E2eRole, string>;
const made: string[] = [];
let db: pg.Client;
let browser: Browser | undefined;

type Json = any;

async function call(method: 'GET' | 'POST', path: string, cookie: string) {
  const res = await fetch(`${base}${path}`, { method, headers: { cookie, ...(method === 'POST' ? { origin: base } : {}) } });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as Json, text };
}

/**
 * A job row as a worker would leave it; running ones belong to the live e2e worker (which never received them) and
 * expire late, so no sweep takes them meanwhile.
 */
async function jobRow(kind: string, status: string, payload: object, extra: Record<string, unknown> = {}): Promise<string> {
  const id = randomUUID();
  if (status === 'running') {
    const { rows } = await db.query<{ id: string }>('SELECT id FROM workers WHERE stopped_at IS NULL ORDER BY last_seen_at DESC LIMIT 1');
    extra = { worker_id: rows[0]!.id, ...extra };
  }
  const cols = Object.keys(extra);
  await db.query(
    `INSERT INTO jobs (id, kind, queue, status, payload, started_at, expires_at${cols.map((c) => `, ${c}`).join('')})
     VALUES ($1, $2, $3, $4, $5, now(), now() + interval '1 hour'${cols.map((_, i) => `, $${i + 6}`).join('')})`,
    [id, kind, `${kind}.e2e-nobody`, status, JSON.stringify(payload), ...Object.values(extra)],
  );
  made.push(id);
  return id;
}

const inPlace = { backupId: '1', destination: { mode: 'replace', method: 'in-place' }, jobs: 2, schemas: [], tables: [], section: 'all', runChecks: true };

beforeAll(async () => {
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  for (const role of ['viewer', 'operator', 'admin'] as const) cookies[role] = await signInCookie(base, e2eUsers[role].email, e2eUsers[role].password);
});

afterAll(async () => {
  await browser?.close();
  // Nothing this file made may look running to the files after it.
  if (made.length) await db.query(`UPDATE jobs SET status = 'failed', finished_at = now() WHERE id = ANY($1) AND status IN ('queued', 'running')`, [made]);
  await db.end();
});

describe('cancelling a production restore', () => {
  it("an operator's cancel -> 403 FORBIDDEN naming admin; the job is untouched; an admin's cancel after the point of no return -> 409 JOB_PAST_POINT_OF_NO_RETURN", async () => {
    const id = await jobRow('restore', 'running', inPlace);
    const refused = await call('POST', `/api/jobs/${id}/cancel`, cookies.operator);
    expect(refused.status, refused.text).toBe(403);
    expect(refused.json.error).toMatchObject({ code: 'FORBIDDEN', message: 'Only an admin may cancel this job (Restore into production): it needs the role that may start it; you are operator.' });
    expect((await db.query('SELECT status, cancel_requested FROM jobs WHERE id = $1', [id])).rows[0]).toEqual({ status: 'running', cancel_requested: false });
    expect((await db.query(`SELECT count(*)::int AS n FROM audit_log WHERE entity_id = $1`, [id])).rows[0].n).toBe(0);

    // The operator's view says why, instead of offering a button that fails.
    const asOperator = await call('GET', `/api/jobs/${id}`, cookies.operator);
    expect(asOperator.json.cancel).toMatchObject({ allowed: false, code: 'FORBIDDEN' });
    expect((await call('GET', `/api/jobs/${id}`, cookies.admin)).json.cancel).toEqual({ allowed: true, reason: null });

    await db.query('UPDATE jobs SET committed_at = now() WHERE id = $1', [id]);
    const late = await call('POST', `/api/jobs/${id}/cancel`, cookies.admin);
    expect(late.status, late.text).toBe(409);
    expect(late.json.error.code).toBe('JOB_PAST_POINT_OF_NO_RETURN');
    expect(late.json.error.message).toContain('finishes restoring from the same backup');
    expect(late.json.error.hint).toContain('finishes on its own');
    expect((await db.query('SELECT status, cancel_requested FROM jobs WHERE id = $1', [id])).rows[0]).toEqual({ status: 'running', cancel_requested: false });
    const asAdmin = await call('GET', `/api/jobs/${id}`, cookies.admin);
    expect(asAdmin.json.job.committedAt).toEqual(expect.any(String));
    expect(asAdmin.json.cancel).toMatchObject({ allowed: false, code: 'JOB_PAST_POINT_OF_NO_RETURN' });
  });
});

describe('the job log through the API', () => {
  let id: string;
  let ids: number[];
  beforeAll(async () => {
    id = await jobRow('ping', 'succeeded', { seconds: 0 });
    await db.query(`INSERT INTO job_logs (job_id, line) SELECT $1, 'line ' || g FROM generate_series(1, 5000) g ORDER BY g`, [id]);
    ids = (await db.query<{ id: string }>('SELECT id FROM job_logs WHERE job_id = $1 ORDER BY id', [id])).rows.map((r) => Number(r.id));
  });

  it('never cuts silently: the default page says how many lines follow, and paging returns every line once', async () => {
    const first = await call('GET', `/api/jobs/${id}`, cookies.viewer);
    expect(first.status).toBe(200);
    expect(first.json.logs).toHaveLength(1000);
    expect(first.json.log).toEqual({ total: 5000, earlier: 0, later: 4000 });
    const lines: string[] = [];
    let after = 0;
    for (let page = 0; page < 10; page++) {
      const r = await call('GET', `/api/jobs/${id}?afterLogId=${after}&logLimit=1500`, cookies.viewer);
      if (!r.json.logs.length) break;
      lines.push(...r.json.logs.map((l: { line: string }) => l.line));
      after = r.json.logs.at(-1).id;
      expect(r.json.log.later).toBe(5000 - lines.length);
    }
    expect(lines).toEqual(Array.from({ length: 5000 }, (_, i) => `line ${i + 1}`));
  });

  it('the tail and the lines before an id', async () => {
    const tail = await call('GET', `/api/jobs/${id}?logTail=1&logLimit=3`, cookies.viewer);
    expect(tail.json.logs.map((l: { line: string }) => l.line)).toEqual(['line 4998', 'line 4999', 'line 5000']);
    expect(tail.json.log).toEqual({ total: 5000, earlier: 4997, later: 0 });
    const before = await call('GET', `/api/jobs/${id}?logBefore=${ids[10]}&logLimit=5`, cookies.viewer);
    expect(before.json.logs.map((l: { line: string }) => l.line)).toEqual(['line 6', 'line 7', 'line 8', 'line 9', 'line 10']);
    expect(before.json.log).toEqual({ total: 5000, earlier: 5, later: 4990 });
  });

  it('refuses a page larger than 5000 lines with 400 VALIDATION naming logLimit', async () => {
    const r = await call('GET', `/api/jobs/${id}?logLimit=5001`, cookies.viewer);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('VALIDATION');
    expect(r.json.error.fields).toHaveProperty('logLimit');
  });
});

describe('restore hooks are admin-only', () => {
  const secret = `hook-secret-${Date.now()}`;
  let id: string;
  beforeAll(async () => {
    id = await jobRow('restore', 'failed', { ...inPlace, destination: { mode: 'replace', method: 'swap' } }, {
      result: JSON.stringify({ database: 'shop', hooks: { pre: { command: `/opt/${secret}.sh`, output: `${secret} said hello`, exitCode: 0 } } }),
      error_code: 'HOOK_FAILED',
      error_message: `The post-restore hook https://hooks.example/${secret} answered HTTP 500.`,
      error_detail: `${secret} stderr`,
    });
    await db.query(
      `INSERT INTO job_logs (job_id, line) VALUES ($1, 'step: running the pre-restore hook'), ($1, $2), ($1, $3)`,
      [id, `pre-restore hook: ${secret} said hello`, `failed: [HOOK_FAILED] The post-restore hook https://hooks.example/${secret} answered HTTP 500.`],
    );
  });

  it.each(['viewer', 'operator'] as const)('as %s: the job, its log and the job list carry no hook text or output', async (role) => {
    const one = await call('GET', `/api/jobs/${id}`, cookies[role]);
    expect(one.status).toBe(200);
    expect(one.text).not.toContain(secret);
    expect(one.json.job.result).toEqual({ database: 'shop' });
    expect(one.json.job.errorMessage).toBe('A restore hook failed; its text and output are shown to admins only.');
    expect(one.json.logs.map((l: { line: string }) => l.line)).toEqual([
      'step: running the pre-restore hook',
      'pre-restore hook: (shown to admins only)',
      'failed: [HOOK_FAILED] (shown to admins only)',
    ]);
    const list = await call('GET', '/api/jobs?kind=restore&limit=200', cookies[role]);
    expect(list.json.jobs.some((j: { id: string }) => j.id === id)).toBe(true);
    expect(list.text).not.toContain(secret);
  });

  it('as admin: the hooks, their output and the log lines are all there', async () => {
    const one = await call('GET', `/api/jobs/${id}`, cookies.admin);
    expect(one.json.job.result.hooks.pre).toEqual({ command: `/opt/${secret}.sh`, output: `${secret} said hello`, exitCode: 0 });
    expect(one.json.job.errorDetail).toBe(`${secret} stderr`);
    expect(one.json.logs.map((l: { line: string }) => l.line)).toContain(`pre-restore hook: ${secret} said hello`);
    expect((await call('GET', '/api/jobs?kind=restore&limit=200', cookies.admin)).text).toContain(secret);
  });
});

describe('the job page', () => {
  it('opens a long log on its newest lines and loads all on request; a restore past its point of no return shows why it cannot be cancelled', async () => {
    const long = await jobRow('ping', 'running', { seconds: 60 });
    await db.query(`INSERT INTO job_logs (job_id, line) SELECT $1, 'page line ' || g FROM generate_series(1, 3000) g ORDER BY g`, [long]);
    const committed = await jobRow('restore', 'running', inPlace, { committed_at: new Date() });
    const open = await jobRow('restore', 'running', inPlace);

    browser = await launchBrowser();
    const operator = await browser.newPage();
    await signInPage(operator, base, e2eUsers.operator.email, e2eUsers.operator.password);
    await operator.goto(`${base}/jobs/${long}`);
    await operator.getByTestId('job-log-count').filter({ hasText: 'showing 500 of 3000 lines' }).waitFor();
    expect(await operator.getByTestId('job-log').textContent()).toContain('page line 3000');
    expect(await operator.getByTestId('job-log').textContent()).not.toContain('page line 2500\n');
    await operator.getByRole('button', { name: 'Load all 3000' }).click();
    await operator.getByTestId('job-log-count').filter({ hasText: /^3000 lines$/ }).waitFor();
    expect(await operator.getByTestId('job-log').textContent()).toContain('page line 1\n');
    // A live job offers Cancel to an operator...
    expect(await operator.getByRole('button', { name: 'Cancel', exact: true }).count()).toBe(1);

    // ...but not on an admin's production restore: it says who may.
    await operator.goto(`${base}/jobs/${open}`);
    await operator.getByTestId('job-cancel-refused').waitFor();
    expect(await operator.getByTestId('job-cancel-refused').textContent()).toContain('Only an admin may cancel this job');
    expect(await operator.getByRole('button', { name: 'Cancel', exact: true }).count()).toBe(0);

    const admin = await browser.newPage();
    await signInPage(admin, base, e2eUsers.admin.email, e2eUsers.admin.password);
    await admin.goto(`${base}/jobs/${open}`);
    await admin.getByRole('button', { name: 'Cancel', exact: true }).waitFor();
    await admin.goto(`${base}/jobs/${committed}`);
    await admin.getByTestId('job-cancel-refused').waitFor();
    expect(await admin.getByTestId('job-cancel-refused').getAttribute('data-code')).toBe('JOB_PAST_POINT_OF_NO_RETURN');
    expect(await admin.getByTestId('job-cancel-refused').textContent()).toContain('finishes restoring from the same backup');
    expect(await admin.getByRole('button', { name: 'Cancel', exact: true }).count()).toBe(0);
  });
});

describe('running a failed job again', () => {
  let pair: { retryable: string; fixFirst: string } | undefined;

  it('the API offers it only when the failure is retryable and the person may start the job', async () => {
    const ended = { finished_at: new Date() };
    const retryable = await jobRow('ping', 'failed', { message: 'again', seconds: 0, fail: false }, { ...ended, error_code: 'PING_FAILED', error_message: 'The ping "again" was asked to fail.' });
    const fixFirst = await jobRow('backup', 'failed', { targetId: randomUUID() }, { ...ended, error_code: 'TARGET_AUTH_FAILED', error_message: 'pg_dump could not sign in to the target.' });

    expect((await call('GET', `/api/jobs/${retryable}`, cookies.operator)).json.runAgain).toEqual({ allowed: true, reason: null });
    expect((await call('GET', `/api/jobs/${retryable}`, cookies.viewer)).json.runAgain.allowed).toBe(false);
    const notRetryable = await call('GET', `/api/jobs/${fixFirst}`, cookies.admin);
    expect(notRetryable.json.runAgain.allowed).toBe(false);
    expect(notRetryable.json.runAgain.reason).toContain('TARGET_AUTH_FAILED');
    const refused = await call('POST', `/api/jobs/${fixFirst}/run-again`, cookies.admin);
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json.error.code).toBe('JOB_NOT_RETRYABLE');
    expect((await call('POST', `/api/jobs/${retryable}/run-again`, cookies.viewer)).status).toBe(403);
    pair = { retryable, fixFirst };
  });

  it('the job page offers the button for the retryable failure only, and it opens the new run', async () => {
    const { retryable, fixFirst } = pair!;
    browser ??= await launchBrowser();
    const page = await browser.newPage();
    await signInPage(page, base, e2eUsers.operator.email, e2eUsers.operator.password);
    await page.goto(`${base}/jobs/${fixFirst}`);
    await page.getByTestId('job-error').waitFor();
    expect(await page.getByTestId('job-run-again').count()).toBe(0);

    await page.goto(`${base}/jobs/${retryable}`);
    await page.getByTestId('job-run-again').click();
    await page.waitForURL((u) => /^\/jobs\/[0-9a-f-]{36}$/.test(u.pathname) && !u.pathname.endsWith(retryable));
    const again = new URL(page.url()).pathname.split('/').pop()!;
    made.push(again);
    const { rows } = await db.query('SELECT kind, payload FROM jobs WHERE id = $1', [again]);
    expect(rows[0]).toEqual({ kind: 'ping', payload: { message: 'again', seconds: 0, fail: false } });
    await page.locator('[data-testid="job-live"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
  }, 150_000);
});
