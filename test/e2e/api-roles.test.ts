// The route x role table: every app/api/**/route.ts and exported verb has an entry here, and each entry is called as
// anonymous, viewer, operator and admin against the running console; also cross-origin refusal and validation errors.
import { readdirSync, readFileSync } from 'node:fs';
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

type Need = 'public' | 'next-auth' | 'viewer' | 'operator' | 'admin';
type Caller = 'anonymous' | E2eRole;
type Json = any;

interface Entry {
  role: Need;
  /** Values for `:param` segments, asked for each call (a cancel that will succeed needs a fresh job each time). */
  params?: (willSucceed: boolean) => Promise<Record<string, string>> | Record<string, string>;
  /** A valid body, asked for each call (a new user needs a new email each time). */
  body?: () => unknown;
  /** Extra checks on a successful answer. */
  ok?: (json: Json, as: E2eRole) => void;
}

const rank: Record<E2eRole, number> = { viewer: 1, operator: 2, admin: 3 };
const callers: Caller[] = ['anonymous', 'viewer', 'operator', 'admin'];
const unsafe = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// Filled in beforeAll.
const cookies = {} as Record<E2eRole, string>;
let pingJobId = '';
let patchUserId = '';

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
  const text = await res.text();
  let json: Json = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // asserted by the caller
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json };
}

/** A long ping (so it is still queued or running when cancelled), started by the operator. */
async function newCancellableJob(): Promise<string> {
  const r = await call('POST', '/api/jobs/ping', { cookie: cookies.operator, body: { message: `cancel me ${run}`, seconds: 60 } });
  expect(r.status, r.text).toBe(200);
  return r.json.job.id as string;
}

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
  'GET /api/targets': { role: 'viewer', ok: (j) => expect(Array.isArray(j.targets)).toBe(true) },
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

function expectErrorBody(r: Awaited<ReturnType<typeof call>>, status: number, code: string, message?: string, hint?: string) {
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
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
});

afterAll(async () => {
  // Leave the shared worker idle for the next file: cancel any job of this run that is still queued or running.
  if (db) {
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM jobs WHERE status IN ('queued', 'running') AND payload->>'message' LIKE $1`,
      [`%${run}`],
    );
    for (const { id } of rows) await call('POST', `/api/jobs/${id}/cancel`, { cookie: cookies.operator });
    await db.end();
  }
});

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
        const url = fill(path, params);
        const body = entry.body?.();
        const r = await call(method, url, { cookie: caller === 'anonymous' ? undefined : cookies[caller], body });
        if (caller === 'anonymous') {
          expectErrorBody(r, 401, 'UNAUTHENTICATED', 'You are not signed in.', 'Sign in and try again.');
        } else if (!allowed) {
          expectErrorBody(r, 403, 'FORBIDDEN', `This needs the ${entry.role} role; you are ${caller}.`, 'Ask an admin for a role that allows this.');
        } else {
          expect(r.status, r.text.slice(0, 500)).toBeGreaterThanOrEqual(200);
          expect(r.status, r.text.slice(0, 500)).toBeLessThan(300);
          expect(r.type).toMatch(/^application\/json/);
          expect(r.json?.error).toBeUndefined();
          entry.ok?.(r.json, caller);
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

  it('every mutating API entry refuses another origin, even with a valid admin session', async () => {
    for (const [key, entry] of Object.entries(table)) {
      const [method, path] = key.split(' ') as [string, string];
      if (!unsafe.has(method) || entry.role === 'public' || entry.role === 'next-auth') continue;
      const url = fill(path, entry.params ? await entry.params(false) : {});
      const r = await call(method, url, { cookie: cookies.admin, origin: 'http://evil.example', body: entry.body?.() });
      expectErrorBody(r, 403, 'CROSS_ORIGIN');
    }
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

  it('GET /api/jobs/:id for an unknown id -> 404 NOT_FOUND', async () => {
    const r = await call('GET', '/api/jobs/00000000-0000-4000-8000-000000000000', { cookie: cookies.viewer });
    expectErrorBody(r, 404, 'NOT_FOUND', 'There is no job 00000000-0000-4000-8000-000000000000.');
  });
});
