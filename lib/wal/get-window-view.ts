// What the target page's "Recoverable window" card shows: the window computed from the kept, verified base backups
// (backup_log) and the archive's segment runs as the last "Test connection" listed them (the web never opens a
// storage), with the restore points recorded for the target.
import { getDb } from '../db';
import { UserError } from '../errors';
import { jobKinds } from '../jobs/kinds';
import { keptBackupWhere } from '../backups/kept';
import { listRestorePoints } from './restore-points';
import { parseLsn, recoverableWindow, type RecoverableWindow } from './window';

export async function getWindowView(targetId: string) {
  const db = getDb();
  const t = await db.target.findUnique({ where: { id: targetId }, select: { lastCheck: true } });
  if (!t) throw new UserError('NOT_FOUND', `There is no target ${targetId}.`);
  const rows = await db.backupLog.findMany({
    where: { targetId, backupType: 'base', status: 'succeeded', verifiedAt: { not: null }, stopLsn: { not: null }, timelineId: { not: null }, ...keptBackupWhere },
    orderBy: { createdAt: 'asc' },
    select: { id: true, stopLsn: true, timelineId: true, backupStoppedAt: true, finishedAt: true, verification: true },
  });
  // A backup whose verification failed is never a restore source (it is removed, but never trust that alone).
  const baseBackups = rows
    .filter((r) => (r.verification as { ok?: boolean } | null)?.ok !== false)
    .map((r) => ({ id: r.id.toString(), stopLsn: r.stopLsn!, timeline: r.timelineId!, stoppedAt: (r.backupStoppedAt ?? r.finishedAt)?.toISOString() ?? null }));

  const parsed = t.lastCheck ? jobKinds['test-connection'].result.safeParse(t.lastCheck) : null;
  const check = parsed?.success ? parsed.data : null;
  const archive = check?.wal?.archive ?? null;
  const restorePoints = await listRestorePoints(targetId);

  let computed: RecoverableWindow;
  if (!archive || !archive.runs) {
    // None, or one from before the runs were kept.
    computed = { ranges: [], gaps: [], reason: `The archive has not been listed ${archive ? 'by this version' : 'yet'}: run "Test connection" on this target (it lists the WAL archive).` };
  } else {
    const names = archive.runs.flatMap((r) => [r.first, r.last]);
    const archivedAt = Object.fromEntries(archive.runs.map((r) => [r.last, r.lastArchivedAt]));
    computed = recoverableWindow(baseBackups, names, archive.gaps, check!.wal!.segmentBytes, archivedAt);
    // Why the archive could not be listed explains an empty window too.
    if (computed.reason && archive.problem) computed = { ...computed, reason: `${computed.reason} ${archive.problem}` };
  }
  // For the chart: each gap that stops recovery, between the archive times of the runs on either side of it.
  const runs = archive?.runs ?? [];
  const gapTimes = computed.gaps.map((g) => ({
    ...g,
    fromTime: runs.find((r) => r.timeline === g.timeline && r.last === g.after)?.lastArchivedAt ?? null,
    toTime: runs.find((r) => r.timeline === g.timeline && r.first === g.before)?.lastArchivedAt ?? null,
  }));
  // A restore point can be recovered to when its position lies inside a range of its timeline.
  const inside = (lsn: string, timeline: number | null) => {
    const v = parseLsn(lsn);
    return v !== null && computed.ranges.some((r) => (timeline === null || r.timeline === timeline) && v >= parseLsn(r.fromLsn)! && v <= parseLsn(r.toLsn)!);
  };
  return {
    checkedAt: archive ? check!.at : null,
    segmentBytes: check?.wal?.segmentBytes ?? null,
    newest: archive?.newest ?? null,
    baseBackups,
    window: { ...computed, gaps: gapTimes },
    restorePoints: restorePoints.map((p) => ({ ...p, reachable: inside(p.lsn, p.timeline) })),
  };
}
