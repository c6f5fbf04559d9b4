// Pre- and post-restore hooks: an http(s) URL gets a JSON POST; anything else is a command run with /bin/sh -c, with
// a minimal environment (never the worker's secrets), a time limit, and as `nobody` when the worker runs as root.
// The outcome goes to the job's result (admins only), never to its log: neither the command nor its output.
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { UserError } from '../../lib/errors';

export interface HookOutcome {
  output: string;
  exitCode: number | null;
  ms: number;
}

export type HookEvent = 'pre-restore' | 'post-restore';

/** Seconds a hook may run (LIFEBOAT_HOOK_TIMEOUT_SECONDS, default 120). */
export const hookTimeoutMs = () => Math.max(1, Number(process.env.LIFEBOAT_HOOK_TIMEOUT_SECONDS) || 120) * 1000;

/** The only variables a hook command sees. */
export function hookEnv(event: HookEvent, info: { target: string; database: string }): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: '/',
    LIFEBOAT_HOOK: event,
    LIFEBOAT_EVENT: event,
    LIFEBOAT_TARGET: info.target,
    LIFEBOAT_DATABASE: info.database,
  };
}

/** uid/gid of `nobody` when this process is root (a hook never runs as root), else undefined (runs as the worker). */
export function hookUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return { uid: uid ? Number(uid) : 65534, gid: gid ? Number(gid) : 65534 };
}

export async function runHook(hook: string | null, event: HookEvent, info: { target: string; database: string }, signal: AbortSignal): Promise<HookOutcome | null> {
  if (!hook?.trim()) return null;
  const limit = hookTimeoutMs();
  const started = Date.now();
  if (/^https?:\/\//.test(hook)) {
    const res = await fetch(hook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event, ...info }),
      signal: AbortSignal.any([signal, AbortSignal.timeout(limit)]),
    }).catch((err: Error) => {
      throw new UserError('HOOK_FAILED', `The ${event} hook (a URL) did not answer within ${limit / 1000} s: ${err.name}.`);
    });
    if (!res.ok) throw new UserError('HOOK_FAILED', `The ${event} hook (a URL) answered HTTP ${res.status}.`);
    return { output: `HTTP ${res.status}`, exitCode: null, ms: Date.now() - started };
  }
  // An admin-configured command: a shell line on purpose (it is the admin's own script). Its own process group, so
  // the time limit ends whatever it started too (a `sleep` left behind would hold the output open).
  const stop = AbortSignal.any([signal, AbortSignal.timeout(limit)]);
  const child = execa('/bin/sh', ['-c', hook], {
    env: hookEnv(event, info),
    extendEnv: false,
    cwd: '/',
    ...hookUser(),
    detached: true,
    stdin: 'ignore',
    reject: false,
    all: true,
  });
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  stop.addEventListener('abort', kill, { once: true });
  const r = await child.finally(() => stop.removeEventListener('abort', kill));
  const ms = Date.now() - started;
  if (stop.aborted) {
    const timedOut = !signal.aborted;
    throw new UserError('HOOK_FAILED', timedOut ? `The ${event} hook ran longer than its limit of ${limit / 1000} s and was stopped.` : `The ${event} hook was stopped.`);
  }
  if (r.exitCode !== 0) throw new UserError('HOOK_FAILED', `The ${event} hook exited with ${r.exitCode ?? r.signal} after ${ms} ms.`);
  return { output: String(r.all ?? '').slice(-4000), exitCode: r.exitCode ?? null, ms };
}
