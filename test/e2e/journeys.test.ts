// User journeys in Chromium (one browser, a fresh context each): navigation per role, overview, ping, 403 pages,
// sign-in redirects and errors, user admin (create, disable, last admin), sign-in throttling.
import { mkdirSync } from 'node:fs';
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

async function newPage(opts: { ip?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL: base,
    viewport: { width: 1280, height: 900 },
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
    viewer: ['Overview', 'Targets', 'Jobs'],
    operator: ['Overview', 'Targets', 'Jobs'],
    admin: ['Overview', 'Targets', 'Jobs', 'Audit log', 'Users'],
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
    await select.selectOption('viewer');
    const row = page.locator(`tr[data-email="${e2eUsers.admin.email}"]`);
    const alert = row.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain(lastMessage);
    expect(await alert.textContent()).toContain('LAST_ADMIN');
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
    expect(rows[0]).toEqual({ failures: 10, future: true });
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
