// A finished row comparison as the re-insert, export, discard and the console see it: its result's shape, its
// scratch copy's lifetime, and whether a re-insert or discard has already used it up.
import { getDb } from '../db';
import type { z } from 'zod';
import { UserError } from '../errors';
import { recoverCompareResult, type JobResult, type tableComparison } from '../jobs/kinds';

/** The scratch copy is kept this long for a re-insert or a download, then dropped by the next recovery job on the target. */
export const SCRATCH_TTL_MS = 24 * 3600 * 1000;

export type PreviewRow = Record<string, string | null>;

/** One compared table, and the comparison as a whole: the recover-compare job's result schema (lib/jobs/kinds.ts). */
export type TableComparison = z.infer<typeof tableComparison>;
export type ComparisonResult = JobResult<'recover-compare'>;

/** Where exports were written before they moved under the target (`<target>/_exports/`, worker/recover/exports.ts):
 *  one folder a comparison at the storage root. Their removal still looks here. */
export function exportFolder(compareJobId: string): string {
  return `recoveries/${compareJobId}`;
}

/** The comparison job and its result; refuses one that is not a succeeded comparison. */
export async function getComparison(compareJobId: string) {
  const job = await getDb().job.findUnique({ where: { id: compareJobId } });
  if (!job || job.kind !== 'recover-compare') throw new UserError('NOT_FOUND', `There is no row comparison ${compareJobId}.`);
  if (job.status !== 'succeeded' || !job.result) {
    throw new UserError('JOB_NOT_SUCCEEDED', `The row comparison ${compareJobId} ${job.status === 'failed' ? 'failed' : `is ${job.status}`}; only a finished comparison can be used.`);
  }
  const parsed = recoverCompareResult.safeParse(job.result);
  if (!parsed.success) throw new UserError('INTERNAL', `The row comparison ${compareJobId} has a result this version cannot read: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`);
  return { job, result: parsed.data };
}

/** The re-insert or discard that used the comparison's scratch copy (queued, running or done), if any. */
export async function consumingJob(compareJobId: string, exceptJobId?: string) {
  return getDb().job.findFirst({
    where: {
      ...(exceptJobId ? { id: { not: exceptJobId } } : {}),
      kind: { in: ['recover-reinsert', 'recover-discard'] },
      status: { in: ['queued', 'running', 'succeeded'] },
      payload: { path: ['compareJobId'], equals: compareJobId },
    },
    orderBy: { createdAt: 'desc' },
    select: { id: true, kind: true, status: true },
  });
}

/**
 * A usable comparison: succeeded, its scratch copy not used up by a re-insert or discard, and not expired (a discard
 * may still drop an expired copy the sweep has not reached yet).
 */
export async function usableComparison(compareJobId: string, opts: { exceptJobId?: string; now?: number; allowExpired?: boolean } = {}) {
  const c = await getComparison(compareJobId);
  const used = await consumingJob(compareJobId, opts.exceptJobId);
  if (used) {
    const what = used.kind === 'recover-reinsert' ? 're-insert' : 'discard';
    throw new UserError('RECOVERY_SCRATCH_GONE', `This comparison's scratch copy ${used.status === 'succeeded' ? `was dropped by a ${what}` : `is being dropped by a ${what} (${used.status})`} (job ${used.id}).`);
  }
  if (!opts.allowExpired && (opts.now ?? Date.now()) > Date.parse(c.result.scratchExpiresAt)) {
    throw new UserError('RECOVERY_SCRATCH_GONE', `This comparison's scratch copy expired at ${c.result.scratchExpiresAt} (copies are kept ${SCRATCH_TTL_MS / 3600_000} hours).`);
  }
  return c;
}
