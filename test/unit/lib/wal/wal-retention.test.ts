import { describe, expect, it } from 'vitest';
import { inferSegmentBytes, lsnSegment, walNotNeeded } from '@/lib/wal/wal-retention';

const dir = 'orders/_wal/7312345678901234567/0000000100000000';
const seg = (tl: number, n: number) => `${tl.toString(16).toUpperCase().padStart(8, '0')}00000000${n.toString(16).toUpperCase().padStart(8, '0')}`;
// A segment as lifeboat-wal push stores it: the compressed object and its checksum sidecar.
const stored = (tl: number, n: number) => [`${dir}/${seg(tl, n)}.zst`, `${dir}/${seg(tl, n)}.sha256`];

describe('lsnSegment', () => {
  it('finds the segment that holds a position', () => {
    expect(lsnSegment('0/5000028')).toBe(5);
    expect(lsnSegment('0/4FFFFFF')).toBe(4);
    expect(lsnSegment('1/28')).toBe(256);
    expect(lsnSegment('1/1000000', 64 * 1024 * 1024)).toBe(64);
  });
  it('refuses what is not a position', () => {
    expect(() => lsnSegment('5000028')).toThrow(/not a WAL position/);
  });
});

describe('walNotNeeded', () => {
  const all = [...stored(1, 2), ...stored(1, 3), ...stored(1, 4), ...stored(1, 5), ...stored(1, 6)];

  it('frees the segments and sidecars before the oldest kept backup start segment, by number, and keeps the rest', () => {
    const gone = walNotNeeded(all, [{ startLsn: '0/6000060', timeline: 1 }, { startLsn: '0/4000028', timeline: 1 }]);
    expect(gone).toEqual([...stored(1, 2), ...stored(1, 3)]);
  });

  it('orders by segment number, not by name text (xlogid carries over)', () => {
    const high = `${dir.slice(0, -16)}0000000100000001/000000010000000100000000.zst`;
    const low = `${dir}/0000000100000000000000FF.zst`;
    expect(walNotNeeded([high, low], [{ startLsn: '1/0', timeline: 1 }])).toEqual([low]);
    expect(walNotNeeded([high, low], [{ startLsn: '0/FF000000', timeline: 1 }])).toEqual([]);
  });

  it('always keeps history files and their sidecars', () => {
    const names = [`${dir}/00000002.history`, `${dir}/00000002.history.sha256`, ...stored(1, 1)];
    expect(walNotNeeded(names, [{ startLsn: '0/9000028', timeline: 2 }])).toEqual(stored(1, 1));
  });

  it('frees .backup files older than the cutoff and keeps the kept backup own one', () => {
    const old = `${dir}/${seg(1, 3)}.00000028.backup`;
    const own = `${dir}/${seg(1, 5)}.00000028.backup`;
    expect(walNotNeeded([old, `${old}.sha256`, own, `${own}.sha256`], [{ startLsn: '0/5000028', timeline: 1 }])).toEqual([old, `${old}.sha256`]);
  });

  it('keeps segments of timelines newer than every kept backup, and .partial segments follow their number', () => {
    const names = [...stored(1, 2), `${dir}/${seg(1, 3)}.partial.zst`, ...stored(2, 3), ...stored(3, 1)];
    const gone = walNotNeeded(names, [{ startLsn: '0/5000028', timeline: 2 }]);
    expect(gone).toEqual([...stored(1, 2), `${dir}/${seg(1, 3)}.partial.zst`, ...stored(2, 3)]);
  });

  it('deletes nothing when no base backup is kept', () => {
    expect(walNotNeeded(all, [])).toEqual([]);
  });

  it('leaves unknown names and push temporaries alone', () => {
    const names = [`${dir}/${seg(1, 1)}.zst.host-123.partial`, `${dir}/README`, ...stored(1, 1)];
    expect(walNotNeeded(names, [{ startLsn: '0/5000028', timeline: 1 }])).toEqual(stored(1, 1));
  });
});

describe('inferSegmentBytes', () => {
  it('finds the size at which the start position falls in a segment the backup holds', () => {
    expect(inferSegmentBytes('0/5000028', 1, ['000000010000000000000005', '000000010000000000000006'])).toBe(16 * 1024 * 1024);
    // 64 MB segments: 0/14000028 is segment 0x14 at 16 MB but segment 5 at 64 MB.
    expect(inferSegmentBytes('0/14000028', 1, ['000000010000000000000005'])).toBe(64 * 1024 * 1024);
  });
  it('is null when nothing fits (no segments recorded)', () => {
    expect(inferSegmentBytes('0/5000028', 1, [])).toBeNull();
    expect(inferSegmentBytes('0/5000028', 2, ['000000010000000000000005'])).toBeNull();
  });
});
