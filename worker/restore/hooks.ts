// Pre- and post-restore hooks: an http(s) URL gets a JSON POST; anything else is a command run with /bin/sh -c, with
// a minimal environment (never the worker's secrets), a time limit, and as `nobody` when the worker runs as root,
// through runTool like every program the worker starts.
// The outcome goes to the job's result (admins only), never to its log: neither the command nor its output.
import { readFileSync } from 'node:fs';
import { UserError } from '../../lib/errors';
import { runTool } from '../pg/run-tool';

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

/**
 * The argv of a hook command, through three wrappers that each do one thing: env -i (exactly `env`'s variables),
 * setpriv (as `user`, when given: the worker runs as root) and timeout (the hook in its own process group, ended
 * whole at the limit, so a `sleep` it started cannot hold the output open).
 */
export function hookCommand(hook: string, limitMs: number, env: Record<string, string>, user: { uid: number; gid: number } | undefined): { exe: string; args: string[] } {
  return {
    exe: '/usr/bin/env',
    args: [
      // -i: start from an empty environment; then only NAME=value pairs given here.
      '-i',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      // --reuid/--regid/--clear-groups: drop root's user, group and supplementary groups before the hook runs.
      ...(user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--'] : []),
      // --kill-after: SIGKILL to the group a second after SIGTERM, for a script that ignores SIGTERM.
      'timeout',
      '--kill-after=1',
      `${limitMs / 1000}`,
      '/bin/sh',
      '-c',
      hook,
    ],
  };
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
  // An admin-configured command: a shell line on purpose (it is the admin's own script).
  const { exe, args } = hookCommand(hook, limit, hookEnv(event, info), hookUser());
  const output: string[] = [];
  // stdout and stderr as one text, in the order the lines came (as a person would see them in a terminal).
  // A cancel ends timeout with SIGTERM, which it passes on to the hook's whole group.
  const r = await runTool({ exe, args, signal, cwd: '/', stdout: 'lines', onLine: (l) => void (output.push(l) > 400 && output.splice(0, 200)) });
  const ms = Date.now() - started;
  // timeout's 124: the limit was reached (a group killed after --kill-after shows as 137 or a signal).
  if (r.exitCode === 124 || (ms >= limit && r.exitCode !== 0)) throw new UserError('HOOK_FAILED', `The ${event} hook ran longer than its limit of ${limit / 1000} s and was stopped.`);
  if (r.exitCode !== 0) throw new UserError('HOOK_FAILED', `The ${event} hook exited with ${r.exitCode ?? r.signal} after ${ms} ms.`);
  return { output: output.join('\n').slice(-4000), exitCode: r.exitCode ?? null, ms };
}

/** A signal nobody aborts: past the point of no return a restore finishes whatever is asked. */
export const unstoppable = new AbortController().signal;

/**
 * The post-restore hook, past the swap or the rename: a cancel no longer applies (it gets its own time limit), and a
 * failure is logged, not thrown (production is restored).
 */
export async function runPostHook(
  ctx: { step(name: string): Promise<void>; log(line: string, level?: 'info' | 'warn' | 'error'): Promise<void> },
  hook: string | null,
  info: { target: string; database: string },
): Promise<HookOutcome | null> {
  await ctx.step('running the post-restore hook');
  const post = await runHook(hook, 'post-restore', info, unstoppable).catch(async (err) => {
    await ctx.log(`post-restore hook failed (production is restored): ${(err as Error).message}`, 'error');
    return null;
  });
  if (post) await ctx.log(`post-restore hook ran: exit ${post.exitCode ?? 'n/a'}, ${post.ms} ms (its output is in the job result, for admins)`);
  return post;
}
