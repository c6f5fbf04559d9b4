// Retention (worker only: it deletes files): keep N days or the last N per schedule and database, never a database's
// newest good backup; files are removed from the storage that holds each backup.
import { getDb } from '../db';
import { systemActor, writeAudit } from '../audit/write-audit';
import type { Storage } from '../storage/storage';
import { storageFor } from '../storage/storage-for';

/** An artifact is there when its object is, or (a directory-format dump) objects under its name are. */
async function present(storage: Storage, name: string): Promise<boolean> {
  return (await storage.stat(name)) !== null || (await storage.list(`${name}/`)).length > 0;
}

/** Removes an artifact: its object, or every object under its name (a directory-format dump). */
async function removeArtifact(storage: Storage, name: string): Promise<void> {
  for (const o of await storage.list(`${name}/`)) await storage.remove(o.name);
  await storage.remove(name);
}

export async function applyRetention(scheduleId: string, opts: { log?: (line: string) => unknown; now?: Date } = {}) {
  const db = getDb();
  const log = opts.log ?? (() => {});
  const schedule = await db.schedule.findUnique({ where: { id: scheduleId }, include: { target: true } });
  if (!schedule || (schedule.retentionDays === null && schedule.retentionCount === null)) return [];
  const now = opts.now ?? new Date();
  const kept = await db.backupLog.findMany({
    where: { scheduleId, status: 'succeeded', deletedAt: null },
    orderBy: { createdAt: 'desc' },
    include: { storage: true },
  });
  // Per database: a whole-server target keeps N of each database, and each database's newest good backup stays
  // (its own backup: an uploaded dump, however new, is no proof the schedule works and never takes that place).
  const newest = await db.backupLog.findMany({
    where: { targetId: schedule.targetId, status: 'succeeded', deletedAt: null, backupType: { not: 'uploaded' } },
    orderBy: { createdAt: 'desc' },
    distinct: ['databaseName'],
    select: { id: true },
  });
  const protectedIds = new Set(newest.map((b) => b.id));
  const rank = new Map<string, number>();
  const expired = kept.filter((b) => {
    const i = rank.get(b.databaseName ?? '') ?? 0;
    rank.set(b.databaseName ?? '', i + 1);
    if (protectedIds.has(b.id)) return false;
    const byCount = schedule.retentionCount !== null && i >= schedule.retentionCount;
    const byAge = schedule.retentionDays !== null && now.getTime() - b.createdAt.getTime() > schedule.retentionDays * 86_400_000;
    return schedule.retentionCount !== null && schedule.retentionDays !== null ? byCount && byAge : byCount || byAge;
  });
  const removed: typeof expired = [];
  for (const b of expired) {
    // The storage that holds this backup (the target may have moved to another one since), as the restore finds it.
    const storage = storageFor(b);
    try {
      // A file that is not there (moved by hand, or a storage on another host) was not deleted: say so, keep the row.
      if (!(await present(storage, b.backupFile))) {
        await log(`retention: ${b.backupFile} is not in ${storage.describe()} on this host; not marked deleted`);
        continue;
      }
      for (const name of [b.backupFile, `${b.backupFile}.manifest.json`, b.globalsFile ?? `${b.backupFile}.globals.sql`]) await removeArtifact(storage, name);
      if (await present(storage, b.backupFile)) throw new Error('it is still there after removal');
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
