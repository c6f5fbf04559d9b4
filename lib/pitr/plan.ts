// Point-in-time recovery, step 2 of the wizard (issue 10): which base backup a recovery starts from. Pure: the
// caller reads the target's kept, verified base backups; this picks the newest one that ends before the recovery
// target and refuses a target before the oldest one's end (the recoverable window's start).
import { UserError } from '../errors';

/** One kept, verified base backup of the target (backup_log, backup_type 'base'). */
export interface BaseBackupRow {
  id: string;
  startLsn: string;
  stopLsn: string;
  timeline: number;
  backupStoppedAt: Date;
}

/** Where recovery stops: a time, an LSN, a named restore point, or the end of the archive. */
export type RecoveryTarget =
  | { kind: 'time'; at: Date }
  | { kind: 'lsn'; lsn: string }
  // lsn: where the restore point was created, when known (pg_create_restore_point returns it); it picks the base
  // backup as an LSN target does. Without it the oldest base backup is used: recovery then finds the name wherever
  // it is in the window.
  | { kind: 'name'; name: string; lsn?: string }
  | { kind: 'latest' };

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** An LSN as PostgreSQL prints it ('16/B374D848') as a number; null when it is not one. */
export function parseLsn(lsn: string): bigint | null {
  const m = LSN.exec(lsn.trim());
  if (!m) return null;
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Negative, zero or positive as a is before, at or after b. Throws on a malformed LSN. */
export function compareLsn(a: string, b: string): number {
  const x = parseLsn(a);
  const y = parseLsn(b);
  if (x === null || y === null) throw new UserError('VALIDATION', `"${x === null ? a : b}" is not an LSN.`, 'Write an LSN as PostgreSQL prints it, e.g. 0/3000060.', { lsn: 'must look like 0/3000060' });
  return x < y ? -1 : x > y ? 1 : 0;
}

export interface RecoveryPlan {
  base: BaseBackupRow;
  /** The window's start as this target kind measures it (the oldest base backup's end). */
  windowStart: { at: Date; lsn: string };
}

/** The recovery target in words, for messages and the job's result. */
export function describeRecoveryTarget(t: RecoveryTarget): string {
  switch (t.kind) {
    case 'time':
      return `time ${t.at.toISOString()}`;
    case 'lsn':
      return `LSN ${t.lsn}`;
    case 'name':
      return `restore point "${t.name}"${t.lsn ? ` (at ${t.lsn})` : ''}`;
    case 'latest':
      return 'the end of the archive';
  }
}

/** Picks the base backup a recovery to `target` starts from; throws PITR_NO_BASE_BACKUP or PITR_TARGET_OUTSIDE_WINDOW. */
export function planRecovery(backups: readonly BaseBackupRow[], target: RecoveryTarget): RecoveryPlan {
  if (backups.length === 0) {
    throw new UserError('PITR_NO_BASE_BACKUP', 'This target has no kept, verified base backup, so there is nothing to recover from.');
  }
  if (target.kind === 'lsn') compareLsn(target.lsn, target.lsn); // refuses a malformed LSN before anything else
  if (target.kind === 'name' && target.lsn !== undefined) compareLsn(target.lsn, target.lsn);
  const byEnd = [...backups].sort((a, b) => compareLsn(a.stopLsn, b.stopLsn) || a.backupStoppedAt.getTime() - b.backupStoppedAt.getTime());
  const oldest = byEnd[0]!;
  const newest = byEnd[byEnd.length - 1]!;
  const windowStart = { at: oldest.backupStoppedAt, lsn: oldest.stopLsn };

  let candidates: BaseBackupRow[];
  switch (target.kind) {
    case 'latest':
      return { base: newest, windowStart };
    case 'time':
      candidates = byEnd.filter((b) => b.backupStoppedAt.getTime() <= target.at.getTime());
      candidates.sort((a, b) => a.backupStoppedAt.getTime() - b.backupStoppedAt.getTime());
      break;
    case 'lsn':
      candidates = byEnd.filter((b) => compareLsn(b.stopLsn, target.lsn) <= 0);
      break;
    case 'name':
      if (target.lsn === undefined) return { base: oldest, windowStart };
      candidates = byEnd.filter((b) => compareLsn(b.stopLsn, target.lsn!) <= 0);
      break;
  }
  const base = candidates[candidates.length - 1];
  if (!base) {
    throw new UserError(
      'PITR_TARGET_OUTSIDE_WINDOW',
      `The recovery target (${describeRecoveryTarget(target)}) is before the recoverable window, which starts at ${windowStart.at.toISOString()} (LSN ${windowStart.lsn}), the end of the oldest kept base backup (${oldest.id}).`,
    );
  }
  return { base, windowStart };
}
