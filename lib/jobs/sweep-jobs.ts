// The sweep: fails jobs whose worker died or whose time ran out, and removes the partial files of this host's jobs.
import { hostname } from 'node:os';
import { getDb } from '../db';
import { errorRegistry } from '../errors';
import { listJobScratch, removeJobScratch } from './scratch';
import { removeFiles } from './lifecycle';
import type { Storage } from '../storage/storage';
import { storageFor } from '../storage/storage-for';
import { deleteEndedDownloads } from '../downloads/download-window';

export const HEARTBEAT_SECONDS = 5;

/**
 * The host this worker's files live on: LIFEBOAT_WORKER_HOST (checked in lib/env.ts), else the OS host name.
 * Two containers sharing a host name, or one worker moved to another machine, set it explicitly.
 */
export function workerHost(): string {
  return process.env.LIFEBOAT_WORKER_HOST || hostname();
}
/** A worker silent this long is dead. */
export const WORKER_STALE_SECONDS = 30;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Marks workers of this host whose process is gone as stopped (a restart after kill -9 need not wait for
 * the heartbeat to go stale), then fails every running job owned by a stopped or silent worker, and every
 * running job past its expiry. Returns the ids it failed.
 */
export async function sweepJobs(selfId: string): Promise<string[]> {
  const db = getDb();
  const host = workerHost();
  const local = await db.worker.findMany({ where: { host, stoppedAt: null, id: { not: selfId } } });
  // Our own pid on another row is a previous life of this process (a restarted container reuses pids).
  const dead = local.filter((w) => w.pid === process.pid || !isAlive(w.pid)).map((w) => w.id);
  if (dead.length) await db.worker.updateMany({ where: { id: { in: dead } }, data: { stoppedAt: new Date() } });

  const lost = await db.$queryRaw<{ id: string }[]>`
    UPDATE jobs SET status = 'failed', error_code = 'WORKER_LOST',
      error_message = 'The worker running this job stopped before it finished.',
      error_hint = ${errorRegistry.WORKER_LOST.hint}, finished_at = now()
    WHERE status = 'running' AND (worker_id IS NULL OR worker_id IN (
      SELECT id FROM workers WHERE stopped_at IS NOT NULL
         OR last_seen_at < now() - make_interval(secs => ${WORKER_STALE_SECONDS}::int)))
    RETURNING id`;
  const expired = await db.$queryRaw<{ id: string }[]>`
    UPDATE jobs SET status = 'failed', error_code = 'JOB_EXPIRED',
      error_message = 'The job ran past its time limit and was stopped.',
      error_hint = ${errorRegistry.JOB_EXPIRED.hint}, finished_at = now()
    WHERE status = 'running' AND expires_at < now() - interval '30 seconds'
    RETURNING id`;
  const swept = [...lost, ...expired];
  // Backups those jobs were writing end with them: never left "running" in backup_log.
  if (swept.length) {
    await db.backupLog.updateMany({
      where: { jobId: { in: swept.map((j) => j.id) }, status: 'running' },
      data: { status: 'failed', errorCode: 'WORKER_LOST', errorMessage: 'The worker stopped before the backup finished; its partial file is removed by a worker on the host that wrote it.', finishedAt: new Date() },
    });
  }
  for (const job of swept) {
    await db.jobLog.create({ data: { jobId: job.id, level: 'error', line: 'failed by the sweep: its worker is gone or its time ran out' } });
  }
  // Files live on the host whose worker wrote them: only a worker of that host removes them and clears the list
  // (this covers the jobs just failed and those a crashed sweep left). Another host's files wait for its worker.
  const cleaned = await db.$queryRaw<{ id: string; partial_paths: string[] | null }[]>`
    SELECT j.id, j.partial_paths FROM jobs j JOIN workers w ON w.id = j.worker_id
    WHERE j.status NOT IN ('queued', 'running') AND cardinality(j.partial_paths) > 0 AND w.host = ${host}`;
  if (cleaned.length) {
    const storages = [...(await db.storage.findMany({ where: { kind: 'local' } })).map((storage) => storageFor({ storage })), storageFor({})];
    await discardPartials(cleaned.flatMap((j) => j.partial_paths ?? []), storages);
  }
  for (const job of cleaned) {
    await db.job.updateMany({ where: { id: job.id, partialPaths: { equals: job.partial_paths ?? [] } }, data: { partialPaths: [] } });
    await db.jobLog.create({ data: { jobId: job.id, level: 'info', line: `the sweep on ${host} removed ${(job.partial_paths ?? []).length} partial file(s) or folder(s)` } });
  }
  await sweepScratch(host);
  // Download chunks of ended jobs (a worker that died mid-download could not delete them): rows, not files, so any host.
  await deleteEndedDownloads();
  return swept.map((j) => j.id);
}

/**
 * A dead job's partial files: an incomplete object goes through the storage that put() reported it to
 * (discardIncomplete, which refuses a handle that is not its own); anything else on the list (a passfile folder)
 * is a file of this host's worker, removed by its path. Never throws.
 */
export async function discardPartials(paths: string[], storages: Storage[]): Promise<void> {
  const local: string[] = [];
  for (const handle of paths) {
    let discarded = false;
    for (const storage of storages) {
      discarded = await storage.discardIncomplete(handle).then(() => true, () => false);
      if (discarded) break;
    }
    if (!discarded) local.push(handle);
  }
  await removeFiles(local);
}

/**
 * Removes the scratch folders of this host's jobs that are no longer queued or running (a worker that died
 * mid-job left them; the job may have been failed by a worker on another host). A folder of a running job stays.
 */
async function sweepScratch(host: string): Promise<void> {
  // Job ids are uuids; anything else in the folder is not ours to judge.
  const ids = (await listJobScratch()).filter((n) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(n));
  if (!ids.length) return;
  const db = getDb();
  const live = await db.job.findMany({ where: { id: { in: ids }, status: { in: ['queued', 'running'] } }, select: { id: true } });
  const keep = new Set(live.map((j) => j.id));
  for (const id of ids.filter((i) => !keep.has(i))) {
    const removed = await removeJobScratch(id).then(() => true, () => false);
    if (!removed) continue;
    const job = await db.job.findUnique({ where: { id }, select: { id: true } });
    if (job) await db.jobLog.create({ data: { jobId: id, level: 'info', line: `the sweep on ${host} removed the job's scratch folder` } });
  }
}
