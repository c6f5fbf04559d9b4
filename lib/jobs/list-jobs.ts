// Job lists and details for the console: status, step, progress, error and the log.
import { getDb } from '../db';
import { UserError } from '../errors';
import type { JobStatus } from '../generated/prisma/enums';
import { hasRole, type Role } from '../auth/roles';
import { cancelRight } from './cancel-job';

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

export async function listJobs(opts: { status?: JobStatus; kind?: string; limit: number; before?: Date }) {
  return getDb().job.findMany({
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
}

/** Kinds whose results hold production rows: shown to operators and admins only. */
const rowDataKinds = new Set(['recover-compare', 'recover-reinsert', 'recover-export']);

/** One job with its log lines after `afterLogId` (so a page polls only what is new). */
export async function getJob(id: string, afterLogId = 0n, role: Role = 'viewer') {
  const db = getDb();
  const found = await db.job.findUnique({ where: { id }, select: jobSelect });
  if (!found) throw new UserError('NOT_FOUND', `There is no job ${id}.`);
  const job = rowDataKinds.has(found.kind) && !hasRole(role, 'operator') ? { ...found, result: null } : found;
  const logs = await db.jobLog.findMany({
    where: { jobId: id, id: { gt: afterLogId } },
    orderBy: { id: 'asc' },
    take: 1000,
    select: { id: true, at: true, level: true, line: true },
  });
  const right = cancelRight(role, found);
  // Whether this person may cancel, and why not: the job page shows the reason instead of a button that fails.
  const cancel = right.allowed ? { allowed: true, reason: null } : { allowed: false, code: right.code, reason: right.message };
  return { job, logs, cancel };
}
