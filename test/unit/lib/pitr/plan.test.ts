// Which base backup a point-in-time recovery starts from, and the refusals before the window.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../../lib/errors';
import { compareLsn, parseLsn, planRecovery, type BaseBackupRow } from '../../../../lib/pitr/plan';

const row = (id: string, stopLsn: string, stoppedAt: string): BaseBackupRow => ({ id, startLsn: '0/1000028', stopLsn, timeline: 1, backupStoppedAt: new Date(stoppedAt) });
// Deliberately out of order; LSNs chosen so that string order differs from numeric order (9/… < 10/…, 0/F… < 0/10…).
const backups = [
  row('b', '9/FF000100', '2026-12-02T01:00:00Z'),
  row('c', '10/2000100', '2026-12-03T01:00:00Z'),
  row('a', '0/F000100', '2026-12-01T01:00:00Z'),
];

function refusal(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('LSNs compare as numbers', () => {
  it('parses X/Y and orders by value, not by text', () => {
    expect(parseLsn('0/3000060')).toBe(0x3000060n);
    expect(parseLsn('1/0')).toBe(1n << 32n);
    expect(parseLsn('nope')).toBeNull();
    expect(compareLsn('9/FF000100', '10/2000100')).toBeLessThan(0);
    expect(compareLsn('0/F000100', '0/10000000')).toBeLessThan(0);
    expect(compareLsn('0/A', '0/a')).toBe(0);
  });
});

describe('planRecovery', () => {
  it('picks the newest base backup that ended at or before a time', () => {
    expect(planRecovery(backups, { kind: 'time', at: new Date('2026-12-02T12:00:00Z') }).base.id).toBe('b');
    expect(planRecovery(backups, { kind: 'time', at: new Date('2026-12-02T01:00:00Z') }).base.id).toBe('b');
    expect(planRecovery(backups, { kind: 'time', at: new Date('2026-12-09T00:00:00Z') }).base.id).toBe('c');
  });

  it('picks the newest base backup that ended at or before an LSN, comparing numerically', () => {
    expect(planRecovery(backups, { kind: 'lsn', lsn: '9/FFFFFFFF' }).base.id).toBe('b');
    expect(planRecovery(backups, { kind: 'lsn', lsn: '10/2000100' }).base.id).toBe('c');
    expect(planRecovery(backups, { kind: 'lsn', lsn: '1/0' }).base.id).toBe('a');
  });

  it('takes the newest for latest, and a restore point by its LSN (the oldest when it is unknown)', () => {
    expect(planRecovery(backups, { kind: 'latest' }).base.id).toBe('c');
    expect(planRecovery(backups, { kind: 'name', name: 'before-upgrade', lsn: 'A/0' }).base.id).toBe('b');
    expect(planRecovery(backups, { kind: 'name', name: 'before-upgrade' }).base.id).toBe('a');
  });

  it('refuses a target before the oldest base backup ended, naming the window start', () => {
    const t = refusal(() => planRecovery(backups, { kind: 'time', at: new Date('2026-12-01T00:59:59Z') }));
    expect(t.code).toBe('PITR_TARGET_OUTSIDE_WINDOW');
    expect(t.message).toContain('2026-12-01T01:00:00.000Z');
    expect(t.message).toContain('0/F000100');
    const l = refusal(() => planRecovery(backups, { kind: 'lsn', lsn: '0/F0000FF' }));
    expect(l.code).toBe('PITR_TARGET_OUTSIDE_WINDOW');
    expect(l.message).toContain('starts at 2026-12-01T01:00:00.000Z');
  });

  it('refuses when there is no base backup, and a malformed LSN by field', () => {
    expect(refusal(() => planRecovery([], { kind: 'latest' })).code).toBe('PITR_NO_BASE_BACKUP');
    const bad = refusal(() => planRecovery(backups, { kind: 'lsn', lsn: '12345' }));
    expect(bad.code).toBe('VALIDATION');
    expect(bad.fields).toHaveProperty('lsn');
  });
});
