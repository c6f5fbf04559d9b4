// "Base backup now" on the target page, in Chromium against the built console and a real worker: an operator
// starts one and follows it to its job, which succeeds with a verified base row; two at once give one job and
// BASE_BACKUP_ALREADY_RUNNING; a viewer sees no button and the API answers 403; a base backup is refused as a
// database restore's source.
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiCall, launchBrowser, signInCookie, signInPage } from '../helpers/browser';
import { e2eUsers, type E2eRole } from '../helpers/e2e-users';

const base = inject('baseUrl');
const databaseUrl = inject('databaseUrl');
const run = `${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;

let browser: Browser;
let db: pg.Client;
const contexts: BrowserContext[] = [];
const cookies: Partial<Record<E2eRole, string>> = {};
let targetId: string;

async function cookie(role: E2eRole) {
  cookies[role] ??= await signInCookie(base, e2eUsers[role].email, e2eUsers[role].password);
  return cookies[role]!;
}

async function pageAs(role: E2eRole): Promise<Page> {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await signInPage(page, base, e2eUsers[role].email, e2eUsers[role].password);
  return page;
}

async function jobEnd(id: string, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ status: string; error_code: string | null; error_message: string | null; result: any }>('SELECT status, error_code, error_message, result FROM jobs WHERE id = $1', [id]);
    if (rows[0] && !['queued', 'running'].includes(rows[0].status)) return rows[0];
    if (Date.now() > deadline) throw new Error(`job ${id} still ${rows[0]?.status ?? 'missing'} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  browser = await launchBrowser();
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  // The console's own cluster as the target: PostgreSQL's defaults allow base backups (wal_level replica,
  // max_wal_senders 10) and the harness superuser may replicate.
  const r = await apiCall(base, await cookie('admin'), 'POST', '/api/targets', {
    name: `base-${run}`,
    host: '127.0.0.1',
    port: Number(new URL(databaseUrl).port),
    dbUser: 'postgres',
    password: null,
    sslMode: 'disable',
    database: null,
    keyTables: [],
  });
  expect(r.status, r.text).toBe(200);
  targetId = r.json.target.id;
  await jobEnd(r.json.testJob.id);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await db?.end();
});

describe('base backup from the target page', () => {
  it('operator presses "Base backup now", follows the link to its job, which succeeds with a verified base row', { timeout: 120_000 }, async () => {
    const page = await pageAs('operator');
    await page.goto(`/targets/${targetId}`);
    await page.getByRole('button', { name: 'Base backup now' }).click();
    const started = page.getByRole('status').filter({ hasText: 'Base backup started.' });
    await started.waitFor();
    await started.getByRole('link', { name: 'Watch its progress' }).click();
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    const jobId = page.url().split('/').pop()!;
    await page.getByRole('heading', { name: 'Job: base-backup' }).waitFor();
    const job = await jobEnd(jobId);
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
    expect(job.result.verification.ok).toBe(true);
    expect(job.result.folder).toMatch(new RegExp(`^base-${run}/_base/\\d{8}T\\d{9}Z-base-${jobId.slice(0, 8)}$`));
    const { rows } = await db.query('SELECT backup_type, status, start_lsn, stop_lsn, timeline_id, verification FROM backup_log WHERE job_id = $1', [jobId]);
    expect(rows).toEqual([{ backup_type: 'base', status: 'succeeded', start_lsn: job.result.startLsn, stop_lsn: job.result.stopLsn, timeline_id: 1, verification: job.result.verification }]);

    // A base backup is no source for a database restore: refused with what to pick instead.
    const { rows: [b] } = await db.query<{ id: string }>('SELECT id::text FROM backup_log WHERE job_id = $1', [jobId]);
    const restore = await apiCall(base, await cookie('operator'), 'POST', '/api/restores', { backupId: b!.id, destination: { mode: 'drill' } });
    expect(restore.status, restore.text).toBe(409);
    expect(restore.json.error.code).toBe('BACKUP_UNUSABLE');
  });

  it('two presses at once: one job, the other answered 409 BASE_BACKUP_ALREADY_RUNNING naming it', { timeout: 120_000 }, async () => {
    const op = await cookie('operator');
    const pair = await Promise.all([1, 2].map(() => apiCall(base, op, 'POST', `/api/targets/${targetId}/base-backup`, {})));
    const ok = pair.filter((r) => r.status === 200);
    const refused = pair.filter((r) => r.status === 409);
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.json.error).toMatchObject({ code: 'BASE_BACKUP_ALREADY_RUNNING', fields: { jobId: ok[0]!.json.job.id } });
    expect((await jobEnd(ok[0]!.json.job.id)).status).toBe('succeeded');
  });

  it('a bad compression choice is refused naming the field', async () => {
    const r = await apiCall(base, await cookie('operator'), 'POST', `/api/targets/${targetId}/base-backup`, { compression: 'brotli' });
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.code).toBe('VALIDATION');
    expect(r.text).toMatch(/compression/);
  });

  it('viewer sees no "Base backup now", and the API answers 403 FORBIDDEN', async () => {
    const page = await pageAs('viewer');
    await page.goto(`/targets/${targetId}`);
    await page.getByRole('heading', { name: `base-${run}` }).waitFor();
    expect(await page.getByRole('button', { name: 'Base backup now' }).count()).toBe(0);
    const r = await apiCall(base, await cookie('viewer'), 'POST', `/api/targets/${targetId}/base-backup`, {});
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('FORBIDDEN');
  });
});
