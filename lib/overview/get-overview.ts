// The on-call overview: are workers alive, are there targets, what failed recently.
import { getDb } from '../db';
import { WORKER_STALE_SECONDS } from '../jobs/sweep-jobs';
import { targetHealth } from './target-health';

export async function getOverview() {
  const db = getDb();
  const since = new Date(Date.now() - 24 * 3600_000);
  const [workers, targetCount, recentJobs, failedLastDay, targets] = await Promise.all([
    db.worker.findMany({
      // Live workers, and ones that stopped within the hour (older history is noise at 3 a.m.).
      where: { OR: [{ stoppedAt: null }, { stoppedAt: { gt: new Date(Date.now() - 3600_000) } }] },
      orderBy: { lastSeenAt: 'desc' },
      take: 20,
    }),
    db.target.count(),
    db.job.findMany({
      orderBy: { createdAt: 'desc' },
      take: 8,
      select: { id: true, kind: true, status: true, createdAt: true, finishedAt: true, errorMessage: true, step: true, progress: true },
    }),
    db.job.count({ where: { status: 'failed', createdAt: { gt: since } } }),
    targetHealth(),
  ]);
  const now = Date.now();
  const withState = workers.map((w) => ({
    id: w.id,
    host: w.host,
    pid: w.pid,
    version: w.version,
    pool: w.pool,
    startedAt: w.startedAt,
    lastSeenAt: w.lastSeenAt,
    online: !w.stoppedAt && now - w.lastSeenAt.getTime() < WORKER_STALE_SECONDS * 1000,
    stoppedAt: w.stoppedAt,
  }));
  return {
    workers: withState,
    onlineWorkers: withState.filter((w) => w.online).length,
    targetCount,
    targets,
    recentJobs,
    failedLastDay,
    staleAfterSeconds: WORKER_STALE_SECONDS,
  };
}
