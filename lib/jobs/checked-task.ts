// The worker's check of what a task returns: the result must match its kind's schema (lib/jobs/kinds.ts) before it is
// stored, so the pages can trust what they read. A mismatch is a bug in Lifeboat: the job fails as INTERNAL and the
// issues go to the job's log and the worker's.
import { UserError } from '../errors';
import { jobKinds, resultIssues, type JobKindName } from './kinds';
import type { JobContext } from './lifecycle';

/** What the row will hold and a page will read back: JSON (a Date becomes a string, an undefined field goes). */
function asStored(result: unknown): unknown {
  return result === undefined ? {} : JSON.parse(JSON.stringify(result));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Task = (ctx: JobContext<any>) => Promise<unknown>;

/** `task`, with its result checked against the schema of `kind` when it returns. */
export function checkedTask(kind: JobKindName, task: Task): Task {
  return async (ctx) => {
    const result = await task(ctx);
    const issues = resultIssues(kind, asStored(result));
    if (issues.length) {
      console.error(`[worker] job ${ctx.jobId} (${kind}): its result does not match the schema:`, issues);
      for (const line of issues.slice(0, 20)) await ctx.log(`result does not match its schema: ${line}`, 'error');
      if (issues.length > 20) await ctx.log(`(${issues.length - 20} more problems)`, 'error');
      throw new UserError(
        'INTERNAL',
        `The job "${jobKinds[kind].label}" did its work, but its result does not match what the console expects (${issues.length} problem${issues.length === 1 ? '' : 's'}, listed in the log).`,
      );
    }
    return result;
  };
}
