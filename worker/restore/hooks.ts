// Pre- and post-restore hooks: an http(s) URL gets a JSON POST; anything else is a command run with /bin/sh -c.
import { execa } from 'execa';
import { UserError } from '../../lib/errors';
import { ToolError } from '../../lib/jobs/lifecycle';

export async function runHook(hook: string | null, event: 'pre-restore' | 'post-restore', info: { target: string; database: string }, signal: AbortSignal) {
  if (!hook?.trim()) return null;
  if (/^https?:\/\//.test(hook)) {
    const res = await fetch(hook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event, ...info }),
      signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
    }).catch((err: Error) => {
      throw new UserError('HOOK_FAILED', `The ${event} hook ${hook} did not answer: ${err.message}.`);
    });
    if (!res.ok) throw new UserError('HOOK_FAILED', `The ${event} hook ${hook} answered HTTP ${res.status}.`);
    return `HTTP ${res.status}`;
  }
  // An admin-configured command: a shell line on purpose (it is the admin's own script), with a time limit.
  const r = await execa('/bin/sh', ['-c', hook], {
    env: { LIFEBOAT_EVENT: event, LIFEBOAT_TARGET: info.target, LIFEBOAT_DATABASE: info.database },
    cancelSignal: signal,
    timeout: 120_000,
    reject: false,
    all: true,
  });
  if (r.exitCode !== 0) throw new ToolError('HOOK_FAILED', `The ${event} hook exited with ${r.exitCode ?? r.signal}.`, String(r.all ?? ''));
  return String(r.all ?? '').slice(-2000);
}
