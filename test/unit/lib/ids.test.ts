// lib/ids.ts: bigint ids past PostgreSQL's range are validation errors, not database errors.
import { describe, expect, it } from 'vitest';
import { bigintId, bigintIdString } from '../../../lib/ids';

describe('bigint ids', () => {
  it('accepts 1 up to 2^63-1 and refuses 0, 2^63, a huge number and non-digits with the message', () => {
    const id = bigintId('must be a backup id');
    expect(id.parse('1')).toBe(1n);
    expect(id.parse('9223372036854775807')).toBe(9223372036854775807n);
    for (const bad of ['0', '9223372036854775808', '99999999999999999999999', '1.5', 'abc', '', '-1']) {
      const r = id.safeParse(bad);
      expect(r.success, bad).toBe(false);
      expect(r.error!.issues[0]!.message, bad).toBe('must be a backup id');
    }
    expect(bigintId('must be a log line id', 0n).parse('0')).toBe(0n);
  });

  it('as a string (job payloads): the same range', () => {
    const id = bigintIdString('must be a backup id');
    expect(id.parse('9223372036854775807')).toBe('9223372036854775807');
    expect(id.safeParse('9223372036854775808').success).toBe(false);
    expect(id.safeParse('99999999999999999999999').success).toBe(false);
  });
});
