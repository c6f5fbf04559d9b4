// The one predicate for "still kept": a row retention has marked (deletingOn) is not kept, as a removed one is not.
import { describe, expect, it } from 'vitest';
import { assertKept, isRemoved, keptBackupWhere, KEPT_BACKUP_SQL, removalState, removedError } from '../../../../lib/backups/kept';
import { UserError } from '../../../../lib/errors';

describe('kept backups', () => {
  it('says kept, being removed (marked, not yet deleted) or removed', () => {
    expect(removalState({ deletedAt: null, deletingOn: null })).toBe('kept');
    expect(removalState({ deletedAt: null })).toBe('kept');
    expect(removalState({ deletedAt: null, deletingOn: 'host-a' })).toBe('being-removed');
    expect(removalState({ deletedAt: '2026-12-07T21:00:00.000Z', deletingOn: 'host-a' })).toBe('removed');
    expect([isRemoved({ deletedAt: null, deletingOn: null }), isRemoved({ deletedAt: null, deletingOn: 'h' }), isRemoved({ deletedAt: new Date(), deletingOn: null })]).toEqual([false, true, true]);
  });

  it('refuses a backup being removed or removed with BACKUP_UNUSABLE, a message that says why, and a hint', () => {
    expect(removedError(7, { deletedAt: null, deletingOn: null })).toBeNull();
    expect(() => assertKept(7, { deletedAt: null, deletingOn: null })).not.toThrow();
    const being = removedError(7n, { deletedAt: null, deletingOn: 'h' })!;
    expect(being).toBeInstanceOf(UserError);
    expect([being.code, being.message, being.hint]).toEqual(['BACKUP_UNUSABLE', 'Backup 7 is being removed by retention (its files may already be partly gone); it cannot be used.', 'Pick another backup that is still kept.']);
    const gone = removedError('7', { deletedAt: new Date('2026-12-07T21:00:00Z'), deletingOn: 'h' })!;
    expect([gone.code, gone.message]).toEqual(['BACKUP_UNUSABLE', 'Backup 7 was removed by retention on 2026-12-07T21:00:00.000Z; it cannot be used.']);
  });

  it('the Prisma and SQL fragments name both columns', () => {
    expect(keptBackupWhere).toEqual({ deletedAt: null, deletingOn: null });
    expect(KEPT_BACKUP_SQL).toBe('deleted_at IS NULL AND deleting_on IS NULL');
  });
});
