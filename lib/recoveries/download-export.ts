// Downloading an export of missing rows (written by a worker job beside the backups): audited, and streamed by a worker
// of the target's pool (the web process never opens a storage).
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';
import type { Role } from '../auth/roles';
import { startDownload } from '../downloads/stream-download';
import { getComparison, type ComparisonResult } from './comparison';

export interface ExportResult {
  format: 'sql' | 'csv';
  file: string;
  fileName: string;
  size: number;
  sha256: string;
  rows: number;
  tables: string[];
}

export async function openRecoveryExport(actor: Actor & { role: Role }, exportJobId: string, ip: string | null, signal?: AbortSignal) {
  const db = getDb();
  const job = await db.job.findUnique({ where: { id: exportJobId } });
  if (!job || job.kind !== 'recover-export') throw new UserError('NOT_FOUND', `There is no export ${exportJobId}.`);
  if (job.status !== 'succeeded' || !job.result) throw new UserError('JOB_NOT_SUCCEEDED', `The export ${exportJobId} is ${job.status}; only a finished export can be downloaded.`);
  const r = job.result as unknown as ExportResult;
  const { job: compare, result } = await getComparison((job.payload as { compareJobId: string }).compareJobId);
  const target = await db.target.findUnique({ where: { id: (result as ComparisonResult).targetId }, select: { id: true, workerPool: true } });
  const file = await startDownload(actor, { of: 'export', exportJobId }, {
    audit: (tx) =>
      writeAudit(tx, actor, 'recovery.download', { entityType: 'job', entityId: exportJobId, params: { compareJobId: compare.id, format: r.format, tables: r.tables, rows: r.rows }, ip }),
    targetId: target?.id ?? null,
    pool: target?.workerPool ?? 'default',
    ip,
    signal,
  });
  return { stream: file.stream, size: file.size, name: r.fileName, sha256: r.sha256, format: r.format, jobId: file.jobId };
}
