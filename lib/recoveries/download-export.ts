// Opening an export of missing rows (written by a worker job beside the backups) for download; audited.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';
import { LocalStorage } from '../storage/local-storage';
import { comparisonStorageRoot, getComparison } from './comparison';

export interface ExportResult {
  format: 'sql' | 'csv';
  file: string;
  fileName: string;
  size: number;
  sha256: string;
  rows: number;
  tables: string[];
}

export async function openRecoveryExport(actor: Actor, exportJobId: string, ip: string | null) {
  const db = getDb();
  const job = await db.job.findUnique({ where: { id: exportJobId } });
  if (!job || job.kind !== 'recover-export') throw new UserError('NOT_FOUND', `There is no export ${exportJobId}.`);
  if (job.status !== 'succeeded' || !job.result) throw new UserError('JOB_NOT_SUCCEEDED', `The export ${exportJobId} is ${job.status}; only a finished export can be downloaded.`);
  const r = job.result as unknown as ExportResult;
  const { job: compare } = await getComparison((job.payload as { compareJobId: string }).compareJobId);
  const storage = new LocalStorage(await comparisonStorageRoot((compare.payload as { backupId: string }).backupId));
  const path = storage.localPath(r.file);
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) {
    throw new UserError('NOT_FOUND', `The export file is gone: exports are removed with the comparison's scratch copy (re-insert, discard, or after 24 hours).`, 'Run the comparison again, then export.');
  }
  await db.$transaction((tx) =>
    writeAudit(tx, actor, 'recovery.download', { entityType: 'job', entityId: exportJobId, params: { compareJobId: compare.id, format: r.format, tables: r.tables, rows: r.rows }, ip }),
  );
  return { stream: createReadStream(path), size: st.size, name: r.fileName, sha256: r.sha256, format: r.format };
}
