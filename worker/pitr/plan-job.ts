// plan (the job's first step): the target, its kept and verified base backups (lib/pitr/plan.ts picks one), the
// storage the backup is read from, and the WAL archive's root and folder name for lifeboat-wal fetch.
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import { keptBackupWhere } from '../../lib/backups/kept';
import type { JobPayload } from '../../lib/jobs/kinds';
import { planRecovery, type BaseBackupRow, type RecoveryTarget } from '../../lib/pitr/plan';
import { defaultStoragePath, storageFor } from '../../lib/storage/storage-for';
import type { Storage } from '../../lib/storage/storage';
import { safeName } from '../../lib/targets/target-conn';

export { describeRecoveryTarget as describeTarget } from '../../lib/pitr/plan';

export function recoveryTargetOf(t: JobPayload<'pitr'>['recoveryTarget']): RecoveryTarget {
  switch (t.kind) {
    case 'time':
      return { kind: 'time', at: new Date(t.at) };
    case 'lsn':
      return { kind: 'lsn', lsn: t.lsn.toUpperCase() };
    case 'name':
      return t.lsn ? { kind: 'name', name: t.name, lsn: t.lsn.toUpperCase() } : { kind: 'name', name: t.name };
    case 'latest':
      return { kind: 'latest' };
  }
}

/** "15.10 (Debian 15.10-0+deb12u1)" -> 15. */
export function majorOf(serverVersion: string | null): number | null {
  const m = /^(\d+)/.exec(serverVersion ?? '');
  return m ? Number(m[1]) : null;
}

export async function planPitr(payload: JobPayload<'pitr'>) {
  const db = getDb();
  const target = await db.target.findUnique({ where: { id: payload.targetId }, include: { storage: true } });
  if (!target) throw new UserError('NOT_FOUND', `There is no target ${payload.targetId}.`);
  if (target.storage?.kind && target.storage.kind !== 'local') {
    throw new UserError('PITR_RECOVERY_FAILED', `The storage "${target.storage.name}" of "${target.name}" is not a local folder; lifeboat-wal fetches WAL from a folder (or a mount) only.`);
  }
  const rows = await db.backupLog.findMany({
    where: { targetId: target.id, backupType: 'base', status: 'succeeded', verifiedAt: { not: null }, stopLsn: { not: null }, backupStoppedAt: { not: null }, ...keptBackupWhere },
    include: { storage: true },
  });
  // Verified and good: a damaged base backup is never a recovery source.
  const usable = rows.filter((r) => (r.verification as { ok?: boolean } | null)?.ok === true);
  const candidates: BaseBackupRow[] = usable.map((r) => ({ id: String(r.id), startLsn: r.startLsn ?? r.stopLsn!, stopLsn: r.stopLsn!, timeline: r.timelineId ?? 1, backupStoppedAt: r.backupStoppedAt! }));
  let recoveryTarget = recoveryTargetOf(payload.recoveryTarget);
  // A restore point made from the console was recorded with its LSN: that picks the base backup before it (without
  // it, the oldest base backup is the only safe choice).
  if (recoveryTarget.kind === 'name' && !recoveryTarget.lsn) {
    const point = await db.restorePoint.findUnique({ where: { targetId_name: { targetId: target.id, name: recoveryTarget.name } } });
    if (point) recoveryTarget = { kind: 'name', name: recoveryTarget.name, lsn: point.lsn.toUpperCase() };
  }
  const picked = planRecovery(candidates, recoveryTarget);
  const row = usable.find((r) => String(r.id) === picked.base.id)!;
  const major = majorOf(row.serverVersion);
  if (major === null) throw new UserError('PITR_RECOVERY_FAILED', `Base backup ${row.id} does not record the server version it was taken from.`);
  const storage: Storage = storageFor(row);
  const walRoot = target.storage ? target.storage.path : defaultStoragePath();
  const bytes = (row.verification as { bytesChecked?: number } | null)?.bytesChecked ?? Number(row.backupSize ?? 0) * 5;
  return { target, recoveryTarget, picked, row, major, storage, walRoot, walTarget: safeName(target.name), restoredBytes: bytes };
}
