// Job lists and details for the console: status, step, progress, error and the log.
import { getDb } from '../db';
import { UserError } from '../errors';
import type { JobStatus } from '../generated/prisma/enums';
import { hasRole, type Role } from '../auth/roles';
import { cancelRight } from './cancel-job';
import { runAgainRight } from './run-again';

const jobSelect = {
  id: true,
  kind: true,
  queue: true,
  status: true,
  payload: true,
  result: true,
  step: true,
  progress: true,
  progressDetail: true,
  errorCode: true,
  errorMessage: true,
  errorHint: true,
  errorDetail: true,
  cancelRequested: true,
  committedAt: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  expiresAt: true,
  createdBy: { select: { email: true, name: true } },
  worker: { select: { host: true, pid: true } },
} as const;

/** Any field named like a hook (`hooks`, `preRestoreHook` ...), at any depth: its text and output are admin-only. */
const hookKey = /hook/i;
function withoutHooks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutHooks);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([k]) => !hookKey.test(k)).map(([k, v]) => [k, withoutHooks(v)]));
  }
  return value;
}

const HIDDEN = '(shown to admins only)';
/** Log lines that carry a hook's output or its text (a URL, a command in an error): redacted, never dropped, so counts stay exact. */
function redactHookLine(line: string): string {
  const hook = /^(pre|post)-restore hook( failed)?/.exec(line);
  if (hook) return hook[2] ? `${hook[0]} ${HIDDEN}` : `${hook[0]}: ${HIDDEN}`;
  const failed = /^(failed|cancelled): \[HOOK_FAILED\]/.exec(line);
  if (failed) return `${failed[0]} ${HIDDEN}`;
  return line;
}

/**
 * A job as `role` may see it. Restore hooks run the admin's own commands: their text and output (in the result,
 * the payload, a HOOK_FAILED error and the log) are for admins only.
 */
export function jobForRole<J extends { payload: unknown; errorCode: string | null; errorMessage: string | null; errorDetail: string | null; result?: unknown }>(job: J, role: Role): J {
  if (hasRole(role, 'admin')) return job;
  const hookFailed = job.errorCode === 'HOOK_FAILED';
  return {
    ...job,
    payload: withoutHooks(job.payload),
    ...('result' in job ? { result: withoutHooks(job.result) } : {}),
    errorMessage: hookFailed ? 'A restore hook failed; its text and output are shown to admins only.' : job.errorMessage,
    errorDetail: hookFailed ? null : job.errorDetail,
  };
}

export async function listJobs(opts: { status?: JobStatus; kind?: string; limit: number; before?: Date }, role: Role) {
  const jobs = await getDb().job.findMany({
    where: {
      ...(opts.status ? { status: opts.status } : {}),
      ...(opts.kind ? { kind: opts.kind } : {}),
      ...(opts.before ? { createdAt: { lt: opts.before } } : {}),
    },
    orderBy: { createdAt: 'desc' },
    take: opts.limit,
    // Lists never carry results: some (row recoveries) hold production data a viewer may not see.
    select: { ...jobSelect, result: false },
  });
  return jobs.map((j) => jobForRole(j, role));
}

/** Kinds whose results hold production rows: shown to operators and admins only. */
const rowDataKinds = new Set(['recover-compare', 'recover-reinsert', 'recover-export']);

/** Which log lines to send: after an id (following), before an id (loading earlier), or the newest ones. */
export interface LogPage {
  afterLogId?: bigint;
  beforeLogId?: bigint;
  /** The newest `logLimit` lines (a live job's page opens on its tail). */
  tail?: boolean;
  logLimit?: number;
}

export const LOG_PAGE_DEFAULT = 1000;
export const LOG_PAGE_MAX = 5000;

/**
 * One job with one page of its log, ascending, and the counts around it (`earlier` before the first line sent,
 * `later` after the last), so a page is never cut short without saying so.
 */
export async function getJob(id: string, page: LogPage = {}, role: Role = 'viewer') {
  const db = getDb();
  const found = await db.job.findUnique({ where: { id }, select: jobSelect });
  if (!found) throw new UserError('NOT_FOUND', `There is no job ${id}.`);
  const job = jobForRole(rowDataKinds.has(found.kind) && !hasRole(role, 'operator') ? { ...found, result: null } : found, role);
  const limit = Math.min(Math.max(1, page.logLimit ?? LOG_PAGE_DEFAULT), LOG_PAGE_MAX);
  const select = { id: true, at: true, level: true, line: true } as const;
  const backwards = page.tail || page.beforeLogId !== undefined;
  const logs = backwards
    ? (
        await db.jobLog.findMany({
          where: { jobId: id, ...(page.beforeLogId !== undefined ? { id: { lt: page.beforeLogId } } : {}) },
          orderBy: { id: 'desc' },
          take: limit,
          select,
        })
      ).reverse()
    : await db.jobLog.findMany({ where: { jobId: id, id: { gt: page.afterLogId ?? 0n } }, orderBy: { id: 'asc' }, take: limit, select });
  // The window the page covers; with no line sent it is the empty gap at the cursor.
  const [lo, hi] = logs.length
    ? [logs[0]!.id, logs.at(-1)!.id]
    : backwards
      ? [page.beforeLogId ?? 0n, (page.beforeLogId ?? 0n) - 1n]
      : [(page.afterLogId ?? 0n) + 1n, page.afterLogId ?? 0n];
  const shown = hasRole(role, 'admin') ? logs : logs.map((l) => ({ ...l, line: redactHookLine(l.line) }));
  const [counts] = await db.$queryRaw<{ total: number; earlier: number; later: number }[]>`
    SELECT count(*)::int AS total, (count(*) FILTER (WHERE id < ${lo}))::int AS earlier, (count(*) FILTER (WHERE id > ${hi}))::int AS later
    FROM job_logs WHERE job_id = ${id}::uuid`;
  const right = cancelRight(role, found);
  // Whether this person may cancel, and why not: the job page shows the reason instead of a button that fails.
  const cancel = right.allowed ? { allowed: true, reason: null } : { allowed: false, code: right.code, reason: right.message };
  // Whether running it again can help (its failure code is retryable) and this person may: the page offers the button.
  const runAgain = runAgainRight(role, found);
  return { job, logs: shown, log: counts!, cancel, runAgain: { allowed: runAgain.allowed, reason: runAgain.reason } };
}
