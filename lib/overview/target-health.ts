// Is each target protected right now? Last good backup's age against its schedule's interval, and the last run's result.
// Uploaded dumps never count: a file someone uploaded says nothing about whether this target's own backups work (and
// its created_at is the upload's time, not the dump's), so they are left out even when they are of the target's database.
import { getDb } from '../db';
import { Prisma } from '../generated/prisma/client';
import { KEPT_BACKUP_SQL } from '../backups/kept';
import { nextRuns } from '../schedules/cron';
import { connectionStatuses } from '../targets/target-status';

// unreachable: the last backup did not fail, but the newest evidence (a connection test) says Lifeboat cannot connect,
// the database is gone or the user cannot read it: the next backup will fail, whatever older backups say.
export type Protection = 'ok' | 'overdue' | 'failing' | 'never' | 'unscheduled' | 'disabled' | 'unreachable';

export async function targetHealth(now = new Date()) {
  const db = getDb();
  const targets = await db.target.findMany({ orderBy: { name: 'asc' }, include: { schedules: { where: { enabled: true } } } });
  const lastGood = await db.$queryRaw<{ target_id: string; at: Date }[]>`
    SELECT target_id, max(created_at) AS at FROM backup_log WHERE status = 'succeeded' AND ${Prisma.raw(KEPT_BACKUP_SQL)} AND target_id IS NOT NULL AND backup_type <> 'uploaded' GROUP BY target_id`;
  // The newest run is every row of the newest backup job: a whole-server target's run fails when any of its
  // databases failed, even when databases after it (alphabetically, so later rows) succeeded.
  const lastRun = await db.$queryRaw<{ target_id: string; status: string; error_message: string | null; at: Date }[]>`
    WITH newest AS (
      SELECT DISTINCT ON (target_id) target_id, job_id, created_at FROM backup_log
      WHERE target_id IS NOT NULL AND status IN ('succeeded', 'failed') AND backup_type <> 'uploaded'
      ORDER BY target_id, created_at DESC)
    SELECT b.target_id, CASE WHEN bool_or(b.status = 'failed') THEN 'failed' ELSE 'succeeded' END AS status,
      string_agg(CASE WHEN b.status = 'failed' THEN coalesce(b.database_name || ': ', '') || coalesce(b.error_message, b.error_code, 'failed') END, '; ' ORDER BY b.database_name) AS error_message,
      max(b.created_at) AS at
    FROM backup_log b JOIN newest n ON n.target_id = b.target_id
      AND (b.job_id = n.job_id OR (n.job_id IS NULL AND b.job_id IS NULL AND b.created_at = n.created_at))
    WHERE b.status IN ('succeeded', 'failed') AND b.backup_type <> 'uploaded'
    GROUP BY b.target_id`;
  const lastDrill = await db.$queryRaw<{ target_id: string; status: string; restore_ms: number | null; started_at: Date }[]>`
    SELECT DISTINCT ON (target_id) target_id, status, restore_ms, started_at FROM drills
    WHERE target_id IS NOT NULL AND status IN ('succeeded', 'failed') ORDER BY target_id, started_at DESC`;
  const connections = await connectionStatuses(targets.map((t) => t.id));
  return targets.map((t) => {
    const connection = connections.get(t.id)!;
    const drill = lastDrill.find((d) => d.target_id === t.id) ?? null;
    const good = lastGood.find((r) => r.target_id === t.id)?.at ?? null;
    const last = lastRun.find((r) => r.target_id === t.id) ?? null;
    // The tightest schedule sets the expectation: the gap between two of its runs, with half of it again as grace.
    const intervals = t.schedules.filter((s) => s.kind === 'logical').map((s) => {
      try {
        const [a, b] = nextRuns(s.cron, s.timezone, 2, now);
        return a && b ? b.getTime() - a.getTime() : null;
      } catch {
        return null;
      }
    }).filter((x): x is number => x !== null);
    const expectedMs = intervals.length ? Math.min(...intervals) : null;
    const ageMs = good ? now.getTime() - good.getTime() : null;
    let protection: Protection;
    if (t.disabled) protection = 'disabled';
    else if (last?.status === 'failed') protection = 'failing';
    else if (connection.tone === 'red') protection = 'unreachable';
    else if (!good) protection = 'never';
    else if (expectedMs === null) protection = 'unscheduled';
    else protection = ageMs! > expectedMs * 1.5 ? 'overdue' : 'ok';
    return {
      id: t.id,
      name: t.name,
      database: t.database,
      protection,
      lastGoodAt: good,
      ageMs,
      expectedMs,
      // The failed run says most (which databases, which error); else what the connection evidence found.
      lastError: last?.status === 'failed' ? last.error_message : connection.tone === 'red' ? connection.reason : null,
      connection,
      lastDrill: drill ? { status: drill.status, restoreMs: drill.restore_ms, at: drill.started_at } : null,
    };
  });
}
