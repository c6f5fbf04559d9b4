// The console's own database unreachable: a second web server pointed at a closed port must say so plainly (503 JSON
// for the API, a readable page for people) and leak neither the connection string, nor a password, nor a stack trace.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, root, startWeb, stopChild, type Child } from '../../scripts/lib/stack';
import { signInCookie } from '../helpers/browser';
import { e2eUsers } from '../helpers/e2e-users';

const realBase = inject('baseUrl');
const consoleEnv = inject('consoleEnv');
const secret = `db-down-secret-${Date.now()}`;

let web: Child | undefined;
let downBase = '';
let closedPort = 0;
const output: string[] = [];
let cookie = '';

/** Nothing in an answer may reveal the connection string, the password, or where the code lives. */
function expectNoSecrets(text: string) {
  expect(text).not.toMatch(/postgres(ql)?:\/\//);
  expect(text).not.toContain(secret);
  expect(text).not.toContain(consoleEnv.NEXTAUTH_SECRET);
  expect(text).not.toContain(`127.0.0.1:${closedPort}`);
  expect(text).not.toContain(root);
  expect(text).not.toMatch(/\bat \S*\/\S+\.(js|ts|tsx|mjs):\d+/); // a stack frame
  expect(text).not.toMatch(/ECONNREFUSED|PrismaClient|DriverAdapterError/);
}

beforeAll(async () => {
  cookie = await signInCookie(realBase, e2eUsers.viewer.email, e2eUsers.viewer.password);
  closedPort = await freePort(); // free now, and nobody listens on it
  const port = await freePort();
  downBase = `http://127.0.0.1:${port}`;
  const url = new URL(consoleEnv.DATABASE_URL);
  url.port = String(closedPort);
  url.password = secret;
  web = startWeb({ ...consoleEnv, DATABASE_URL: url.toString(), NEXTAUTH_URL: downBase }, port, (l) => output.push(l));
  let exited = false;
  void web.then(() => (exited = true));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`the second web server exited:\n${output.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`the second web server did not answer within 60 s:\n${output.join('\n')}`);
    try {
      await fetch(`${downBase}/api/health`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}, 90_000);

afterAll(async () => {
  await stopChild(web, 5_000);
});

describe('the console database is unreachable', () => {
  it('GET /api/health answers 503 {status: unavailable, database: down} without secrets', async () => {
    const res = await fetch(`${downBase}/api/health`);
    const text = await res.text();
    expect(res.status, text).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = JSON.parse(text);
    expect(body).toMatchObject({ status: 'unavailable', database: 'down', service: 'lifeboat-console' });
    expect(Object.keys(body).sort()).toEqual(['database', 'latencyMs', 'service', 'status']);
    expectNoSecrets(text);
  });

  it('GET /api/me with a valid session answers 503 DB_UNAVAILABLE', async () => {
    const res = await fetch(`${downBase}/api/me`, { headers: { cookie } });
    const text = await res.text();
    expect(res.status, text).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(text)).toEqual({
      error: {
        code: 'DB_UNAVAILABLE',
        message: "The console's database is unavailable.",
        hint: "The console's database is not answering. Check that PostgreSQL is running and DATABASE_URL is right.",
      },
    });
    expectNoSecrets(text);
  });

  it('a mutating API call (POST /api/jobs/ping as an operator) answers 503 DB_UNAVAILABLE too', async () => {
    const operator = await signInCookie(realBase, e2eUsers.operator.email, e2eUsers.operator.password);
    const res = await fetch(`${downBase}/api/jobs/ping`, {
      method: 'POST',
      headers: { cookie: operator, origin: downBase, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'db down', seconds: 0 }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(503);
    expect(JSON.parse(text).error.code).toBe('DB_UNAVAILABLE');
    expectNoSecrets(text);
  });

  it('the overview page with a session says "Lifeboat cannot reach its own database", without a stack trace', async () => {
    const res = await fetch(`${downBase}/`, { headers: { cookie }, redirect: 'manual' });
    const html = await res.text();
    expect(res.status, html.slice(0, 300)).toBeLessThan(300); // shown in place, not redirected away
    expect(html).toContain('Lifeboat cannot reach its own database');
    expect(html).not.toContain('This page could not be shown'); // not the generic error page
    expectNoSecrets(html);
  });

  it('the sign-in page still renders when signed out (it needs no database), without secrets', async () => {
    const res = await fetch(`${downBase}/login`, { redirect: 'manual' });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('Sign in to Lifeboat');
    expectNoSecrets(html);
  });

  it('a sign-in attempt fails without revealing the driver error or the connection string', async () => {
    const csrfRes = await fetch(`${downBase}/api/auth/csrf`);
    const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
    const jar = csrfRes.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const res = await fetch(`${downBase}/api/auth/callback/credentials`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar, origin: downBase },
      body: new URLSearchParams({ csrfToken, email: e2eUsers.viewer.email, password: e2eUsers.viewer.password, json: 'true' }),
    });
    const text = await res.text();
    expect(res.headers.getSetCookie().some((c) => c.startsWith('next-auth.session-token='))).toBe(false);
    const target = (JSON.parse(text) as { url?: string }).url ?? res.headers.get('location') ?? '';
    const error = new URL(target, downBase).searchParams.get('error') ?? '';
    // The login form shows this text to the person verbatim.
    expectNoSecrets(decodeURIComponent(text) + error);
    // A message for a person that names the cause (not "Email or password is incorrect.", which would mislead).
    expect(error, `sign-in error shown to the person: ${error}`).toMatch(/database/i);
    expect(error.length, `sign-in error shown to the person: ${error}`).toBeLessThan(200);
    expect(error).not.toMatch(/prisma|invocation|findMany|`/i);
  });
});
