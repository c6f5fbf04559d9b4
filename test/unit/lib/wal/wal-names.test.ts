// Gap finding and the newest segment from archive object names: 16 MB numbering across the xlogid boundary,
// several timelines, history/backup/checksum files ignored.
import { describe, expect, it } from 'vitest';
import { findWalGaps, newestSegment, parseSegment, segmentName } from '@/lib/wal/wal-names';

const obj = (name: string) => `orders-prod/_wal/7312345678901234567/${name.slice(0, 16)}/${name}.zst`;

describe('parseSegment / segmentName', () => {
  it('numbers 16 MB segments 256 per xlogid, so ...000000FF is followed by 00000001 00000000', () => {
    expect(parseSegment('0000000100000000000000FF')!.number).toBe(255);
    expect(parseSegment('000000010000000100000000')!.number).toBe(256);
    expect(segmentName(1, 256)).toBe('000000010000000100000000');
    expect(segmentName(3, 255)).toBe('0000000300000000000000FF');
  });
  it('takes object paths, .zst and .partial, and refuses everything else', () => {
    expect(parseSegment(obj('000000020000000A00000003'))).toEqual({ name: '000000020000000A00000003', timeline: 2, number: 10 * 256 + 3, partial: false });
    expect(parseSegment('x/000000010000000000000007.partial.zst')!.partial).toBe(true);
    for (const n of ['00000002.history', '000000010000000000000002.00000028.backup', '000000010000000000000002.sha256', '000000010000000000000100', 'abc']) expect(parseSegment(n)).toBeNull();
  });
  it('uses the segment size it is given (64 MB: 64 per xlogid)', () => {
    expect(parseSegment('000000010000000100000000', 64 * 1024 * 1024)!.number).toBe(64);
    expect(parseSegment('000000010000000000000040', 64 * 1024 * 1024)).toBeNull();
  });
});

describe('findWalGaps', () => {
  it('finds no gap in a consecutive run across the 0xFF boundary, ignoring history, backup and checksum files', () => {
    const names = ['0000000100000000000000FE', '0000000100000000000000FF', '000000010000000100000000', '000000010000000100000001'].flatMap((n) => [obj(n), obj(n).replace('.zst', '.sha256')]);
    names.push('orders-prod/_wal/7312345678901234567/00000002.history', obj('000000010000000000000002.00000028.backup'));
    expect(findWalGaps(names)).toEqual([]);
  });
  it('names a segment missing at the boundary', () => {
    expect(findWalGaps(['0000000100000000000000FE', '0000000100000000000000FF', '000000010000000100000001'].map(obj))).toEqual([
      { timeline: 1, after: '0000000100000000000000FF', before: '000000010000000100000001', count: 1, missing: ['000000010000000100000000'] },
    ]);
  });
  it('keeps timelines apart: the switch from one to the next is no gap, a hole inside one is', () => {
    const names = [
      '000000010000000000000001', '000000010000000000000002', '000000010000000000000003.partial',
      '000000020000000000000003', '000000020000000000000004', '000000020000000000000007',
    ].map(obj);
    expect(findWalGaps(names)).toEqual([{ timeline: 2, after: '000000020000000000000004', before: '000000020000000000000007', count: 2, missing: ['000000020000000000000005', '000000020000000000000006'] }]);
  });
  it('counts a long gap and names its first 20 segments', () => {
    const [gap] = findWalGaps(['000000010000000000000001', '000000010000000300000000'].map(obj));
    expect(gap!.count).toBe(3 * 256 - 2);
    expect(gap!.missing).toHaveLength(20);
    expect(gap!.missing[0]).toBe('000000010000000000000002');
  });
});

describe('newestSegment', () => {
  it('is the highest timeline, then position; never a .partial', () => {
    expect(newestSegment(['0000000100000001000000FF', '000000020000000100000000', '000000020000000100000001.partial.zst'].map(obj))!.name).toBe('000000020000000100000000');
    expect(newestSegment(['00000002.history'])).toBeNull();
  });
});
