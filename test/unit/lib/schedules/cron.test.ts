// lib/schedules/cron.ts: validation that names the bad field, time zones, and next runs in a zone (DST included).
import { describe, expect, it } from 'vitest';
import { nextRuns, validateTimezone } from '../../../../lib/schedules/cron';
import { UserError } from '../../../../lib/errors';

function invalid(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('INVALID_CRON');
    return err as UserError;
  }
  throw new Error('expected INVALID_CRON');
}

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());
const from = new Date('2026-01-10T12:00:00Z');

describe('nextRuns validation', () => {
  it.each([
    ['61 * * * *', 'minute', '61'],
    ['* 25 * * *', 'hour', '25'],
    ['0 0 0 * *', 'day of month', '0'],
    ['0 0 * 13 *', 'month', '13'],
    ['0 0 * * 8', 'day of week', '8'],
    ['*/0 * * * *', 'minute', '*/0'],
    ['x * * * *', 'minute', 'x'],
  ])('%s names the %s field', (expr, field, value) => {
    const err = invalid(() => nextRuns(expr, 'UTC', 5, from));
    expect(err.message).toContain(`the ${field} field "${value}"`);
    expect(err.message).toContain(expr);
    expect(err.fields?.cron).toContain(field);
    expect(err.hint).toContain('minute hour day-of-month month day-of-week');
  });

  it.each([
    ['* * * *', 4],
    ['0 2 * * * *', 6],
    ['@daily', 1],
  ])('%s: says it has %i fields, not 5', (expr, n) => {
    const err = invalid(() => nextRuns(expr, 'UTC', 5, from));
    expect(err.message).toContain(`it has ${n} field`);
    expect(err.message).toContain('5');
  });

  it('a bad time zone names the zone and the timezone field', () => {
    const err = invalid(() => nextRuns('0 2 * * *', 'Mars/Olympus_Mons', 5, from));
    expect(err.message).toContain('"Mars/Olympus_Mons" is not a time zone');
    expect(err.fields).toEqual({ timezone: 'is not a time zone' });
    expect(() => validateTimezone('Europe/Berlin')).not.toThrow();
  });

  it('a range written backwards is refused with INVALID_CRON (not a crash)', () => {
    invalid(() => nextRuns('5-2 * * * *', 'UTC', 5, from));
  });

  it('a date that never comes (31 February) is refused rather than saved as a schedule that never runs', () => {
    invalid(() => nextRuns('0 2 31 2 *', 'UTC', 5, from));
  });
});

describe('nextRuns in a time zone', () => {
  it("'0 2 * * *' in Europe/Berlin runs at 01:00Z in winter", () => {
    expect(iso(nextRuns('0 2 * * *', 'Europe/Berlin', 5, from))).toEqual([
      '2026-01-11T01:00:00.000Z',
      '2026-01-12T01:00:00.000Z',
      '2026-01-13T01:00:00.000Z',
      '2026-01-14T01:00:00.000Z',
      '2026-01-15T01:00:00.000Z',
    ]);
  });

  it('and at 00:00Z in summer', () => {
    expect(iso(nextRuns('0 2 * * *', 'Europe/Berlin', 2, new Date('2026-07-01T12:00:00Z')))).toEqual(['2026-07-02T00:00:00.000Z', '2026-07-03T00:00:00.000Z']);
  });

  it('runs once on the spring-forward day, when 02:00 does not exist, instead of skipping the backup', () => {
    const runs = iso(nextRuns('0 2 * * *', 'Europe/Berlin', 3, new Date('2026-03-28T12:00:00Z')));
    expect(runs).toHaveLength(3);
    expect(runs.filter((r) => r.startsWith('2026-03-29'))).toHaveLength(1);
    expect(runs[1]).toBe('2026-03-30T00:00:00.000Z');
  });

  it('runs once on the fall-back day, when 02:00 happens twice', () => {
    const runs = iso(nextRuns('0 2 * * *', 'Europe/Berlin', 3, new Date('2026-10-24T12:00:00Z')));
    expect(runs.filter((r) => r.startsWith('2026-10-25') || r.startsWith('2026-10-24T2'))).toHaveLength(1);
    expect(runs[1]).toBe('2026-10-26T01:00:00.000Z');
  });

  it('counts from `from`, exclusive', () => {
    expect(iso(nextRuns('0 2 * * *', 'UTC', 1, new Date('2026-01-10T02:00:00Z')))).toEqual(['2026-01-11T02:00:00.000Z']);
  });
});
