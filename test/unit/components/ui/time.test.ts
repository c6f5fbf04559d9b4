// components/ui/time.tsx: ages in words and durations (pure helpers of a client component).
import { describe, expect, it } from 'vitest';
import { ago, duration } from '../../../../components/ui/time';

const now = Date.parse('2026-06-01T12:00:00Z');
const before = (s: number) => new Date(now - s * 1000);

describe('ago', () => {
  it.each([
    [0, 'just now'],
    [4, 'just now'],
    [5, '5 s ago'],
    [59, '59 s ago'],
    [60, '1 min ago'],
    [119, '1 min ago'],
    [3599, '59 min ago'],
    [3600, '1 h 0 min ago'],
    [3600 + 25 * 60, '1 h 25 min ago'],
    [86399, '23 h 59 min ago'],
    [86400, '1 d ago'],
    [10 * 86400 + 5, '10 d ago'],
  ])('%i s before now -> %s', (s, text) => {
    expect(ago(before(s), now)).toBe(text);
  });

  it('accepts ISO strings as the API sends them', () => {
    expect(ago('2026-06-01T11:58:00.000Z', now)).toBe('2 min ago');
  });

  it('calls a moment a little in the future (clock skew) "just now"', () => {
    expect(ago(new Date(now + 3000), now)).toBe('just now');
  });
});

describe('duration', () => {
  it.each([
    [0, '0 s'],
    [400, '< 1 s'],
    [59_400, '59 s'],
    [59_600, '1 min 0 s'],
    [61_000, '1 min 1 s'],
    [3_599_000, '59 min 59 s'],
    [3_600_000, '1 h 0 min'],
    [2 * 3_600_000 + 5 * 60_000 + 30_000, '2 h 5 min'],
    [-5_000, '0 s'],
  ])('%i ms -> %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});
