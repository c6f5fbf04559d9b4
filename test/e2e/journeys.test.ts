// User journeys in Chromium (one browser, a fresh context each): navigation per role, overview, ping, 403 pages,
// sign-in redirects and errors, user admin (create, disable, last admin), sign-in throttling, and "back up now"
// (live job, history, trend, detail, download, viewer limits, one backup at a time).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, signInCookie, signInPage } from '../helpers/browser';
import { e2eUsers, type E2eRole } from '../helpers/e2e-users';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shots = join(root, 'test-results/screenshots');
const base = inject('baseUrl');
const databaseUrl = inject('databaseUrl');
const run = `${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
type Json = any;

let browser: Browser;
let db: pg.Client;
const contexts: BrowserContext[] = [];
let ipCounter = 0;
const ipPrefix = `${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;

/** A private address unique to this run, so per-address throttling never touches other tests. */
function uniqueIp(): string {
  ipCounter += 1;
  return `10.${ipPrefix}.${ipCounter}`;
}

async function newPage(opts: { ip?: string; timezoneId?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL: base,
    viewport: { width: 1280, height: 900 },
    ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}),
    ...(opts.ip ? { extraHTTPHeaders: { 'x-forwarded-for': opts.ip } } : {}),
  });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return { context, page };
}

async function signedInPage(role: E2eRole) {
  const p = await newPage();
  await signInPage(p.page, base, e2eUsers[role].email, e2eUsers[role].password);
  return p;
}

async function api(method: string, path: string, cookie: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { cookie, origin: base, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

async function createUserViaApi(adminCookie: string, role: E2eRole, tag: string) {
  const email = `${tag}-${run}@e2e.test`;
  const password = `pw-${tag}-${run}`.padEnd(16, 'x');
  const r = await api('POST', '/api/users', adminCookie, { email, name: `Journey ${tag}`, role, password });
  expect(r.status, r.text).toBe(200);
  return { id: r.json.user.id as string, email, password };
}

/** One POST to next-auth's credentials callback, as signInCookie does, from the given address. */
async function attemptSignIn(email: string, password: string, ip: string) {
  const csrfRes = await fetch(`${base}/api/auth/csrf`, { headers: { 'x-forwarded-for': ip } });
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const cookie = csrfRes.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const res = await fetch(`${base}/api/auth/callback/credentials`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: base, 'x-forwarded-for': ip },
    body: new URLSearchParams({ csrfToken, email, password, json: 'true' }),
  });
  const text = await res.text();
  let target = res.headers.get('location') ?? '';
  try {
    target = (JSON.parse(text) as { url?: string }).url ?? target;
  } catch {
    // a redirect without a body
  }
  const error = target ? new URL(target, base).searchParams.get('error') : null;
  const signedIn = res.headers.getSetCookie().some((c) => c.startsWith('next-auth.session-token='));
  return { status: res.status, error, signedIn };
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await launchBrowser();
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await db?.end();
});

describe('navigation per role', () => {
  const expected: Record<E2eRole, string[]> = {
    viewer: ['Overview', 'Targets', 'Backups', 'Jobs'],
    operator: ['Overview', 'Targets', 'Backups', 'Restore', 'Recover rows', 'Jobs'],
    admin: ['Overview', 'Targets', 'Backups', 'Restore', 'Recover rows', 'Jobs', 'Audit log', 'Users', 'Settings'],
  };
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    it(`${role} sees exactly ${expected[role].join(', ')} and their role`, async () => {
      const { page } = await signedInPage(role);
      const nav = page.locator('nav[aria-label=Main]');
      await nav.waitFor();
      const links = (await nav.locator('a').allTextContents()).map((t) => t.trim());
      expect(links).toEqual(expected[role]);
      expect((await page.locator('[data-testid=current-role]').textContent())?.trim()).toBe(role);
    });
  }
});

describe('overview', () => {
  it('shows the worker online with its host and version, and the empty targets state with "Add a target" (admin)', async () => {
    const { rows } = await db.query<{ host: string; version: string }>(
      `SELECT host, version FROM workers WHERE stopped_at IS NULL ORDER BY last_seen_at DESC LIMIT 1`,
    );
    expect(rows.length, 'the e2e setup starts a worker; it should have registered').toBe(1);
    // The empty state needs no targets: every file that makes one deletes it again (this file's own "back up now"
    // journey runs after this test). A leftover is named here rather than failing on the page.
    const left = await db.query<{ name: string }>('SELECT name FROM targets ORDER BY name');
    expect(left.rows.map((r) => r.name), 'targets left behind by another test file').toEqual([]);
    const { page } = await signedInPage('admin');
    const status = page.locator('[data-testid=worker-status][data-online=true]');
    await status.waitFor();
    const text = (await status.textContent()) ?? '';
    expect(text).toContain('Worker online');
    expect(text).toContain(rows[0]!.host);
    expect(text).toContain(`version ${rows[0]!.version}`);
    const empty = page.locator('[data-testid=targets-empty]');
    await empty.waitFor();
    expect(await empty.textContent()).toContain('No targets yet.');
    const add = empty.getByRole('link', { name: 'Add a target' });
    expect(await add.count()).toBe(1);
    expect(await add.getAttribute('href')).toBe('/targets');
    await page.screenshot({ path: join(shots, 'overview-admin.png'), fullPage: true });
  });
});

describe('operator runs the ping job', () => {
  it('pings the worker, sees pong, opens the job with its log, and finds it in /jobs', async () => {
    const { page } = await signedInPage('operator');
    await page.locator('[data-testid=worker-status]').waitFor();
    await page.getByRole('button', { name: 'Ping the worker' }).click();
    await page.locator('[data-testid=job-live][data-status=succeeded]').waitFor({ timeout: 45_000 });
    expect(await page.locator('[data-testid=job-result]').textContent()).toContain('pong');
    await page.getByRole('link', { name: 'Open the job with its log' }).click();
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    const jobId = new URL(page.url()).pathname.split('/').pop()!;
    await page.locator('[data-testid=job-log]', { hasText: 'step: waiting' }).waitFor();
    expect(await page.locator('[data-testid=job-live]').getAttribute('data-status')).toBe('succeeded');
    await page.goto('/jobs');
    await page.locator(`a[href="/jobs/${jobId}"]`).waitFor();
    // The row names the operator who started it.
    const row = page.locator('tr', { has: page.locator(`a[href="/jobs/${jobId}"]`) });
    expect(await row.textContent()).toContain(e2eUsers.operator.email);
  });
});

describe('viewer limits', () => {
  it('has no ping button; /users and /audit answer the 403 page; POST /api/jobs/ping answers 403', async () => {
    const { page } = await signedInPage('viewer');
    await page.locator('[data-testid=worker-status]').waitFor();
    await page.getByText('Recent jobs').waitFor();
    expect(await page.getByRole('button', { name: 'Ping the worker' }).count()).toBe(0);
    for (const path of ['/users', '/audit']) {
      const res = await page.goto(path);
      expect(res?.status(), `${path} HTTP status`).toBe(403);
      expect(await page.locator('body').textContent()).toContain('Not allowed');
      expect(new URL(page.url()).pathname).toBe(path);
    }
    const r = await page.evaluate(async () => {
      const res = await fetch('/api/jobs/ping', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'viewer try', seconds: 0 }),
      });
      return { status: res.status, body: await res.json() };
    });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN');
  });
});

describe('back up now', () => {
  const journeyDb = 'e2e_journey';
  const keyTable = 'public.orders';
  const targetName = `journey-${run}`;
  let targetId = '';
  let adminCookie = '';
  let operatorCookie = '';

  /** A URL on the e2e cluster for another database. */
  function clusterUrl(database: string) {
    const u = new URL(databaseUrl);
    u.pathname = `/${database}`;
    return u.toString();
  }

  async function waitForJobEnd(id: string, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await db.query<{ status: string; error_code: string | null; error_message: string | null }>(
        'SELECT status, error_code, error_message FROM jobs WHERE id = $1',
        [id],
      );
      if (rows[0] && !['queued', 'running'].includes(rows[0].status)) return rows[0];
      if (Date.now() > deadline) throw new Error(`job ${id} still ${rows[0]?.status ?? 'missing'} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function waitForTargetIdle(timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await db.query(`SELECT 1 FROM jobs WHERE target_id = $1 AND status IN ('queued', 'running')`, [targetId]);
      if (rows.length === 0) return;
      if (Date.now() > deadline) throw new Error(`target ${targetName} still has active jobs after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  beforeAll(async () => {
    adminCookie = await signInCookie(base, e2eUsers.admin.email, e2eUsers.admin.password);
    operatorCookie = await signInCookie(base, e2eUsers.operator.email, e2eUsers.operator.password);
    // An application-like database on the e2e cluster: customers and 1 000 orders with a foreign key and an index.
    const server = new pg.Client({ connectionString: clusterUrl('postgres') });
    await server.connect();
    await server.query(`DROP DATABASE IF EXISTS ${journeyDb}`);
    await server.query(`CREATE DATABASE ${journeyDb}`);
    await server.end();
    const app = new pg.Client({ connectionString: clusterUrl(journeyDb) });
    await app.connect();
    await app.query(`
      CREATE TABLE public.customers (id int PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL);
      CREATE TABLE public.orders (
        id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES public.customers(id),
        placed_at timestamptz NOT NULL, total_cents bigint NOT NULL, items jsonb NOT NULL);
      CREATE INDEX orders_customer_idx ON public.orders(customer_id);
      INSERT INTO public.customers SELECT i, 'customer' || i || '@journey.example', timestamptz '2026-01-01 00:00+00' + i * interval '1 hour'
        FROM generate_series(1, 100) i;
      INSERT INTO public.orders SELECT i, 1 + i % 100, timestamptz '2026-02-01 00:00+00' + i * interval '7 minutes', (i * 137) % 100000,
        jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (i % 50), 'qty', 1 + i % 4))
        FROM generate_series(1, 1000) i;`);
    await app.end();

    const r = await api('POST', '/api/targets', adminCookie, {
      name: targetName,
      host: '127.0.0.1',
      port: Number(new URL(databaseUrl).port),
      dbUser: 'postgres',
      password: null,
      sslMode: 'disable',
      database: journeyDb,
      keyTables: [keyTable],
    });
    expect(r.status, r.text).toBe(200);
    targetId = r.json.target.id;
    const test = await waitForJobEnd(r.json.testJob.id);
    expect(test.status, `connection test: ${test.error_code} ${test.error_message}`).toBe('succeeded');
  }, 60_000);

  afterAll(async () => {
    // Whatever happened above, the target goes again so the overview's empty state holds for the next run and file.
    if (!targetId) return;
    const { rows } = await db.query('SELECT 1 FROM targets WHERE id = $1', [targetId]);
    if (rows.length === 0) return;
    for (const { id } of (await db.query<{ id: string }>(`SELECT id FROM jobs WHERE target_id = $1 AND status IN ('queued', 'running')`, [targetId])).rows) {
      await api('POST', `/api/jobs/${id}/cancel`, operatorCookie);
    }
    await waitForTargetIdle();
    const del = await api('DELETE', `/api/targets/${targetId}`, adminCookie);
    expect(del.status, del.text).toBe(200);
  }, 90_000);

  /** The backup the operator makes in the first test; the later tests look at it. */
  const made = { jobId: '', backupId: '', sha: '' };
  function needBackup() {
    expect(made.backupId, 'needs the backup made by "operator presses Back up now ..." above').not.toBe('');
  }
  const backupJobCount = async () =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE target_id = $1 AND kind = 'backup'`, [targetId])).rows[0]!.n;
  /** Waits for the backup page to render; the generic error page fails at once with what it says. */
  async function backupPageShown(p: Page) {
    const heading = p.getByRole('heading', { name: `Backup #${made.backupId}` });
    const broken = p.getByText('This page could not be shown');
    await heading.or(broken).first().waitFor();
    expect(await broken.count(), `/backups/${made.backupId} rendered the error page: ${await p.locator('body').innerText()}`).toBe(0);
  }
  const shownSha = async (p: Page) => (await p.locator('dt', { hasText: /^SHA-256$/ }).locator('xpath=following-sibling::dd[1]').textContent())?.trim();

  it('operator presses "Back up now": a second press says one is already running (one job), then the live card, history and trend show the success', { timeout: 120_000 }, async () => {
    const { page } = await signedInPage('operator');
    await page.goto(`/targets/${targetId}`);
    await page.getByRole('heading', { name: targetName }).waitFor();
    const backUp = page.getByRole('button', { name: 'Back up now' });
    expect(await backUp.count()).toBe(1);
    // A lock on the key table holds the backup at its first step, so "already running" is certain, not a race.
    const locker = new pg.Client({ connectionString: clusterUrl(journeyDb) });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${keyTable} IN ACCESS EXCLUSIVE MODE`);
      await backUp.click();
      const live = page.locator('[data-testid=job-live]');
      await page.locator('[data-testid=job-live][data-status=running]').waitFor({ timeout: 30_000 });
      await live.getByText(`${journeyDb}: counting key tables`, { exact: true }).and(live.locator('strong')).waitFor();
      const jobs = await db.query<{ id: string }>(`SELECT id FROM jobs WHERE target_id = $1 AND kind = 'backup'`, [targetId]);
      expect(jobs.rows).toHaveLength(1);
      made.jobId = jobs.rows[0]!.id;

      // The second press: a message with a link to the running job, and no second job.
      await backUp.click();
      const already = page.getByRole('status').filter({ hasText: 'already running' });
      await already.waitFor();
      expect((await already.textContent())?.trim()).toBe('A backup of this target is already running. Watch it');
      expect(await already.getByRole('link', { name: 'Watch it' }).getAttribute('href')).toBe(`/jobs/${made.jobId}`);
      // The same through the API, with the running job named.
      const again = await api('POST', `/api/targets/${targetId}/backup`, operatorCookie);
      expect(again.status, again.text).toBe(409);
      expect(again.json.error).toEqual({
        code: 'BACKUP_ALREADY_RUNNING',
        message: `A backup of "${targetName}" is already running.`,
        hint: 'Wait for the running backup to finish, or cancel it.',
        fields: { jobId: made.jobId },
      });
      expect(await backupJobCount()).toBe(1);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }

    // With the lock gone the live card ends in "succeeded"; history and trend follow without a reload.
    await page.locator('[data-testid=job-live][data-status=succeeded]').waitFor({ timeout: 60_000 });
    const { rows } = await db.query<{ id: string; checksum_sha256: string; key_table_counts: Record<string, number>; status: string; database_name: string }>(
      `SELECT id::text, checksum_sha256, key_table_counts, status, database_name FROM backup_log WHERE job_id = $1`,
      [made.jobId],
    );
    expect(rows).toHaveLength(1);
    const b = rows[0]!;
    expect(b).toMatchObject({ status: 'succeeded', database_name: journeyDb, key_table_counts: { [keyTable]: 1000 } });
    expect(b.checksum_sha256).toMatch(/^[0-9a-f]{64}$/);
    made.backupId = b.id;
    made.sha = b.checksum_sha256;
    const row = page.locator(`[data-testid=backup-table] tr[data-backup-id="${b.id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await expect.poll(async () => (await row.locator('td').first().textContent())?.trim(), { timeout: 15_000 }).toBe('succeeded');
    expect(await row.textContent()).toContain(journeyDb);
    const chart = page.locator('[data-testid=trend-chart]');
    await chart.waitFor({ timeout: 25_000 });
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: join(shots, 'target.png'), fullPage: true });
    // The "already running" note was true when shown; once that backup has ended it must not stay beside "succeeded".
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'already running' }).count(), {
        timeout: 5_000,
        message: 'the "A backup of this target is already running" note is still shown after the backup succeeded',
      })
      .toBe(0);
  });

  it('/backups lists the backup with its target (screenshot)', async () => {
    needBackup();
    const { page } = await signedInPage('viewer');
    await page.goto('/backups');
    const listed = page.locator(`[data-testid=backup-table] tr[data-backup-id="${made.backupId}"]`);
    await listed.waitFor();
    expect(await listed.textContent()).toContain(targetName);
    expect((await listed.locator('td').first().textContent())?.trim()).toBe('succeeded');
    await page.screenshot({ path: join(shots, 'backups.png'), fullPage: true });
  });

  it('/backups with From and Until both set to the day of the backup still lists it (Until includes that day)', async () => {
    needBackup();
    const { rows } = await db.query<{ day: string }>(`SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM backup_log WHERE id = $1`, [made.backupId]);
    const day = rows[0]!.day;
    // The browser runs in UTC here, so "that day" is the same day for the page and for the row.
    const { page } = await newPage({ timezoneId: 'UTC' });
    await signInPage(page, base, e2eUsers.viewer.email, e2eUsers.viewer.password);
    await page.goto('/backups');
    const listed = page.locator(`[data-testid=backup-table] tr[data-backup-id="${made.backupId}"]`);
    await listed.waitFor();
    await page.getByLabel('From').fill(day);
    await page.getByLabel('Until').fill(day);
    await expect
      .poll(async () => (await page.locator('[data-testid=backup-table]').count()) + (await page.getByText('No backups match.').count()), { timeout: 10_000 })
      .toBeGreaterThan(0);
    await expect
      .poll(() => listed.count(), { timeout: 10_000, message: `a backup made on ${day} is missing from From ${day} Until ${day}` })
      .toBe(1);
  });

  it("the backup's page shows its SHA-256 and the key table's row count; only an admin gets Download, and the file matches the SHA-256", async () => {
    needBackup();
    // The operator opens it from the target's history.
    const { page } = await signedInPage('operator');
    await page.goto(`/targets/${targetId}`);
    await page.locator(`[data-testid=backup-table] tr[data-backup-id="${made.backupId}"]`).getByRole('link').first().click();
    await page.waitForURL(`${base}/backups/${made.backupId}`);
    await backupPageShown(page);
    expect(await shownSha(page)).toBe(made.sha);
    const keyRow = page.locator('tr', { has: page.locator('td', { hasText: new RegExp(`^${keyTable.replace('.', '\\.')}$`) }) });
    expect((await keyRow.locator('td').nth(1).textContent())?.replace(/\D/g, '')).toBe('1000');
    expect(await page.getByRole('link', { name: 'Download' }).count()).toBe(0);

    // The admin downloads the file from the same page: its SHA-256 is the one shown.
    const { page: admin } = await signedInPage('admin');
    await admin.goto(`/backups/${made.backupId}`);
    await backupPageShown(admin);
    const sha = await shownSha(admin);
    expect(sha).toBe(made.sha);
    await admin.screenshot({ path: join(shots, 'backup.png'), fullPage: true });
    const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('link', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`-${journeyDb}-[0-9a-f]{8}\\.dump(\\.zst)?$`));
    expect(createHash('sha256').update(readFileSync(await download.path())).digest('hex')).toBe(sha);
  });

  it('the stored file has its manifest beside it, and restores into an empty database with the same rows (counts and checksums)', { timeout: 60_000 }, async () => {
    needBackup();
    // On disk in the default storage: the artifact and a manifest that describes it without the catalog.
    const { rows } = await db.query<{ backup_file: string }>('SELECT backup_file FROM backup_log WHERE id = $1', [made.backupId]);
    const dataDir = inject('consoleEnv').LIFEBOAT_DATA_DIR;
    expect(dataDir, 'the e2e setup gives the console a data folder').toBeTruthy();
    const stored = join(dataDir!, 'backups', rows[0]!.backup_file);
    expect(createHash('sha256').update(readFileSync(stored)).digest('hex')).toBe(made.sha);
    const manifest = JSON.parse(readFileSync(`${stored}.manifest.json`, 'utf8'));
    expect(manifest).toMatchObject({ sha256: made.sha, database: journeyDb, keyTableCounts: { [keyTable]: 1000 } });

    // What an admin downloads restores with the stock tools (zstd, then pg_restore) into an empty database.
    const res = await fetch(`${base}/api/backups/${made.backupId}/download`, { headers: { cookie: adminCookie } });
    expect(res.status).toBe(200);
    const file = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(file).digest('hex')).toBe(made.sha);
    const zstdMagic = file.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
    const archive = zstdMagic ? execFileSync('zstd', ['-d', '-c'], { input: file, maxBuffer: 64 << 20 }) : file;
    expect(archive.subarray(0, 5).toString()).toBe('PGDMP'); // pg_dump's custom format
    const restored = `${journeyDb}_restored`;
    const server = new pg.Client({ connectionString: clusterUrl('postgres') });
    await server.connect();
    await server.query(`DROP DATABASE IF EXISTS ${restored}`);
    await server.query(`CREATE DATABASE ${restored}`);
    try {
      const u = new URL(databaseUrl);
      execFileSync('pg_restore', ['--exit-on-error', '--no-owner', '--dbname', restored], {
        input: archive,
        env: { ...process.env, PGHOST: u.hostname, PGPORT: u.port, PGUSER: decodeURIComponent(u.username) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const fingerprint = async (database: string) => {
        const c = new pg.Client({ connectionString: clusterUrl(database) });
        await c.connect();
        try {
          const out: Record<string, unknown> = {};
          for (const t of ['public.customers', 'public.orders']) {
            out[t] = (await c.query(`SELECT count(*)::int AS n, md5(string_agg(x::text, '|' ORDER BY x.id)) AS sum FROM ${t} x`)).rows[0];
          }
          out.indexes = (await c.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.indexname);
          out.foreignKeys = (await c.query(`SELECT conname FROM pg_constraint WHERE contype = 'f' ORDER BY 1`)).rows.map((r) => r.conname);
          return out;
        } finally {
          await c.end();
        }
      };
      const source = await fingerprint(journeyDb);
      expect(source['public.orders']).toMatchObject({ n: 1000 });
      expect(await fingerprint(restored)).toEqual(source);
    } finally {
      await server.query(`DROP DATABASE IF EXISTS ${restored}`);
      await server.end();
    }
  });

  it('a backup whose removal retention began (a run that crashed after marking it) is labelled "being removed" in the list and on its page, with no Restore or Download; its download answers 409 BACKUP_UNUSABLE', { timeout: 60_000 }, async () => {
    needBackup();
    // What retention does before its first object goes, and all a crashed run leaves behind.
    await db.query(`UPDATE backup_log SET deleting_on = 'e2e-crashed-host' WHERE id = $1`, [made.backupId]);
    try {
      const { page } = await signedInPage('viewer');
      await page.goto('/backups');
      const listed = page.locator(`[data-testid=backup-table] tr[data-backup-id="${made.backupId}"]`);
      await listed.waitFor();
      expect((await listed.locator('[data-testid=removal-label]').textContent())?.trim()).toBe('being removed');

      const { page: admin } = await signedInPage('admin');
      await admin.goto(`/backups/${made.backupId}`);
      await backupPageShown(admin);
      expect(await admin.locator('[data-testid=being-removed]').textContent()).toMatch(/being removed.*retention began removing it on e2e-crashed-host/);
      expect(await admin.getByRole('link', { name: 'Download' }).count()).toBe(0);
      expect(await admin.getByRole('link', { name: 'Restore this backup' }).count()).toBe(0);

      const list = await api('GET', `/api/backups?targetId=${targetId}`, adminCookie);
      expect(list.json.items.find((b: Json) => String(b.id) === made.backupId)?.removal, list.text).toBe('being-removed');
      const dl = await api('GET', `/api/backups/${made.backupId}/download`, adminCookie);
      expect(dl.status, dl.text).toBe(409);
      expect(dl.json.error).toMatchObject({ code: 'BACKUP_UNUSABLE', message: expect.stringContaining('is being removed by retention'), hint: 'Pick another backup that is still kept.' });
    } finally {
      await db.query('UPDATE backup_log SET deleting_on = NULL WHERE id = $1', [made.backupId]);
    }
  });

  it('two presses at the same moment (API) make one job: one 200, one 409 BACKUP_ALREADY_RUNNING naming it', { timeout: 90_000 }, async () => {
    await waitForTargetIdle();
    const before = await backupJobCount();
    const pair = await Promise.all([1, 2].map(() => api('POST', `/api/targets/${targetId}/backup`, operatorCookie)));
    expect(pair.map((r) => r.status).sort(), pair.map((r) => r.text).join('\n')).toEqual([200, 409]);
    const started = pair.find((r) => r.status === 200)!.json.job.id as string;
    const refused = pair.find((r) => r.status === 409)!;
    expect(refused.json.error).toMatchObject({ code: 'BACKUP_ALREADY_RUNNING', fields: { jobId: started } });
    expect(await backupJobCount()).toBe(before + 1);
    const end = await waitForJobEnd(started);
    expect(end.status, `${end.error_code} ${end.error_message}`).toBe('succeeded');
  });

  it('viewer sees the target without "Back up now", and POST /api/targets/:id/backup answers 403 FORBIDDEN', async () => {
    const { page } = await signedInPage('viewer');
    await page.goto(`/targets/${targetId}`);
    await page.getByRole('heading', { name: targetName }).waitFor();
    await page.getByRole('heading', { name: 'Backups of this target' }).waitFor();
    expect(await page.getByRole('button', { name: 'Back up now' }).count()).toBe(0);
    const before = await backupJobCount();
    const r = await page.evaluate(async (id) => {
      const res = await fetch(`/api/targets/${id}/backup`, { method: 'POST' });
      return { status: res.status, body: await res.json() };
    }, targetId);
    expect(r.status).toBe(403);
    expect(r.body.error).toEqual({ code: 'FORBIDDEN', message: 'This needs the operator role; you are viewer.', hint: 'Ask an admin for a role that allows this.' });
    expect(await backupJobCount()).toBe(before);
  });

  it('admin deletes the target: its backups are kept, and the target is gone', async () => {
    await waitForTargetIdle();
    const kept = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM backup_log WHERE target_id = $1 AND status = 'succeeded' AND deleted_at IS NULL`, [targetId])).rows[0]!.n;
    expect(kept).toBeGreaterThanOrEqual(1);
    const del = await api('DELETE', `/api/targets/${targetId}`, adminCookie);
    expect(del.status, del.text).toBe(200);
    expect(del.json).toEqual({ id: targetId, name: targetName, backupsKept: kept });
    const gone = await api('GET', `/api/targets/${targetId}`, adminCookie);
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe('NOT_FOUND');
    if (made.backupId) {
      const b = await api('GET', `/api/backups/${made.backupId}`, adminCookie);
      expect(b.status, b.text).toBe(200);
      expect(b.json.backup).toMatchObject({ status: 'succeeded', targetId: null, checksumSha256: made.sha });
    }
  });
});

describe('signed out', () => {
  it('/ redirects to /login', async () => {
    const { page } = await newPage();
    await page.goto('/');
    const url = new URL(page.url());
    expect(url.pathname).toBe('/login');
    expect(await page.locator('input[name=email]').count()).toBe(1);
  });

  it('/users redirects to /login, and signing in there brings an admin back to /users', async () => {
    const { page } = await newPage();
    await page.goto('/users');
    const url = new URL(page.url());
    expect(url.pathname).toBe('/login');
    expect(url.searchParams.get('callbackUrl')).toBe('/users');
    await page.fill('input[name=email]', e2eUsers.admin.email);
    await page.fill('input[name=password]', e2eUsers.admin.password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/users`);
    await page.locator('[data-testid=users-table]').waitFor();
  });
});

describe('sign-in errors', () => {
  it('a wrong password shows "Email or password is incorrect." and does not sign in', async () => {
    const adminCookie = await signInCookie(base, e2eUsers.admin.email, e2eUsers.admin.password);
    const user = await createUserViaApi(adminCookie, 'viewer', 'wrongpw');
    const { context, page } = await newPage({ ip: uniqueIp() });
    await page.goto('/login');
    await page.fill('input[name=email]', user.email);
    await page.fill('input[name=password]', 'definitely-not-the-password');
    await page.click('button[type=submit]');
    // Next's route announcer is an empty role=alert too: take the one with text.
    const alert = page.getByRole('alert').filter({ hasText: /\S/ });
    await alert.waitFor();
    expect((await alert.textContent())?.trim()).toBe('Email or password is incorrect.');
    expect(new URL(page.url()).pathname).toBe('/login');
    expect((await context.cookies()).some((c) => c.name === 'next-auth.session-token')).toBe(false);
    const session = await page.request.get('/api/auth/session');
    expect(await session.json()).toEqual({});
  });
});

describe('user administration', () => {
  it('admin creates a user in the form, the user signs in, admin disables them, and they are out at once', async () => {
    const { page: admin } = await signedInPage('admin');
    admin.on('dialog', (d) => void d.accept());
    await admin.goto('/users');
    await admin.locator('[data-testid=users-table]').waitFor();
    const email = `form-${run}@e2e.test`;
    const password = `form-password-${run}`;
    await admin.fill('input[name=name]', 'Form Made');
    await admin.fill('input[name=email]', email);
    await admin.selectOption('select[name=role]', 'operator');
    await admin.fill('input[name=password]', password);
    await admin.getByRole('button', { name: 'Add user' }).click();
    await admin.getByText(`${email} can now sign in as operator.`).waitFor();
    const row = admin.locator(`tr[data-email="${email}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('active');
    await admin.screenshot({ path: join(shots, 'users.png'), fullPage: true });

    // The new user signs in in a second context.
    const { context: userCtx, page: user } = await newPage();
    await signInPage(user, base, email, password);
    expect((await user.locator('[data-testid=current-role]').textContent())?.trim()).toBe('operator');
    const meBefore = await userCtx.request.get('/api/me');
    expect(meBefore.status()).toBe(200);

    // Admin disables them (accepting a browser confirm, or an in-page one if there is one).
    await row.getByRole('button', { name: 'Disable' }).click();
    const enable = row.getByRole('button', { name: 'Enable' });
    const inPageConfirm = admin
      .locator('[role=dialog], [role=alertdialog]')
      .getByRole('button', { name: /^(disable|confirm|yes)/i })
      .first();
    const deadline = Date.now() + 15_000;
    while (!(await enable.isVisible())) {
      if (await inPageConfirm.isVisible()) await inPageConfirm.click();
      if (Date.now() > deadline) throw new Error('the user row never showed "Enable" after Disable');
      await admin.waitForTimeout(200);
    }
    expect(await row.textContent()).toContain('disabled');
    const { rows } = await db.query<{ disabled: boolean }>('SELECT disabled FROM users WHERE email = $1', [email]);
    expect(rows[0]?.disabled).toBe(true);

    // Their next API request is refused and their next page load goes to sign-in.
    const me = await userCtx.request.get('/api/me');
    expect(me.status()).toBe(401);
    expect(((await me.json()) as Json).error.code).toBe('UNAUTHENTICATED');
    await user.goto('/');
    await user.waitForURL(/\/login(\?|$)/);
    expect(new URL(user.url()).pathname).toBe('/login');

    // And a disabled user cannot sign in again (generic message, no hint that the account exists).
    const again = await attemptSignIn(email, password, uniqueIp());
    expect(again.signedIn).toBe(false);
    expect(again.error).toBe('Email or password is incorrect.');
  });

  it('the last active admin cannot be demoted or disabled (409 LAST_ADMIN), in the API and in the UI', async () => {
    const adminCookie = await signInCookie(base, e2eUsers.admin.email, e2eUsers.admin.password);
    // With a second admin, demoting one of two is allowed.
    const second = await createUserViaApi(adminCookie, 'admin', 'second-admin');
    const demote = await api('PATCH', `/api/users/${second.id}`, adminCookie, { role: 'viewer' });
    expect(demote.status, demote.text).toBe(200);
    expect(demote.json.user.role).toBe('viewer');
    // Make the seeded admin the only active admin (other files may have created admins).
    const list = await api('GET', '/api/users', adminCookie);
    expect(list.status).toBe(200);
    for (const u of list.json.users as { id: string; email: string; role: string; disabled: boolean }[]) {
      if (u.role === 'admin' && !u.disabled && u.email !== e2eUsers.admin.email) {
        const r = await api('PATCH', `/api/users/${u.id}`, adminCookie, { role: 'viewer' });
        expect(r.status, r.text).toBe(200);
      }
    }
    const seeded = (list.json.users as { id: string; email: string }[]).find((u) => u.email === e2eUsers.admin.email)!;
    const lastMessage = `${e2eUsers.admin.email} is the last active admin; Lifeboat needs at least one.`;
    for (const body of [{ role: 'viewer' }, { role: 'operator' }, { disabled: true }]) {
      const r = await api('PATCH', `/api/users/${seeded.id}`, adminCookie, body);
      expect(r.status, `${JSON.stringify(body)}: ${r.text}`).toBe(409);
      expect(r.json.error).toEqual({ code: 'LAST_ADMIN', message: lastMessage, hint: 'Make another user admin first.' });
    }
    const me = await api('GET', '/api/me', adminCookie);
    expect(me.json.user.role).toBe('admin');

    // The UI shows the same error on the row and keeps the role.
    const { page } = await signedInPage('admin');
    await page.goto('/users');
    const select = page.getByLabel(`Role of ${e2eUsers.admin.email}`);
    await select.waitFor();
    // Demoting yourself asks first; say yes, and the server still refuses.
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.accept();
    });
    await select.selectOption('viewer');
    const row = page.locator(`tr[data-email="${e2eUsers.admin.email}"]`);
    const alert = row.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain(lastMessage);
    expect(await alert.textContent()).toContain('LAST_ADMIN');
    expect(asked).toEqual(['Remove your own admin role? You will lose access to this page.']);
    await expect.poll(() => select.inputValue()).toBe('admin');
  });
});

describe('sign-in throttling', () => {
  it('10 wrong passwords lock the account: the right password is then refused with a lock message', { timeout: 90_000 }, async () => {
    const adminCookie = await signInCookie(base, e2eUsers.admin.email, e2eUsers.admin.password);
    const user = await createUserViaApi(adminCookie, 'viewer', 'throttled');
    const ip = uniqueIp();
    const started = Date.now();
    for (let i = 1; i <= 10; i++) {
      const r = await attemptSignIn(user.email, `wrong-password-${i}`, ip);
      expect(r.signedIn, `attempt ${i}`).toBe(false);
      expect(r.error, `attempt ${i}`).toBe('Email or password is incorrect.');
    }
    // Failures 4..10 wait 250 ms doubling up to 4 s: at least 0.25+0.5+1+2+4+4 s in all.
    expect(Date.now() - started).toBeGreaterThanOrEqual(11_000);
    const right = await attemptSignIn(user.email, user.password, ip);
    expect(right.signedIn).toBe(false);
    expect(right.error).toMatch(/locked/);
    expect(right.error).toMatch(/^Too many failed sign-ins\. Sign-in is locked for 1[45] more minutes\.$/);
    const { rows } = await db.query<{ failures: number; future: boolean }>(
      `SELECT failures, locked_until > now() AS future FROM auth_throttle WHERE key = $1`,
      [`email:${user.email}`],
    );
    expect(rows).toHaveLength(1);
    // Attempts are counted before their password check, so the refused 11th is counted too.
    expect(rows[0]).toEqual({ failures: 11, future: true });
    // The address used is locked as well; another address still cannot get in to the locked account.
    const ipRow = await db.query<{ future: boolean }>(`SELECT locked_until > now() AS future FROM auth_throttle WHERE key = $1`, [`ip:${ip}`]);
    expect(ipRow.rows[0]?.future).toBe(true);
    const elsewhere = await attemptSignIn(user.email, user.password, uniqueIp());
    expect(elsewhere.signedIn).toBe(false);
    expect(elsewhere.error).toMatch(/locked/);
    // The sign-in page shows the lock message, not the generic one.
    const { page } = await newPage({ ip: uniqueIp() });
    await page.goto('/login');
    await page.fill('input[name=email]', user.email);
    await page.fill('input[name=password]', user.password);
    await page.click('button[type=submit]');
    const alert = page.getByRole('alert').filter({ hasText: /\S/ });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^Too many failed sign-ins\. Sign-in is locked for 1[45] more minutes\.$/);
    expect(new URL(page.url()).pathname).toBe('/login');
  });
});
