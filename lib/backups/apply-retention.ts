// Retention (worker only: it deletes files): keep N days or the last N per schedule, never the target's newest good backup.
import { getDb } from '../db';
import { systemActor, writeAudit } from '../audit/write-audit';
import { defaultStoragePath, LocalStorage } from '../storage/local-storage';

export async function applyRetention(scheduleId: string, opts: { log?: (line: string) => unknown; now?: Date } = {}) {
  const db = getDb();
  const log = opts.log ?? (() => {});
  const schedule = await db.schedule.findUnique({ where: { id: scheduleId }, include: { target: { include: { storage: true } } } });
  if (!schedule || (schedule.retentionDays === null && schedule.retentionCount === null)) return [];
  const now = opts.now ?? new Date();
  const kept = await db.backupLog.findMany({
    where: { scheduleId, status: 'succeeded', deletedAt: null },
    orderBy: { createdAt: 'desc' },
  });
  const newestOfTarget = await db.backupLog.findFirst({
    where: { targetId: schedule.targetId, status: 'succeeded', deletedAt: null },
    orderBy: { createdAt: 'desc' },
    select: { id: true },
  });
  const expired = kept.filter((b, i) => {
    if (b.id === newestOfTarget?.id) return false;
    const byCount = schedule.retentionCount !== null && i >= schedule.retentionCount;
    const byAge = schedule.retentionDays !== null && now.getTime() - b.createdAt.getTime() > schedule.retentionDays * 86_400_000;
    return schedule.retentionCount !== null && schedule.retentionDays !== null ? byCount && byAge : byCount || byAge;
  });
  const storage = new LocalStorage(schedule.target.storage?.path ?? defaultStoragePath());
  const removed: typeof expired = [];
  for (const b of expired) {
    try {
      for (const name of [b.backupFile, `${b.backupFile}.manifest.json`, b.globalsFile ?? `${b.backupFile}.globals.sql`]) await storage.remove(name);
    } catch (err) {
      // Not marked deleted: the row keeps saying where the file is, and the next run tries again.
      await log(`retention: could not remove ${b.backupFile}: ${(err as Error).message}`);
      continue;
    }
    removed.push(b);
    await db.$transaction(async (tx) => {
      await tx.backupLog.update({ where: { id: b.id }, data: { deletedAt: now } });
      await writeAudit(tx, systemActor, 'backup.delete', {
        entityType: 'backup',
        entityId: String(b.id),
        params: { file: b.backupFile, createdAt: b.createdAt.toISOString(), reason: 'retention', retentionDays: schedule.retentionDays, retentionCount: schedule.retentionCount },
      });
    });
    await log(`retention: deleted ${b.backupFile} (from ${b.createdAt.toISOString()})`);
  }
  return removed.map((b) => b.id);
}
