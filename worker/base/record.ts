// record: a base backup's row in backup_log (backup_type 'base'): running from the start, succeeded with its WAL
// range, timeline, times, size, manifest and verification, or failed/cancelled (recordFailure of the logical
// backup's record step, which knows only the row).
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { BaseBackupSettings } from '../pg/pg-basebackup';
import type { RunningRow } from '../backup/record';
import type { Verification } from './verify';

export { recordFailure } from '../backup/record';

type Ctx = JobContext<unknown>;

/** The row's `format`: "tar" and where and how it was compressed. */
export function formatOf(s: BaseBackupSettings): string {
  return `tar, ${s.compression.method === 'none' ? 'uncompressed' : s.compression.method}, WAL ${s.walMethod}`;
}

function outcome(ctx: Ctx, err: unknown) {
  const stop = ctx.signal.aborted ? (ctx.signal.reason as UserError | undefined) : undefined;
  const e = err instanceof UserError ? err : null;
  return {
    status: stop?.code === 'JOB_CANCELLED' ? ('cancelled' as const) : ('failed' as const),
    errorCode: stop ? (stop.code ?? 'JOB_CANCELLED') : (e?.code ?? 'INTERNAL'),
    errorMessage: stop ? (stop.message ?? 'Stopped') : (e?.message ?? (err as Error).message),
  };
}

export async function recordBaseEarlyFailure(ctx: Ctx, target: { id: string; storageId: string | null }, settings: BaseBackupSettings, err: unknown) {
  await getDb()
    .backupLog.create({
      data: { backupType: 'base', backupFile: '(not written)', targetId: target.id, jobId: ctx.jobId, format: formatOf(settings), storageId: target.storageId, finishedAt: new Date(), durationMs: 0, ...outcome(ctx, err) },
    })
    .catch(() => {});
}

export async function openBaseRow(
  ctx: Ctx,
  r: { targetId: string; folder: string; settings: BaseBackupSettings; storageId: string | null; location: string; serverVersion: string; toolVersion: string; started: Date; scheduleId?: string | null },
): Promise<RunningRow> {
  const row = await getDb().backupLog.create({
    data: {
      backupType: 'base',
      backupFile: r.folder,
      status: 'running',
      targetId: r.targetId,
      scheduleId: r.scheduleId ?? null,
      jobId: ctx.jobId,
      format: formatOf(r.settings),
      storageId: r.storageId,
      location: r.location,
      serverVersion: r.serverVersion,
      toolVersion: r.toolVersion,
      createdAt: r.started,
    },
  });
  return { id: row.id, started: r.started };
}

export interface BaseFacts {
  startLsn: string;
  stopLsn: string;
  timeline: number;
  backupStartedAt: Date;
  backupStoppedAt: Date;
}

export async function recordBaseSuccess(row: RunningRow, r: BaseFacts & { size: number; sha256: string; finished: Date; manifest: object; verification: Verification }) {
  await getDb().backupLog.update({
    where: { id: row.id },
    data: {
      status: 'succeeded',
      backupSize: BigInt(r.size),
      checksumSha256: r.sha256,
      durationMs: r.finished.getTime() - row.started.getTime(),
      finishedAt: r.finished,
      verifiedAt: new Date(r.verification.checkedAt),
      manifest: r.manifest,
      startLsn: r.startLsn,
      stopLsn: r.stopLsn,
      timelineId: r.timeline,
      backupStartedAt: r.backupStartedAt,
      backupStoppedAt: r.backupStoppedAt,
      verification: r.verification as object,
    },
  });
}

/** A verification that failed stays on the row, so the history shows which file was damaged. */
export async function recordVerification(row: RunningRow, verification: Verification) {
  await getDb().backupLog.updateMany({ where: { id: row.id, status: 'running' }, data: { verification: verification as object } });
}
