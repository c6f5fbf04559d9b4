// record: the backup's row in backup_log: running from the start (the history shows every attempt), succeeded with
// its size, checksum and manifest, or failed/cancelled with the code and message a person sees.
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { DumpSettings } from '../pg/pg-dump';

type Ctx = JobContext<unknown>;

/** How the job ended for this row: a stop (cancel, expiry, lost worker) wins over the error it caused. */
function outcome(ctx: Ctx, err: unknown) {
  const stop = ctx.signal.aborted ? (ctx.signal.reason as UserError | undefined) : undefined;
  const e = err instanceof UserError ? err : null;
  return {
    status: stop?.code === 'JOB_CANCELLED' ? ('cancelled' as const) : ('failed' as const),
    errorCode: stop ? (stop.code ?? 'JOB_CANCELLED') : (e?.code ?? 'INTERNAL'),
    errorMessage: stop ? (stop.message ?? 'Stopped') : (e?.message ?? (err as Error).message),
  };
}

export async function recordEarlyFailure(ctx: Ctx, target: { id: string; database: string | null; storageId: string | null }, scheduleId: string | null, settings: DumpSettings, err: unknown) {
  await getDb()
    .backupLog.create({
      data: {
        backupType: 'logical',
        backupFile: '(not written)',
        targetId: target.id,
        scheduleId,
        jobId: ctx.jobId,
        databaseName: target.database,
        format: settings.format,
        storageId: target.storageId,
        finishedAt: new Date(),
        durationMs: 0,
        ...outcome(ctx, err),
      },
    })
    .catch(() => {});
}

export interface RunningRow {
  id: bigint;
  started: Date;
}

export async function openBackupRow(
  ctx: Ctx,
  r: { targetId: string; scheduleId: string | null; database: string; file: string; format: string; storageId: string | null; location: string; serverVersion: string; toolVersion: string; started: Date },
): Promise<RunningRow> {
  const row = await getDb().backupLog.create({
    data: {
      backupType: 'logical',
      backupFile: r.file,
      status: 'running',
      targetId: r.targetId,
      scheduleId: r.scheduleId,
      jobId: ctx.jobId,
      databaseName: r.database,
      format: r.format,
      storageId: r.storageId,
      location: r.location,
      serverVersion: r.serverVersion,
      toolVersion: r.toolVersion,
      createdAt: r.started,
    },
  });
  return { id: row.id, started: r.started };
}

export async function recordSuccess(row: RunningRow, r: { size: number; sha256: string; finished: Date; manifest: object; keyTableCounts: Record<string, number>; globalsFile: string }) {
  await getDb().backupLog.update({
    where: { id: row.id },
    data: {
      status: 'succeeded',
      backupSize: BigInt(r.size),
      checksumSha256: r.sha256,
      durationMs: r.finished.getTime() - row.started.getTime(),
      finishedAt: r.finished,
      verifiedAt: r.finished,
      manifest: r.manifest,
      keyTableCounts: r.keyTableCounts,
      globalsFile: r.globalsFile,
    },
  });
}

/** Guarded: a row the sweep already failed keeps the sweep's words. */
export async function recordFailure(ctx: Ctx, row: RunningRow, err: unknown) {
  await getDb().backupLog.updateMany({
    where: { id: row.id, status: 'running' },
    data: { finishedAt: new Date(), durationMs: Date.now() - row.started.getTime(), ...outcome(ctx, err) },
  });
}
