// `npm run demo` end to end, twice on one data folder: URL and logins, health, sign-in, secrets, sample DB, Ctrl-C, data kept.
// Needs a fresh build (`node --import tsx -e "import('./scripts/lib/stack.ts').then(m=>m.ensureBuild())"`), else it builds first.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, root } from '../../scripts/lib/stack';
import { signInCookie } from '../helpers/browser';
import { leftovers, leftoversAfterExit, stopDemos, waitForLine } from '../helpers/demo-processes';

type Demo = ResultPromise<{ detached: true; reject: false; all: true; buffer: false }> & { lines: string[] };

let dataDir: string;
let webPort: number;
const demos: Demo[] = [];

function startDemo(): Demo {
  const child = execa('node', ['--import', 'tsx', 'scripts/demo.ts'], {
    cwd: root,
    // Own process group, signalled by pid only: as a terminal's Ctrl-C reaches only the launcher.
    detached: true,
    reject: false,
    all: true,
    buffer: false,
    env: { LIFEBOAT_DATA_DIR: dataDir, LIFEBOAT_PORT: String(webPort), NEXT_TELEMETRY_DISABLED: '1' },
  }) as Demo;
  child.lines = [];
  let rest = '';
  child.all!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    child.lines.push(...parts);
    if (process.env.LIFEBOAT_TEST_VERBOSE) for (const l of parts) console.log('[demo]', l);
  });
  demos.push(child);
  return child;
}

const output = (d: Demo) => `\ndemo output:\n${d.lines.slice(-60).join('\n')}`;

interface Started {
  url: string;
  logins: Map<string, { email: string; password: string; note: string }>;
  samplePort: number;
}

async function waitUntilRunning(d: Demo): Promise<Started> {
  const [, url] = await waitForLine(d, /^\s*Lifeboat is running at (http:\/\/\S+)\s*$/, 240_000, () => output(d));
  await waitForLine(d, /Press Ctrl-C to stop/, 5_000, () => output(d));
  const logins = new Map<string, { email: string; password: string; note: string }>();
  for (const l of d.lines) {
    const m = /^\s+(admin|operator|viewer)\s+(\S+@lifeboat\.local)\s+(\S+)(.*)$/.exec(l);
    if (m) logins.set(m[1]!, { email: m[2]!, password: m[3]!, note: m[4]!.trim() });
  }
  const [, port] = await waitForLine(d, /^\s*Sample database:\s+eitherway on 127\.0\.0\.1:(\d+)\s*$/, 1_000, () => output(d));
  return { url: url!, logins, samplePort: Number(port) };
}

/** Sends SIGINT to the demo process alone and returns its exit code, or throws after 30 s. */
async function interrupt(d: Demo): Promise<{ exitCode: number | undefined; ms: number }> {
  const sent = Date.now();
  process.kill(d.pid!, 'SIGINT');
  const result = await Promise.race([d, sleep(30_000).then(() => undefined)]);
  if (!result) throw new Error(`the demo did not exit within 30 s of SIGINT${output(d)}`);
  return { exitCode: result.exitCode, ms: Date.now() - sent };
}

function readSecrets(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path.join(dataDir, 'secrets.env'), 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

async function query<T extends pg.QueryResultRow>(config: pg.ClientConfig, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client(config);
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-demo-test-'));
  chmodSync(dataDir, 0o755);
  webPort = await freePort();
});

afterAll(async () => {
  await stopDemos(demos, { dataDir, needles: [dataDir] });
  rmSync(dataDir, { recursive: true, force: true });
}, 90_000);

describe('npm run demo', () => {
  let first: Started;
  let pgPassword: string;
  const extraUser = { email: 'kept@lifeboat.local', name: 'Kept Across Runs', role: 'viewer', password: 'kept-password-1234' };

  it('starts: prints the URL and the three logins, answers /api/health, and the admin can sign in', async () => {
    const d = startDemo();
    first = await waitUntilRunning(d);
    expect(first.url).toBe(`http://127.0.0.1:${webPort}`);
    expect([...first.logins.keys()].sort()).toEqual(['admin', 'operator', 'viewer']);
    for (const [role, login] of first.logins) {
      expect(login.email).toBe(`${role}@lifeboat.local`);
      expect(login.password).toMatch(new RegExp(`^${role}-\\S{8,}$`));
      expect(login.note).toBe('');
    }

    expect(d.lines.filter((l) => /\[demo\] applying \d{14}_/.test(l)).length, output(d)).toBeGreaterThan(0);
    // The leftover check used after Ctrl-C sees the running parts: PostgreSQL, the web server and the worker.
    const running = leftovers([dataDir]);
    expect(running.some((p) => p.includes('postgres') && p.includes(path.join(dataDir, 'pg'))), running.join('\n')).toBe(true);
    // next renames its process to "next-server (vX)", so its command line no longer shows the port: found by its environment.
    expect(running.some((p) => p.includes('next-server')), running.join('\n')).toBe(true);
    expect(running.some((p) => p.includes('worker/main.ts')), running.join('\n')).toBe(true);

    const health = await fetch(`${first.url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', service: 'lifeboat-console' });

    const admin = first.logins.get('admin')!;
    const cookie = await signInCookie(first.url, admin.email, admin.password);
    const me = await fetch(`${first.url}/api/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email: 'admin@lifeboat.local', role: 'admin' } });
    for (const role of ['operator', 'viewer']) {
      const l = first.logins.get(role)!;
      await expect(signInCookie(first.url, l.email, l.password)).resolves.toContain('next-auth.session-token=');
    }
    await expect(signInCookie(first.url, admin.email, 'not-the-password')).rejects.toThrow(/sign-in as admin@lifeboat.local failed/);

    // Something to find again on the second run, made through the API as a person would.
    const created = await fetch(`${first.url}/api/users`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', origin: first.url },
      body: JSON.stringify(extraUser),
    });
    expect(created.status, await created.clone().text()).toBe(200);
  }, 300_000);

  it('keeps its secrets in <data>/secrets.env, mode 0600, and never prints the PostgreSQL password', () => {
    const file = path.join(dataDir, 'secrets.env');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const secrets = readSecrets();
    for (const key of ['NEXTAUTH_SECRET', 'LIFEBOAT_MASTER_KEY', 'LIFEBOAT_PG_PASSWORD', 'LIFEBOAT_PG_PORT', 'DEMO_ADMIN_PASSWORD', 'DEMO_OPERATOR_PASSWORD', 'DEMO_VIEWER_PASSWORD']) {
      expect(secrets[key], key).toBeTruthy();
    }
    expect(secrets.DEMO_ADMIN_PASSWORD).toBe(first.logins.get('admin')!.password);
    expect(Number(secrets.LIFEBOAT_PG_PORT)).toBe(first.samplePort);
    pgPassword = secrets.LIFEBOAT_PG_PASSWORD!;
    const printed = demos[0]!.lines.join('\n');
    expect(printed).not.toContain(pgPassword);
    expect(printed).not.toContain(secrets.NEXTAUTH_SECRET);
    expect(printed).not.toContain(secrets.LIFEBOAT_MASTER_KEY);
    expect(printed).toMatch(/Console database: postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/lifeboat/);
  });

  it('serves the sample database eitherway with core.users, core.sessions and the integrity check', async () => {
    const config = { host: '127.0.0.1', port: first.samplePort, user: 'postgres', password: pgPassword, database: 'eitherway' };
    const [counts] = await query<{ users: number; sessions: number }>(
      config,
      'SELECT (SELECT count(*)::int FROM core.users) AS users, (SELECT count(*)::int FROM core.sessions) AS sessions',
    );
    expect(counts).toEqual({ users: 500, sessions: 2000 });
    const check = await query<{ table_name: string; row_count: string }>(config, 'SELECT table_name, row_count FROM core.analyze_query_performance() ORDER BY table_name');
    expect(check.map((r) => [r.table_name, Number(r.row_count)])).toEqual([
      ['core.sessions', 2000],
      ['core.users', 500],
    ]);
    // The cluster insists on the password.
    await expect(query({ ...config, password: 'wrong' }, 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });
  });

  it('stops on SIGINT: exit 0 within 30 s, and no process of it is left', async () => {
    const d = demos[0]!;
    const { exitCode, ms } = await interrupt(d);
    expect(exitCode, output(d)).toBe(0);
    expect(ms).toBeLessThan(30_000);
    expect(d.lines.some((l) => l.includes('stopped. Your data is kept in'))).toBe(true);
    // Children may take a moment to be reaped by whoever adopted them.
    expect(await leftoversAfterExit([dataDir, `-p ${webPort}`, `port=${first.samplePort}`])).toEqual([]);
    await expect(fetch(`${first.url}/api/health`)).rejects.toThrow();
  }, 45_000);

  it('starts again on the same data: schema up to date, same admin password, data kept; then stops again', async () => {
    const d = startDemo();
    const again = await waitUntilRunning(d);
    expect(d.lines.some((l) => l.includes('[demo] database schema is up to date')), output(d)).toBe(true);
    expect(d.lines.filter((l) => /\[demo\] applying \d/.test(l))).toEqual([]);
    expect(d.lines.some((l) => l.includes('created the sample database'))).toBe(false);
    expect(again.samplePort).toBe(first.samplePort);

    const admin = again.logins.get('admin')!;
    expect(admin.password).toBe(first.logins.get('admin')!.password);
    expect(admin.note).toBe('(unless you changed it)');
    const cookie = await signInCookie(again.url, admin.email, admin.password);
    const users = await fetch(`${again.url}/api/users`, { headers: { cookie } });
    expect(users.status).toBe(200);
    const list = ((await users.json()) as { users: { email: string; role: string; name: string }[] }).users;
    expect(list.find((u) => u.email === extraUser.email)).toMatchObject({ name: extraUser.name, role: 'viewer' });
    expect(list.filter((u) => u.email.endsWith('@lifeboat.local')).map((u) => u.email).sort()).toEqual(
      ['admin@lifeboat.local', 'kept@lifeboat.local', 'operator@lifeboat.local', 'viewer@lifeboat.local'],
    );
    await expect(signInCookie(again.url, extraUser.email, extraUser.password)).resolves.toContain('next-auth.session-token=');

    // The seed did not add a second copy of the sample rows.
    const [counts] = await query<{ users: number }>(
      { host: '127.0.0.1', port: again.samplePort, user: 'postgres', password: pgPassword, database: 'eitherway' },
      'SELECT count(*)::int AS users FROM core.users',
    );
    expect(counts!.users).toBe(500);

    const { exitCode } = await interrupt(d);
    expect(exitCode, output(d)).toBe(0);
    expect(await leftoversAfterExit([dataDir, `-p ${webPort}`, `port=${again.samplePort}`])).toEqual([]);
  }, 300_000);

  it('stopped while PostgreSQL is starting, leaves no PostgreSQL running', async () => {
    const d = startDemo();
    await waitForLine(d, /\[demo\] starting the private PostgreSQL/, 60_000, () => output(d));
    // Ctrl-C once the server process exists but before the demo holds a handle to it (a window of a few hundred ms).
    const deadline = Date.now() + 10_000;
    while (!existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL never started${output(d)}`);
      await sleep(5);
    }
    const { exitCode } = await interrupt(d);
    expect(exitCode, output(d)).toBe(0);
    // pg_ctl may still be bringing the server up after the demo exited; give it time to show.
    await sleep(3_000);
    expect(leftovers([dataDir]), output(d)).toEqual([]);
  }, 60_000);
});
