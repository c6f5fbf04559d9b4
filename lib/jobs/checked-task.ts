// The worker's check of what a task returns: the result must match its kind's schema (lib/jobs/kinds.ts) before it is
// stored, so the pages can trust what they read. A mismatch is a bug in Lifeboat: before the point of no return the
// job fails as INTERNAL; after it (ctx.commit: production was swapped or overwritten) the work is done and failing the
// job would tell a person it was not, so the job keeps its outcome, the raw result is stored (pages read it through
// jobResult, which shows "no result" for a mismatch) and the issues are warnings. The issues always go to the job's
// log and the worker's.
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
    // The task passed the point of no return once a commit it asked for went through (a refused one throws).
    let committed = false;
    const result = await task({
      ...ctx,
      async commit() {
        await ctx.commit();
        committed = true;
      },
    });
    const issues = resultIssues(kind, asStored(result));
    if (issues.length) {
      console.error(`[worker] job ${ctx.jobId} (${kind}): its result does not match the schema${committed ? ' (kept: the job passed its point of no return)' : ''}:`, issues);
      const level = committed ? 'warn' : 'error';
      for (const line of issues.slice(0, 20)) await ctx.log(`result does not match its schema: ${line}`, level);
      if (issues.length > 20) await ctx.log(`(${issues.length - 20} more problems)`, level);
      const count = `${issues.length} problem${issues.length === 1 ? '' : 's'}`;
      if (committed) {
        await ctx.log(`the job passed its point of no return and did its work, so it stays succeeded; its result is stored as the task returned it (${count} above; a bug in Lifeboat)`, 'warn');
        return result;
      }
      throw new UserError('INTERNAL', `The job "${jobKinds[kind].label}" did its work, but its result does not match what the console expects (${count}, listed in the log).`);
    }
    return result;
  };
}
