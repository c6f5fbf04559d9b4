// Starts Lifeboat's own processes (Prisma client generation, Next build, web server, worker) for the demo and the tests.
import { execa, type ResultPromise } from 'execa';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

export interface ConsoleEnv {
  DATABASE_URL: string;
  NEXTAUTH_SECRET: string;
  NEXTAUTH_URL: string;
  LIFEBOAT_MASTER_KEY: string;
  LIFEBOAT_DATA_DIR?: string;
  [key: string]: string | undefined;
}

function newestMtime(path: string, skip: Set<string>): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (skip.has(entry)) continue;
    newest = Math.max(newest, newestMtime(join(path, entry), skip));
  }
  return newest;
}

/** `prisma generate` when the client is missing or older than the schema (the CLI needs some engine path; it is not run). */
export async function ensurePrismaClient(log: (l: string) => void = console.log): Promise<void> {
  const client = join(root, 'lib/generated/prisma/client.ts');
  if (existsSync(client) && statSync(client).mtimeMs >= statSync(join(root, 'prisma/schema.prisma')).mtimeMs) return;
  log('generating the Prisma client');
  await execa('node', [join(root, 'node_modules/prisma/build/index.js'), 'generate'], {
    cwd: root,
    env: { PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
  });
}

const sourceDirs = ['app', 'components', 'lib', 'proxy.ts', 'instrumentation.ts', 'next.config.ts', 'postcss.config.mjs', 'package-lock.json', 'prisma/schema.prisma'];

/** True when .next is missing or older than any source file. */
export function buildIsStale(): boolean {
  const buildId = join(root, '.next/BUILD_ID');
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  const skip = new Set(['generated', 'node_modules']);
  return sourceDirs.some((d) => newestMtime(join(root, d), skip) > built);
}

/** One build at a time across processes (the demo and test runs may start together): a lock folder, stale after 10 min. */
async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const { mkdir, rmdir, stat } = await import('node:fs/promises');
  const lock = join(root, '.next-build.lock');
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > 600_000) await rmdir(lock).catch(() => {});
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await rmdir(lock).catch(() => {});
  }
}

export async function ensureBuild(log: (l: string) => void = console.log): Promise<void> {
  await withBuildLock(() => buildUnlocked(log));
}

async function buildUnlocked(log: (l: string) => void): Promise<void> {
  await ensurePrismaClient(log);
  if (!buildIsStale()) return;
  log('building the web console (next build; about a minute the first time)');
  await execa('node', [join(root, 'node_modules/next/dist/bin/next'), 'build'], {
    cwd: root,
    env: { NEXT_TELEMETRY_DISABLED: '1' },
    stdout: 'pipe',
    stderr: 'pipe',
    all: true,
  }).catch((err) => {
    throw new Error(`next build failed:\n${String(err.all ?? err.message).split('\n').slice(-40).join('\n')}`);
  });
}

export type Child = ResultPromise<{ detached: true; cleanup: true; reject: false; all: true; buffer: false }>;

function pipeLines(child: Child, onLine: (line: string) => void) {
  let rest = '';
  child.all?.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString();
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) onLine(l);
  });
}

// Own process groups: a terminal's Ctrl-C reaches only the launcher, which then stops each part in order.
const spawnOpts = { detached: true, cleanup: true, reject: false, all: true, buffer: false } as const;

export function startWeb(env: ConsoleEnv, port: number, onLine: (l: string) => void = () => {}): Child {
  const child = execa('node', [join(root, 'node_modules/next/dist/bin/next'), 'start', '-p', String(port), '-H', '127.0.0.1'], {
    ...spawnOpts,
    cwd: root,
    env: { ...env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', PORT: String(port) },
  }) as Child;
  pipeLines(child, onLine);
  return child;
}

export function startWorker(env: ConsoleEnv, onLine: (l: string) => void = () => {}): Child {
  const child = execa('node', ['--import', 'tsx', join(root, 'worker/main.ts')], {
    ...spawnOpts,
    cwd: root,
    env: { ...env },
  }) as Child;
  pipeLines(child, onLine);
  return child;
}

/** Waits until GET /api/health answers 200 (or the child exits first). */
export async function waitForHealth(baseUrl: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error('the web server exited before it answered; see its output above');
    try {
      const res = await fetch(`${baseUrl}/api/health`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the web server did not answer ${baseUrl}/api/health within ${timeoutMs / 1000} s`);
}

/** SIGTERM to the child's process group, SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopChild(child: Child | undefined, graceMs = 15_000): Promise<void> {
  if (!child?.pid || child.exitCode !== null) return;
  const group = -child.pid;
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(group, sig);
    } catch {
      // already gone
    }
  };
  send('SIGTERM');
  const timer = setTimeout(() => send('SIGKILL'), graceMs);
  await child;
  clearTimeout(timer);
}

/** A free TCP port on loopback, starting from `preferred` when it is free. */
export async function freePort(preferred?: number): Promise<number> {
  const net = await import('node:net');
  const tryPort = (port: number) =>
    new Promise<number | null>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(null));
      srv.listen(port, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : null));
      });
    });
  if (preferred) {
    for (let p = preferred; p < preferred + 20; p++) {
      const got = await tryPort(p);
      if (got) return got;
    }
  }
  const any = await tryPort(0);
  if (!any) throw new Error('no free TCP port on 127.0.0.1');
  return any;
}
