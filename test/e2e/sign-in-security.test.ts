// Sign-in against the built console: parallel guesses are capped by the lock, X-Forwarded-For counts only from a
// trusted proxy (the e2e console trusts 127.0.0.1; requests from 127.0.0.2 are a client connecting directly), and a
// password change ends the user's other sessions.
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signInCookie } from '../helpers/browser';
import { e2eUsers } from '../helpers/e2e-users';

const base = inject('baseUrl');
const databaseUrl = inject('databaseUrl');
const run = `${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
const genericSignInError = 'Email or password is incorrect.';
const lockedMessage = /^Too many failed sign-ins\. Sign-in is locked for 1[45] more minutes\.$/;
/** A documentation address unique to this run, so per-address locks never touch other tests or reruns. */
const runOctet = Math.floor(Math.random() * 250);
const runIp = (n: number) => `198.18.${runOctet}.${n}`;

let db: pg.Client;
let adminCookie = '';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One HTTP request from a chosen loopback source address (the console sees it as the TCP peer). */
function request(method: string, path: string, opts: { from?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method, localAddress: opts.from ?? '127.0.0.1', headers: opts.headers ?? {}, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const cookiesOf = (a: Answer) => (a.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!);

/** One credentials sign-in through next-auth, as the login form does; `xff` is sent as X-Forwarded-For. */
async function attemptSignIn(email: string, password: string, opts: { from?: string; xff?: string } = {}) {
  const extra: Record<string, string> = opts.xff ? { 'x-forwarded-for': opts.xff } : {};
  const csrf = await request('GET', '/api/auth/csrf', { from: opts.from, headers: extra });
  const { csrfToken } = JSON.parse(csrf.text) as { csrfToken: string };
  const res = await request('POST', '/api/auth/callback/credentials', {
    from: opts.from,
    headers: { ...extra, 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(csrf).join('; '), origin: base },
    body: new URLSearchParams({ csrfToken, email, password, json: 'true' }).toString(),
  });
  let target = String(res.headers.location ?? '');
  try {
    target = (JSON.parse(res.text) as { url?: string }).url ?? target;
  } catch {
    // a redirect without a body
  }
  const error = target ? new URL(target, base).searchParams.get('error') : null;
  const session = cookiesOf(res).find((c) => c.startsWith('next-auth.session-token='));
  return { error, session };
}

async function api(method: string, path: string, cookie: string, opts: { from?: string; xff?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { cookie, origin: base };
  if (opts.xff) headers['x-forwarded-for'] = opts.xff;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(method, path, { from: opts.from, headers, body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined });
  let json: any;
  try {
    json = JSON.parse(res.text);
  } catch {
    json = undefined;
  }
  return { ...res, json };
}

async function createUser(tag: string, role: 'viewer' | 'admin' = 'viewer') {
  const email = `${tag}-${run}@e2e.test`;
  const password = `pw-${tag}-${run}`.padEnd(16, 'x');
  const r = await api('POST', '/api/users', adminCookie, { body: { email, name: `Security ${tag}`, role, password } });
  expect(r.status, r.text).toBe(200);
  return { id: r.json.user.id as string, email, password };
}

async function throttleRow(key: string) {
  const { rows } = await db.query<{ failures: number; locked: boolean }>(
    'SELECT failures, coalesce(locked_until > now(), false) AS locked FROM auth_throttle WHERE key = $1',
    [key],
  );
  return rows[0] ?? null;
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  adminCookie = await signInCookie(base, e2eUsers.admin.email, e2eUsers.admin.password);
});

afterAll(async () => {
  await db?.end();
});

describe('parallel guesses', () => {
  it('50 wrong passwords at once through next-auth: exactly 10 are checked, the rest and then the right password are refused as locked', { timeout: 120_000 }, async () => {
    const user = await createUser('parallel');
    const ip = runIp(1);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => attemptSignIn(user.email, `wrong-${i}-${run}`, { xff: ip })));
    expect(answers.filter((a) => a.session)).toEqual([]);
    // "incorrect" is answered only after a password check, "locked" before any.
    const checked = answers.filter((a) => a.error === genericSignInError).length;
    const locked = answers.filter((a) => lockedMessage.test(a.error ?? '')).length;
    expect({ checked, locked }).toEqual({ checked: 10, locked: 40 });
    const right = await attemptSignIn(user.email, user.password, { xff: runIp(2) });
    expect(right.session).toBeUndefined();
    expect(right.error).toMatch(lockedMessage);
    expect(await throttleRow(`email:${user.email}`)).toMatchObject({ locked: true });
    expect(await throttleRow(`ip:${ip}`)).toMatchObject({ locked: true });
  });
});

describe('X-Forwarded-For', () => {
  it('from a client that is not a trusted proxy is ignored: the lock counts its real address', async () => {
    const user = await createUser('forged');
    const forged = runIp(3);
    const before = (await throttleRow('ip:127.0.0.2'))?.failures ?? 0;
    const r = await attemptSignIn(user.email, `wrong-${run}`, { from: '127.0.0.2', xff: forged });
    expect(r.error).toBe(genericSignInError);
    expect(await throttleRow(`ip:${forged}`)).toBeNull();
    expect((await throttleRow('ip:127.0.0.2'))?.failures).toBe(before + 1);
    // The right password from the same client gives its count back.
    const ok = await attemptSignIn(user.email, user.password, { from: '127.0.0.2', xff: forged });
    expect(ok.session).toBeDefined();
    expect((await throttleRow('ip:127.0.0.2'))?.failures).toBe(before + 1);
  });

  it('from a trusted proxy (127.0.0.1 here) names the client for the lock', async () => {
    const user = await createUser('proxied');
    const client = runIp(4);
    const r = await attemptSignIn(user.email, `wrong-${run}`, { from: '127.0.0.1', xff: client });
    expect(r.error).toBe(genericSignInError);
    expect(await throttleRow(`ip:${client}`)).toMatchObject({ failures: 1, locked: false });
  });

  it('the audit log records the real address of a direct client, and the forwarded one from a trusted proxy', async () => {
    const direct = await api('POST', '/api/users', adminCookie, {
      from: '127.0.0.2',
      xff: runIp(5),
      body: { email: `audit-direct-${run}@e2e.test`, name: 'Audit direct', role: 'viewer', password: 'audit-direct-password' },
    });
    expect(direct.status, direct.text).toBe(200);
    const proxied = await api('POST', '/api/users', adminCookie, {
      from: '127.0.0.1',
      xff: `${runIp(7)}, ${runIp(6)}`,
      body: { email: `audit-proxied-${run}@e2e.test`, name: 'Audit proxied', role: 'viewer', password: 'audit-proxied-password' },
    });
    expect(proxied.status, proxied.text).toBe(200);
    const { rows } = await db.query<{ entity_id: string; ip: string | null }>(
      `SELECT entity_id, ip FROM audit_log WHERE action = 'user.create' AND entity_id = ANY($1) ORDER BY id`,
      [[direct.json.user.id, proxied.json.user.id]],
    );
    expect(rows).toEqual([
      { entity_id: direct.json.user.id, ip: '127.0.0.2' },
      // The proxy appended the address it saw (the rightmost); what the client wrote before it is not believed.
      { entity_id: proxied.json.user.id, ip: runIp(6) },
    ]);
  });
});

describe('a password change', () => {
  it("ends the user's sessions: an old session cookie then gets 401", async () => {
    const user = await createUser('changed');
    const first = await signInCookie(base, user.email, user.password);
    const second = await signInCookie(base, user.email, user.password);
    expect((await api('GET', '/api/me', first)).status).toBe(200);
    const r = await api('PATCH', `/api/users/${user.id}`, adminCookie, { body: { password: `new-${user.password}` } });
    expect(r.status, r.text).toBe(200);
    for (const cookie of [first, second]) {
      const me = await api('GET', '/api/me', cookie);
      expect(me.status).toBe(401);
      expect(me.json.error.code).toBe('UNAUTHENTICATED');
    }
    // Signing in with the new password works again.
    expect((await api('GET', '/api/me', await signInCookie(base, user.email, `new-${user.password}`))).status).toBe(200);
  });

  it('by an admin of their own password keeps the session that changed it and ends the others', async () => {
    const me = await createUser('self', 'admin');
    const acting = await signInCookie(base, me.email, me.password);
    const other = await signInCookie(base, me.email, me.password);
    const r = await api('PATCH', `/api/users/${me.id}`, acting, { body: { password: `new-${me.password}` } });
    expect(r.status, r.text).toBe(200);
    const renewed = cookiesOf(r).find((c) => c.startsWith('next-auth.session-token='));
    expect(renewed, 'a fresh session cookie for the acting session').toBeDefined();
    expect((await api('GET', '/api/me', renewed!)).status).toBe(200);
    expect((await api('GET', '/api/me', other)).status).toBe(401);
    expect((await api('GET', '/api/me', acting)).status).toBe(401);
  });
});
