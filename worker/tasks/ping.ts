// The smoke job: proves UI -> API -> queue -> worker -> result, with steps, progress, log, cancel and failure.
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';

export async function ping(ctx: JobContext<JobPayload<'ping'>>) {
  const started = Date.now();
  const { message, seconds, fail } = ctx.payload;

  // wait: tick once a second so progress and cancel can be watched.
  await ctx.step('waiting');
  for (let i = 0; i < seconds; i++) {
    await ctx.progress((i / Math.max(1, seconds)) * 100, `second ${i + 1} of ${seconds}`);
    await ctx.log(`tick ${i + 1}/${seconds}`);
    await sleep(1000, undefined, { signal: ctx.signal });
  }

  // answer: fail on request (to prove failures travel), else reply with where it ran.
  await ctx.step('answering');
  if (fail) throw new UserError('PING_FAILED', `The ping "${message}" was asked to fail.`);
  return { reply: `pong: ${message}`, host: hostname(), pid: process.pid, elapsedMs: Date.now() - started };
}
