// The restore journey in Chromium: an admin walks the wizard from backup to result, typing production's name, and
// replaces production with a swap; a viewer sees drill results and cannot open the wizard or start a restore.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, signInCookie, signInPage } from '../helpers/browser';
import { e2eUsers } from '../helpers/e2e-users';

const shots = join(fileURLToPath(new URL('../../', import.meta.url)), 'test-results/screenshots');
const base = inject('baseUrl');
const databaseUrl = inject('databaseUrl');
const appDb = 'e2e_wizard';
let browser: Browser;
let db: pg.Client;
let adminCookie = '';
let targetId = '';

function clusterUrl(database: string) {
  const u = new URL(databaseUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function api(method: string, path: string, cookie: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { cookie, origin: base, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
}

async function waitJob(id: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query('SELECT status, error_message FROM jobs WHERE id = $1', [id]);
    if (rows[0] && !['queued', 'running'].includes(rows[0].status)) return rows[0] as { status: string; error_message: string | null };
    if (Date.now() > deadline) throw new Error(`job ${id} did not end`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const server = new pg.Client({ connectionString: clusterUrl('postgres') });
  await server.connect();
  await server.query(`DROP DATABASE IF EXISTS ${appDb}`);
  await server.query(`CREATE DATABASE ${appDb}`);
  await server.end();
  const app = new pg.Client({ connectionString: clusterUrl(appDb) });
  await app.connect();
  await app.query(`CREATE TABLE public.accounts (id int PRIMARY KEY, owner text NOT NULL);
    INSERT INTO public.accounts SELECT i, 'owner ' || i FROM generate_series(1, 300) i;`);
  await app.end();
  adminCookie = await signInCookie(base, e2eUsers.admin.email, e2eUsers.admin.password);
  const port = Number(new URL(databaseUrl).port);
  const t = await api('POST', '/api/targets', adminCookie, {
    name: `wizard-${Date.now()}`, host: '127.0.0.1', port, dbUser: 'postgres', password: null, sslMode: 'disable', database: appDb,
    keyTables: ['public.accounts'], checkStatements: ['SELECT count(*) FROM public.accounts'],
  });
  expect(t.status).toBe(200);
  targetId = t.json.target.id;
  await waitJob(t.json.testJob.id);
  const b = await api('POST', `/api/targets/${targetId}/backup`, adminCookie);
  expect((await waitJob(b.json.job.id)).status).toBe('succeeded');
  const d = await api('POST', `/api/targets/${targetId}/drill`, adminCookie);
  expect((await waitJob(d.json.job.id)).status).toBe('succeeded');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  if (targetId) {
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.query(`SELECT 1 FROM jobs WHERE target_id = $1 AND status IN ('queued','running')`, [targetId]);
      if (!rows.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await api('DELETE', `/api/targets/${targetId}`, adminCookie);
  }
  await db?.end();
});

describe('restore wizard', () => {
  it('an admin walks it from backup to result, types the name, and production is swapped with its rows back', async () => {
    // Production drifts after the backup: 50 rows gone.
    const app = new pg.Client({ connectionString: clusterUrl(appDb) });
    await app.connect();
    await app.query('DELETE FROM public.accounts WHERE id <= 50');
    await app.end();

    const context = await browser.newContext({ baseURL: base, viewport: { width: 1300, height: 900 } });
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await signInPage(page, base, e2eUsers.admin.email, e2eUsers.admin.password);
    await page.goto(`/restore?targetId=${targetId}`);
    await page.getByRole('button', { name: /Use the latest successful backup/ }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText(/^Replace production \(/).click();
    await page.getByRole('button', { name: 'Next' }).click();
    // Options: the archive's tables come from the preflight job.
    await expect.poll(() => page.getByText('public.accounts').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Next' }).click();
    const report = page.locator('[data-testid=preflight-report]');
    await report.waitFor({ timeout: 30_000 });
    expect(await report.getAttribute('data-ok')).toBe('true');
    await page.getByRole('button', { name: 'Next' }).click();
    // Confirm: the button stays disabled until the database name is typed exactly.
    const go = page.getByRole('button', { name: `Replace ${appDb}` });
    expect(await go.isDisabled()).toBe(true);
    await page.getByLabel('Type the database name to confirm').fill(`${appDb}x`);
    expect(await go.isDisabled()).toBe(true);
    await page.getByLabel('Type the database name to confirm').fill(appDb);
    await go.click();
    const result = page.locator('[data-testid=restore-result]');
    await result.waitFor({ timeout: 60_000 });
    expect(await result.getAttribute('data-checks-ok')).toBe('true');
    expect(await page.locator('[data-testid=downtime]').textContent()).toMatch(/Production outage: \d+\.\d\d s/);
    expect(await page.locator('[data-testid=check-table] tr[data-ok=true]').count()).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: join(shots, 'restore-result.png'), fullPage: true });
    const after = new pg.Client({ connectionString: clusterUrl(appDb) });
    await after.connect();
    expect(Number((await after.query('SELECT count(*) AS n FROM public.accounts')).rows[0].n)).toBe(300);
    await after.end();
    await context.close();
  });

  it('a restore on which no check could run says so in amber, with why, never "every check passed"', async () => {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 1300, height: 900 } });
    const page = await context.newPage();
    await signInPage(page, base, e2eUsers.admin.email, e2eUsers.admin.password);
    await page.goto(`/restore?targetId=${targetId}`);
    await page.getByRole('button', { name: /Use the latest successful backup/ }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('A new database on the same server').click();
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => page.getByText('public.accounts').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.getByLabel('What to restore').selectOption('schema');
    await page.getByRole('button', { name: 'Next' }).click();
    const report = page.locator('[data-testid=preflight-report]');
    await report.waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Start the restore' }).click();
    const result = page.locator('[data-testid=restore-result]');
    await result.waitFor({ timeout: 60_000 });
    const verdict = page.locator('[data-testid=check-verdict]');
    expect(await verdict.textContent()).toMatch(/^No checks ran/);
    expect(await verdict.getAttribute('class')).toContain('amber');
    expect(await result.textContent()).not.toContain('Every check passed');
    expect(await page.locator('[data-testid=checks-not-run]').textContent()).toContain('row count public.accounts: only the schema was restored');
    await page.screenshot({ path: join(shots, 'restore-no-checks.png'), fullPage: true });
    await context.close();
  });

  it('the picker says a verified backup was read back in full (every frame and data block), not only its TOC', async () => {
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    await signInPage(page, base, e2eUsers.admin.email, e2eUsers.admin.password);
    await page.goto(`/restore?targetId=${targetId}`);
    const picker = page.locator('[data-testid=pick-backup]');
    await picker.waitFor({ timeout: 15_000 });
    const badge = picker.locator('tbody tr').first().getByText('read back in full', { exact: true });
    await badge.waitFor();
    expect(await badge.getAttribute('title')).toBe('After it was stored, the whole archive was read back: every zstd frame decoded and every data block read through pg_restore.');
    expect(await picker.getByText('TOC read back').count()).toBe(0);
    await context.close();
  });

  it('an admin uploads a dump on the restore page; a worker checks it and it is offered as a backup', async () => {
    const { rows } = await db.query('SELECT backup_file, location FROM backup_log WHERE target_id = $1 AND status = $2 AND backup_type = $3 ORDER BY id LIMIT 1', [targetId, 'succeeded', 'logical']);
    const file = join(rows[0].location, rows[0].backup_file);
    const before = (await db.query("SELECT count(*)::int AS n FROM backup_log WHERE target_id = $1 AND backup_type = 'uploaded'", [targetId])).rows[0].n as number;
    const context = await browser.newContext({ baseURL: base, viewport: { width: 1300, height: 900 } });
    const page = await context.newPage();
    await signInPage(page, base, e2eUsers.admin.email, e2eUsers.admin.password);
    await page.goto(`/restore?targetId=${targetId}`);
    await page.getByRole('button', { name: 'Upload a dump file…' }).click();
    await page.locator('input[type=file]').setInputFiles(file);
    await page.getByRole('button', { name: 'Upload and check' }).click();
    await page.locator('[data-testid=job-live][data-status=succeeded]').waitFor({ timeout: 60_000 });
    await expect.poll(async () => (await db.query("SELECT count(*)::int AS n FROM backup_log WHERE target_id = $1 AND backup_type = 'uploaded'", [targetId])).rows[0].n, { timeout: 10_000 }).toBe(before + 1);
    // The picker lists it (uploaded backups are succeeded backups of the target).
    await expect.poll(() => page.locator('[data-testid=pick-backup] tbody tr').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: join(shots, 'upload.png'), fullPage: true });
    await context.close();
  });

  it('a viewer sees drill results on the target page and cannot open the wizard or start a restore', async () => {
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    await signInPage(page, base, e2eUsers.viewer.email, e2eUsers.viewer.password);
    await page.goto(`/targets/${targetId}`);
    const drills = page.locator('[data-testid=drills]');
    await drills.waitFor();
    await expect.poll(() => drills.getByText('succeeded').count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Run drill now' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Restore…' }).count()).toBe(0);
    const res = await page.goto('/restore');
    expect(res?.status()).toBe(403);
    const viewerCookie = await signInCookie(base, e2eUsers.viewer.email, e2eUsers.viewer.password);
    const backup = await db.query('SELECT id FROM backup_log WHERE target_id = $1 AND status = $2 LIMIT 1', [targetId, 'succeeded']);
    const r = await api('POST', '/api/restores', viewerCookie, { backupId: String(backup.rows[0].id), destination: { mode: 'new', targetId, database: 'viewer_copy' } });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('FORBIDDEN');
    await context.close();
  });
});
