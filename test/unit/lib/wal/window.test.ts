// The recoverable window from base backups and archived segment names: one range, a gap splitting it, no base
// backup, WAL before the oldest base backup, two timelines, and only the runs' endpoints (as a connection test keeps).
import { describe, expect, it } from 'vitest';
import { findWalGaps, segmentName } from '@/lib/wal/wal-names';
import { formatLsn, parseLsn, recoverableWindow } from '@/lib/wal/window';

const segs = (tl: number, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `t/_wal/7312/${segmentName(tl, from + i)}.zst`);
const base = (id: string, stopLsn: string, timeline = 1, stoppedAt = '2026-12-07T10:00:00.000Z') => ({ id, stopLsn, timeline, stoppedAt });

describe('parseLsn / formatLsn', () => {
  it('reads and prints both halves in hex', () => {
    expect(parseLsn('1/A000028')).toBe((1n << 32n) + 0xa000028n);
    expect(formatLsn(parseLsn('0/3000100')!)).toBe('0/3000100');
    expect(parseLsn('nope')).toBeNull();
  });
});

describe('recoverableWindow', () => {
  it('one range: from the base backup end to the end of the newest segment, with its archive time', () => {
    const names = segs(1, 2, 6);
    const w = recoverableWindow([base('7', '0/3000100')], names, findWalGaps(names), undefined, { [segmentName(1, 6)]: '2026-12-07T12:00:00.000Z' });
    expect(w.reason).toBeNull();
    expect(w.ranges).toHaveLength(1);
    expect(w.ranges[0]).toMatchObject({ timeline: 1, fromLsn: '0/3000100', toLsn: '0/7000000', fromTime: '2026-12-07T10:00:00.000Z', toTime: '2026-12-07T12:00:00.000Z', startsAt: { kind: 'base-backup', backupId: '7' }, endsAtGap: null });
    expect(w.gaps).toEqual([]);
  });

  it('a missing segment ends the range there; the WAL after it counts only from a later base backup', () => {
    const names = [...segs(1, 2, 4), ...segs(1, 6, 9)];
    const gaps = findWalGaps(names);
    const one = recoverableWindow([base('7', '0/3000100')], names, gaps);
    expect(one.ranges).toHaveLength(1);
    expect(one.ranges[0]).toMatchObject({ fromLsn: '0/3000100', toLsn: '0/5000000', lastSegment: segmentName(1, 4) });
    expect(one.ranges[0]!.endsAtGap).toMatchObject({ after: segmentName(1, 4), before: segmentName(1, 6), count: 1, missing: [segmentName(1, 5)] });
    expect(one.gaps).toHaveLength(1);

    const two = recoverableWindow([base('7', '0/3000100'), base('8', '0/7000060', 1, '2026-12-07T11:00:00.000Z')], names, gaps);
    expect(two.ranges.map((r) => [r.fromLsn, r.toLsn])).toEqual([['0/3000100', '0/5000000'], ['0/7000060', '0/A000000']]);
    expect(two.ranges[1]!.startsAt).toEqual({ kind: 'base-backup', backupId: '8' });
  });

  it('no base backup: empty, with the reason', () => {
    const names = segs(1, 2, 6);
    const w = recoverableWindow([], names, findWalGaps(names));
    expect(w.ranges).toEqual([]);
    expect(w.reason).toMatch(/no kept, verified base backup/i);
  });

  it('WAL archived before the oldest base backup is not counted', () => {
    const names = segs(1, 1, 8);
    const w = recoverableWindow([base('9', '0/6000028')], names, findWalGaps(names));
    expect(w.ranges).toHaveLength(1);
    expect(w.ranges[0]).toMatchObject({ fromLsn: '0/6000028', toLsn: '0/9000000', firstSegment: segmentName(1, 1) });
    // A gap before the base backup does not stop recovery: it is not listed.
    const holed = [...segs(1, 1, 2), ...segs(1, 4, 8)];
    const h = recoverableWindow([base('9', '0/6000028')], holed, findWalGaps(holed));
    expect(h.ranges.map((r) => [r.fromLsn, r.toLsn])).toEqual([['0/6000028', '0/9000000']]);
    expect(h.gaps).toEqual([]);
  });

  it('two timelines: the second continues the first from the switch; each has its own range', () => {
    // Promotion in segment 5: timeline 1 archives 5 as .partial, timeline 2 starts at 5.
    const names = [...segs(1, 2, 4), `t/_wal/7312/${segmentName(1, 5)}.partial.zst`, ...segs(2, 5, 7), 't/_wal/7312/00000002.history.zst'];
    const w = recoverableWindow([base('7', '0/3000100')], names, findWalGaps(names), undefined, { [segmentName(2, 7)]: '2026-12-07T13:00:00.000Z' });
    expect(w.ranges.map((r) => [r.timeline, r.fromLsn, r.toLsn])).toEqual([
      [1, '0/3000100', '0/6000000'],
      [2, '0/5000000', '0/8000000'],
    ]);
    expect(w.ranges[1]!.startsAt).toEqual({ kind: 'timeline-switch', from: 1 });
    expect(w.ranges[1]!.toTime).toBe('2026-12-07T13:00:00.000Z');
    // A base backup on timeline 2 alone opens timeline 2 only.
    const only2 = recoverableWindow([base('8', '0/6000060', 2)], names, findWalGaps(names));
    expect(only2.ranges.map((r) => [r.timeline, r.fromLsn])).toEqual([[2, '0/6000060']]);
  });

  it('works from each run’s first and last names plus the gaps, as a connection test keeps them', () => {
    const all = [...segs(1, 2, 40), ...segs(1, 45, 90)];
    const endpoints = [segmentName(1, 2), segmentName(1, 40), segmentName(1, 45), segmentName(1, 90)];
    const backups = [base('7', '0/3000100'), base('8', '0/30000060')];
    expect(recoverableWindow(backups, endpoints, findWalGaps(all))).toEqual(recoverableWindow(backups, all, findWalGaps(all)));
  });
});
