// A finished row comparison as the re-insert, export, discard and the console see it: its result's shape, its
// scratch copy's lifetime, and whether a re-insert or discard has already used it up.
import { getDb } from '../db';
import { UserError } from '../errors';
import { defaultStoragePath } from '../storage/local-storage';

/** The scratch copy is kept this long for a re-insert or a download, then dropped by the next recovery job on the target. */
export const SCRATCH_TTL_MS = 24 * 3600 * 1000;

export type PreviewRow = Record<string, string | null>;

export interface TableComparison {
  /** "schema.table" as the archive names it. */
  table: string;
  schema: string;
  name: string;
  /** A partitioned table's partitions (all levels), restored and compared together under its key; absent in older results. */
  partitions?: string[];
  primaryKey: string[];
  /** The columns compared (those both copies have), in production's order; previews use these names. */
  columns: string[];
  columnsOnlyInBackup: string[];
  columnsOnlyInProduction: string[];
  backupRows: number;
  productionRows: number;
  /** Production rows whose key the backup does not have (inserted since the backup). */
  newInProduction: number;
  missing: { count: number; preview: PreviewRow[]; keys: string[][] };
  changed: { count: number; preview: { key: string[]; backup: PreviewRow; production: PreviewRow }[] };
}

export interface ComparisonResult {
  backupId: string;
  backupTakenAt: string;
  targetId: string;
  target: string;
  database: string;
  scratchDatabase: string;
  scratchExpiresAt: string;
  tables: TableComparison[];
  durationMs: number;
}

/** Export and download files live beside the backups, one folder a comparison; they go with the scratch copy. */
export function exportFolder(compareJobId: string): string {
  return `recoveries/${compareJobId}`;
}

/** The storage folder of the comparison's backup (where its exports are written). */
export async function comparisonStorageRoot(backupId: string): Promise<string> {
  const b = await getDb().backupLog.findUnique({ where: { id: BigInt(backupId) }, include: { storage: true } });
  return b?.storage?.path ?? b?.location ?? defaultStoragePath();
}

/** The comparison job and its result; refuses one that is not a succeeded comparison. */
export async function getComparison(compareJobId: string) {
  const job = await getDb().job.findUnique({ where: { id: compareJobId } });
  if (!job || job.kind !== 'recover-compare') throw new UserError('NOT_FOUND', `There is no row comparison ${compareJobId}.`);
  if (job.status !== 'succeeded' || !job.result) {
    throw new UserError('JOB_NOT_SUCCEEDED', `The row comparison ${compareJobId} ${job.status === 'failed' ? 'failed' : `is ${job.status}`}; only a finished comparison can be used.`);
  }
  return { job, result: job.result as unknown as ComparisonResult };
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
