// Which backups are still kept: retention marks a row `deletingOn` (the worker host) before it removes the first
// object (the manifest), and sets `deletedAt` when all are gone. From the mark on, the backup is being removed: its
// files may already be partly gone (and stay so if that worker crashed), so it is never offered or accepted as a
// restore, recovery, drill or download source, and never counts as a target's newest good backup. This file is the one
// predicate every such place uses; it imports nothing but the error registry, so client components can use it too.
import { UserError } from '../errors';

/** Prisma where-fragment: the backup's files are neither removed nor being removed. */
export const keptBackupWhere = { deletedAt: null, deletingOn: null } as const;

/** The same predicate for raw SQL on backup_log (columns unqualified); wrap it in Prisma.raw inside $queryRaw. */
export const KEPT_BACKUP_SQL = 'deleted_at IS NULL AND deleting_on IS NULL';

type Removal = { deletedAt: Date | string | null; deletingOn?: string | null };

/** kept, being removed (retention began, or began and crashed), or removed (retention finished). */
export function removalState(b: Removal): 'kept' | 'being-removed' | 'removed' {
  if (b.deletedAt) return 'removed';
  if (b.deletingOn) return 'being-removed';
  return 'kept';
}

/** True from the moment retention marks the row: its files cannot be trusted to be there. */
export function isRemoved(b: Removal): boolean {
  return removalState(b) !== 'kept';
}

/** The refusal for a backup whose removal has begun or ended; null while it is kept. */
export function removedError(id: bigint | string | number, b: Removal): UserError | null {
  const state = removalState(b);
  if (state === 'kept') return null;
  if (state === 'being-removed') {
    return new UserError('BACKUP_UNUSABLE', `Backup ${id} is being removed by retention (its files may already be partly gone); it cannot be used.`, 'Pick another backup that is still kept.');
  }
  const at = b.deletedAt instanceof Date ? ` on ${b.deletedAt.toISOString()}` : '';
  return new UserError('BACKUP_UNUSABLE', `Backup ${id} was removed by retention${at}; it cannot be used.`, 'Pick another backup that is still kept.');
}

/** Throws BACKUP_UNUSABLE when the backup's removal has begun or ended. */
export function assertKept(id: bigint | string | number, b: Removal): void {
  const err = removedError(id, b);
  if (err) throw err;
}
