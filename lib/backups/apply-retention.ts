// Retention (worker only: it deletes files): keep N days or the last N per schedule and database, never a database's
// newest good backup; files are removed from the storage that holds each backup, manifest first, and a run stopped
// halfway is finished by the next one (the row is marked before the first object goes).
import { getDb } from '../db';
import { systemActor, writeAudit } from '../audit/write-audit';
import { workerHost } from '../jobs/sweep-jobs';
import type { Storage } from '../storage/storage';
import { storageFor } from '../storage/storage-for';
import { safeName } from '../targets/target-conn';
import { inferSegmentBytes, lsnSegment, walNotNeeded } from '../wal/wal-retention';
import { segmentName } from '../wal/wal-names';
import { keptBackupWhere } from './kept';

/** An artifact is there when its object is, or (a directory-format dump) objects under its name are. */
async function present(storage: Storage, name: string): Promise<boolean> {
  return (await storage.stat(name)) !== null || (await storage.list(`${name}/`)).length > 0;
}

/** Removes an artifact: every object under its name (a directory-format dump), then the name. How many objects went. */
async function removeArtifact(storage: Storage, name: string): Promise<number> {
  let removed = 0;
  for (const o of await storage.list(`${name}/`)) if ((await storage.remove(o.name)) === 'removed') removed++;
  if ((await storage.remove(name)) === 'removed') removed++;
  return removed;
}

/**
 * A backup's objects in the order they are removed: the manifest first (an artifact without its manifest is no
 * backup to anyone, docs/repository.md rule 3, so a run stopped later leaves an orphan, never a manifest describing
 * a missing dump), then the dump, then the globals file.
 */
function objectsOf(b: { backupFile: string; globalsFile: string | null; backupType: string }): string[] {
  // A base backup: its manifest (<target>/_base/<label>.manifest.json), then every object under <label>/.
  if (b.backupType === 'base') return [`${b.backupFile}.manifest.json`, b.backupFile];
  return [`${b.backupFile}.manifest.json`, b.backupFile, b.globalsFile ?? `${b.backupFile}.globals.sql`];
}

export async function applyRetention(scheduleId: string, opts: { log?: (line: string) => unknown; now?: Date } = {}) {
  const db = getDb();
  const log = opts.log ?? (() => {});
  const schedule = await db.schedule.findUnique({ where: { id: scheduleId }, include: { target: { include: { storage: true } } } });
  if (!schedule || (schedule.retentionDays === null && schedule.retentionCount === null)) return [];
  const now = opts.now ?? new Date();
  const rows = await db.backupLog.findMany({
    where: { scheduleId, status: 'succeeded', deletedAt: null },
    orderBy: { createdAt: 'desc' },
    include: { storage: true },
  });
  // A backup whose removal began (its manifest may be gone) is no backup any more: it is finished whatever the policy
  // says now, and it neither counts towards the kept N nor stays as the newest good one.
  const resuming = rows.filter((b) => b.deletingOn !== null);
  const kept = rows.filter((b) => b.deletingOn === null);
  // Per database: a whole-server target keeps N of each database, and each database's newest good backup stays
  // (its own backup: an uploaded dump, however new, is no proof the schedule works and never takes that place).
  // A base schedule (weeks, as days): the target's newest good base backup stays, whichever schedule (or person) took
  // it; good is verified (a damaged one is never a restore source, so it never counts as the one kept).
  const isBase = schedule.kind === 'base';
  const newest = isBase
    ? await db.backupLog.findMany({
        where: { targetId: schedule.targetId, backupType: 'base', status: 'succeeded', verifiedAt: { not: null }, ...keptBackupWhere },
        orderBy: { createdAt: 'desc' },
        take: 1,
        select: { id: true },
      })
    : await db.backupLog.findMany({
        where: { targetId: schedule.targetId, status: 'succeeded', ...keptBackupWhere, backupType: { notIn: ['uploaded', 'base'] } },
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
  const host = workerHost();
  const removed: typeof expired = [];
  for (const b of [...resuming, ...expired]) {
    // The storage that holds this backup (the target may have moved to another one since), as the restore finds it.
    const storage = storageFor(b);
    const objects = objectsOf(b);
    const gone: string[] = [];
    let count = 0;
    try {
      await storage.check();
      if (b.deletingOn === null) {
        // A dump that is not there (moved by hand, or a storage on another host) was not deleted: say so, keep the row.
        if (!(await present(storage, b.backupFile))) {
          await log(`retention: ${b.backupFile} is not in ${storage.describe()} on this host; not marked deleted`);
          continue;
        }
        // step 1: mark the row, naming this host, before the first object goes; the next run finishes from here.
        const marked = await db.backupLog.updateMany({ where: { id: b.id, deletedAt: null, deletingOn: null }, data: { deletingOn: host } });
        if (marked.count !== 1) continue; // another run took it
      } else if (b.deletingOn !== host && !(await anyPresent(storage, objects))) {
        // Nothing of it visible here: either the host that began already removed everything, or this host sees
        // another folder under the same name. Only the host that began can tell; leave it to that one.
        await log(`retention: the removal of ${b.backupFile} began on ${b.deletingOn}; nothing of it is in ${storage.describe()} on this host, so it is left for ${b.deletingOn} to finish`);
        continue;
      }
      // steps 2-4: the manifest, the dump (every object of a directory-format dump), the globals file.
      for (const name of objects) {
        const n = await removeArtifact(storage, name);
        count += n;
        if (n === 0) gone.push(name);
      }
      if (await anyPresent(storage, objects)) throw new Error('it is still there after removal');
    } catch (err) {
      // Not marked deleted: the row keeps saying where the file is, and the next run tries again.
      await log(`retention: could not remove ${b.backupFile}: ${(err as Error).message}`);
      continue;
    }
    // step 5: deleted, with what this run removed and what an earlier run (or a person) had already removed.
    removed.push(b);
    await db.$transaction(async (tx) => {
      await tx.backupLog.update({ where: { id: b.id }, data: { deletedAt: now } });
      await writeAudit(tx, systemActor, 'backup.delete', {
        entityType: 'backup',
        entityId: String(b.id),
        params: {
          file: b.backupFile,
          createdAt: b.createdAt.toISOString(),
          reason: 'retention',
          retentionDays: schedule.retentionDays,
          retentionCount: schedule.retentionCount,
          removed: objects.filter((o) => !gone.includes(o)),
          objectsRemoved: count,
          alreadyGone: gone,
        },
      });
    });
    const resumed = b.deletingOn !== null ? ', finishing a removal that began earlier' : '';
    await log(`retention: deleted ${b.backupFile} (from ${b.createdAt.toISOString()}${resumed}${gone.length ? `; already gone: ${gone.join(', ')}` : ''})`);
  }
  if (isBase) await freeWal(schedule.target, log, now);
  return removed.map((b) => b.id);
}

/** At most this many object names are written into the audit entry (the count is always complete). */
const AUDIT_NAMES = 1000;

/**
 * After base backups were deleted: the archived WAL no kept base backup needs (lib/wal/wal-retention.ts), from each
 * system identifier's folder <target>/_wal/<sysid>/, each removal audited with the names. Runs on every base
 * retention once any base backup of the target was deleted, so a run stopped halfway is finished by the next one.
 * A system identifier with no kept base backup, or a kept backup whose segment size cannot be told, frees nothing.
 */
async function freeWal(target: { id: string; name: string; storage?: { id: string; path: string; kind?: string } | null }, log: (line: string) => unknown, now: Date) {
  const db = getDb();
  const everDeleted = await db.backupLog.count({ where: { targetId: target.id, backupType: 'base', deletedAt: { not: null } } });
  if (everDeleted === 0) return;
  const bases = await db.backupLog.findMany({
    where: { targetId: target.id, backupType: 'base', status: 'succeeded', ...keptBackupWhere },
    select: { id: true, startLsn: true, timelineId: true, manifest: true, verification: true },
  });
  const bySysid = new Map<string, { startLsn: string; timeline: number; segmentBytes: number | null; id: bigint }[]>();
  for (const b of bases) {
    const sysid = (b.manifest as { systemIdentifier?: string | null } | null)?.systemIdentifier;
    if (!sysid || !b.startLsn || b.timelineId === null) {
      // Which WAL this one needs cannot be told: free nothing rather than WAL it may still need.
      await log(`retention: WAL left alone: kept base backup ${b.id} records no system identifier, start position or timeline`);
      return;
    }
    const walSegments = (b.verification as { walSegments?: string[] } | null)?.walSegments ?? [];
    const list = bySysid.get(sysid) ?? [];
    list.push({ startLsn: b.startLsn, timeline: b.timelineId, segmentBytes: inferSegmentBytes(b.startLsn, b.timelineId, walSegments), id: b.id });
    bySysid.set(sysid, list);
  }
  const storage = storageFor(target);
  for (const [sysid, kept] of bySysid) {
    const sizes = new Set(kept.map((k) => k.segmentBytes));
    const [segmentBytes] = [...sizes];
    if (sizes.size !== 1 || !segmentBytes) {
      await log(`retention: WAL of system ${sysid} left alone: the segment size of kept base backup(s) ${kept.filter((k) => !k.segmentBytes).map((k) => String(k.id)).join(', ') || kept.map((k) => String(k.id)).join(', ')} cannot be told from their rows`);
      continue;
    }
    const prefix = `${safeName(target.name)}/_wal/${sysid}/`;
    let names: string[];
    try {
      await storage.check();
      names = (await storage.list(prefix)).map((o) => o.name);
    } catch (err) {
      await log(`retention: could not list ${prefix}: ${(err as Error).message}`);
      continue;
    }
    const notNeeded = walNotNeeded(names, kept, segmentBytes).sort();
    if (notNeeded.length === 0) continue;
    const cutoff = segmentName(Math.min(...kept.map((k) => k.timeline)), Math.min(...kept.map((k) => lsnSegment(k.startLsn, segmentBytes))), segmentBytes);
    const removedNames: string[] = [];
    let failure: string | null = null;
    for (const name of notNeeded) {
      try {
        if ((await storage.remove(name)) === 'removed') removedNames.push(name);
      } catch (err) {
        failure = `${name}: ${(err as Error).message}`;
        break;
      }
    }
    await db.$transaction((tx) => writeAudit(tx, systemActor, 'wal.delete', {
      entityType: 'target',
      entityId: target.id,
      params: {
        reason: 'retention',
        systemIdentifier: sysid,
        keptBaseBackups: kept.map((k) => ({ id: String(k.id), startLsn: k.startLsn, timeline: k.timeline })),
        before: cutoff,
        objectsRemoved: removedNames.length,
        removed: removedNames.slice(0, AUDIT_NAMES),
        namesLeftOut: Math.max(0, removedNames.length - AUDIT_NAMES),
        at: now.toISOString(),
        ...(failure ? { stoppedAt: failure } : {}),
      },
    }));
    await log(`retention: freed ${removedNames.length} WAL object(s) of system ${sysid} before ${cutoff}, which no kept base backup needs${failure ? `; stopped at ${failure}` : ''}`);
  }
}

async function anyPresent(storage: Storage, names: string[]): Promise<boolean> {
  for (const n of names) if (await present(storage, n)) return true;
  return false;
}
