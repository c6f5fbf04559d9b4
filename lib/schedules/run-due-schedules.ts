// The scheduler tick (a pg-boss cron job, every minute, on a worker): starts each due schedule's backup exactly once.
import { getDb } from '../db';
import { systemActor } from '../audit/write-audit';
import { UserError } from '../errors';
import { startBackup } from '../backups/start-backup';
import { startBaseBackup } from '../backups/start-base-backup';
import { startTargetJob } from '../restores/start-restore';
import type { JobPayload } from '../jobs/kinds';
import { nextRuns } from './cron';

type BaseCompression = NonNullable<JobPayload<'base-backup'>['compression']>;

export async function runDueSchedules(now = new Date(), log: (l: string) => void = () => {}) {
  const db = getDb();
  const due = await db.schedule.findMany({ where: { enabled: true, nextRunAt: { lte: now }, target: { disabled: false } } });
  const started: string[] = [];
  for (const s of due) {
    const [next] = nextRuns(s.cron, s.timezone, 1, now);
    // Compare-and-set on next_run_at: of several workers ticking together, one wins the run.
    const claimed = await db.schedule.updateMany({ where: { id: s.id, nextRunAt: s.nextRunAt }, data: { nextRunAt: next ?? null, lastRunAt: now } });
    if (claimed.count !== 1) continue;
    try {
      const actor = { ...systemActor, role: 'admin' as const };
      const job =
        s.kind === 'drill'
          ? await startTargetJob(actor, 'drill', s.targetId, {}, null)
          : s.kind === 'base'
            ? await startBaseBackup(actor, s.targetId, { scheduleId: s.id, ...(s.baseCompression ? { compression: s.baseCompression as BaseCompression } : {}) })
            : await startBackup(actor, s.targetId, { scheduleId: s.id });
      started.push(job.id);
      log(`schedule ${s.id}: started ${s.kind === 'drill' ? 'drill' : s.kind === 'base' ? 'base backup' : 'backup'} job ${job.id}`);
    } catch (err) {
      // A backup still running from the last run is reported, not queued twice.
      log(`schedule ${s.id}: ${err instanceof UserError ? err.message : String(err)}`);
    }
  }
  return started;
}
