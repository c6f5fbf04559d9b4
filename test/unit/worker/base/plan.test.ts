// worker/base/plan.ts and the base-backup payload: the compression a run asks for as settings, the WAL settings
// that stop a base backup named with the line to change, and the payload refusing levels a method does not have.
import { describe, expect, it } from 'vitest';
import { baseBackupPayload } from '../../../../lib/jobs/kinds';
import { settingsOf, walSettingsProblem } from '../../../../worker/base/plan';

const id = '0b6c8f1e-2f4a-4c1e-9a57-0e2d1c3b4a59';

describe('settingsOf', () => {
  it('defaults to server-side zstd level 3 with streamed WAL; gzip level 6 when no level is given', () => {
    expect(settingsOf({ targetId: id })).toEqual({ compression: { method: 'server-zstd', level: 3 }, walMethod: 'stream' });
    expect(settingsOf({ targetId: id, compression: 'gzip' })).toEqual({ compression: { method: 'gzip', level: 6 }, walMethod: 'stream' });
    expect(settingsOf({ targetId: id, compression: 'client-zstd', level: 9, workers: 2, walMethod: 'fetch' })).toEqual({ compression: { method: 'client-zstd', level: 9, workers: 2 }, walMethod: 'fetch' });
    expect(settingsOf({ targetId: id, compression: 'server-lz4' })).toEqual({ compression: { method: 'server-lz4' }, walMethod: 'stream' });
  });
  it('without a choice, a server or pg_basebackup older than 15 gets the runbook\'s gzip (it has no zstd or lz4)', () => {
    expect(settingsOf({ targetId: id }, 14)).toEqual({ compression: { method: 'gzip', level: 6 }, walMethod: 'stream' });
    expect(settingsOf({ targetId: id }, 17)).toEqual({ compression: { method: 'server-zstd', level: 3 }, walMethod: 'stream' });
    expect(settingsOf({ targetId: id, compression: 'none' }, 13)).toEqual({ compression: { method: 'none' }, walMethod: 'stream' });
  });
});

describe('walSettingsProblem', () => {
  it('wal_level minimal and too few WAL senders, each with the line to change', () => {
    expect(walSettingsProblem({ wal_level: 'minimal', max_wal_senders: 0 }, 'stream')).toMatch(/set wal_level = replica in postgresql\.conf/);
    expect(walSettingsProblem({ wal_level: 'replica', max_wal_senders: 1 }, 'stream')).toMatch(/allows 1 replication connection\(s\).*needs 2: set max_wal_senders = 10/);
    expect(walSettingsProblem({ wal_level: 'replica', max_wal_senders: 1 }, 'fetch')).toBeNull();
    expect(walSettingsProblem({ wal_level: 'logical', max_wal_senders: 10 }, 'stream')).toBeNull();
  });
});

describe('baseBackupPayload', () => {
  it('refuses a level the method does not have, or workers for anything but zstd, naming the field', () => {
    const issues = (p: object) => {
      const r = baseBackupPayload.safeParse({ targetId: id, ...p });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ compression: 'gzip', level: 12 })).toEqual(['level: must be at most 9 for gzip']);
    expect(issues({ level: 3 })).toEqual(['level: needs a compression']);
    expect(issues({ compression: 'server-lz4', workers: 2 })).toEqual(['workers: is for zstd only']);
    expect(issues({ compression: 'brotli' })).toEqual(['compression: must be none, gzip, client-zstd, server-zstd or server-lz4']);
    expect(issues({ compression: 'server-zstd', level: 19, workers: 2 })).toEqual([]);
  });
});
