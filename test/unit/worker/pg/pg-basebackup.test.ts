// worker/pg/pg-basebackup.ts: argv for each compression choice (PostgreSQL 15 syntax and the older --gzip), no
// connection or password in argv, the --progress parser over lines captured from pg_basebackup 15.20, the WAL
// positions of --verbose, the archive names pg_basebackup writes, and the server's refusals told apart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  archiveName,
  classifyBaseBackupFailure,
  compressArg,
  defaultBaseBackupSettings,
  parseBaseBackupProgress,
  parseWalPoint,
  pgBasebackupArgs,
  sortOutputFiles,
} from '../../../../worker/pg/pg-basebackup';

const captured = readFileSync(new URL('./fixtures/pg_basebackup-15-progress.txt', import.meta.url), 'utf8').split('\n');

describe('pgBasebackupArgs', () => {
  it('tar format, fast checkpoint, WAL streamed, SHA-256 manifest, server zstd, label, progress, never prompting', () => {
    expect(pgBasebackupArgs({ dir: '/scratch/j/base', settings: defaultBaseBackupSettings, toolMajor: 15, label: '20261213T010000123Z-base-7c1d2e3f' })).toEqual([
      '--pgdata=/scratch/j/base',
      '--format=tar',
      '--checkpoint=fast',
      '--wal-method=stream',
      '--manifest-checksums=SHA256',
      '--compress=server-zstd:level=3',
      '--label=20261213T010000123Z-base-7c1d2e3f',
      '--progress',
      '--verbose',
      '--no-sync',
      '--no-password',
    ]);
  });
  it('fetch puts the WAL into base.tar', () => {
    const args = pgBasebackupArgs({ dir: '/d', settings: { ...defaultBaseBackupSettings, walMethod: 'fetch' }, toolMajor: 16, label: 'x' });
    expect(args).toContain('--wal-method=fetch');
  });
  it('never carries a host, user, database or password: those travel in the environment', () => {
    const args = pgBasebackupArgs({ dir: '/d', settings: defaultBaseBackupSettings, toolMajor: 15, label: 'x' });
    expect(args.every((a) => a.startsWith('--'))).toBe(true);
    expect(args.join(' ')).not.toMatch(/--(host|port|username|dbname)|password=/);
  });
});

describe('compressArg', () => {
  it('PostgreSQL 15 syntax for every choice', () => {
    expect(compressArg({ method: 'server-zstd', level: 3, workers: 2 }, 15)).toEqual(['--compress=server-zstd:level=3,workers=2']);
    expect(compressArg({ method: 'client-zstd', level: 9 }, 15)).toEqual(['--compress=client-zstd:level=9']);
    expect(compressArg({ method: 'server-lz4' }, 17)).toEqual(['--compress=server-lz4']);
    expect(compressArg({ method: 'server-lz4', level: 1 }, 15)).toEqual(['--compress=server-lz4:level=1']);
    expect(compressArg({ method: 'gzip', level: 6 }, 15)).toEqual(['--compress=client-gzip:level=6']);
    expect(compressArg({ method: 'none' }, 15)).toEqual(['--compress=none']);
  });
  it('before 15: the runbook\'s --gzip with a level, or nothing; zstd and lz4 are refused', () => {
    expect(compressArg({ method: 'gzip', level: 9 }, 14)).toEqual(['--gzip', '--compress=9']);
    expect(compressArg({ method: 'none' }, 13)).toEqual([]);
    expect(() => compressArg({ method: 'server-zstd', level: 3 }, 14)).toThrow(/pg_basebackup 15/);
  });
});

describe('parseBaseBackupProgress (lines captured from pg_basebackup 15.20)', () => {
  it('reads bytes done and estimated, tablespaces and the archive being written', () => {
    const parsed = captured.map(parseBaseBackupProgress).filter((p) => p !== null);
    expect(parsed).toHaveLength(6);
    expect(parsed[2]).toEqual({ doneBytes: 48408 * 1024, totalBytes: 156504 * 1024, percent: 30, tablespacesDone: 1, tablespaces: 2, file: 'base.tar.zst' });
    expect(parsed[0]!.file).toBe('16389.tar.zst');
    expect(parsed[5]).toEqual({ doneBytes: 156516 * 1024, totalBytes: 156516 * 1024, percent: 100, tablespacesDone: 2, tablespaces: 2, file: null });
  });
  it('without --verbose: "1/1 tablespace" and no file', () => {
    expect(parseBaseBackupProgress('106235/106235 kB (100%), 0/1 tablespace')).toEqual({ doneBytes: 106235 * 1024, totalBytes: 106235 * 1024, percent: 100, tablespacesDone: 0, tablespaces: 1, file: null });
  });
  it('a long path cut with "..." still gives the file name', () => {
    expect(parseBaseBackupProgress('  10/20 kB (50%), 0/1 tablespace (...ch/0a1b2c3d/base/base.tar.gz)')!.file).toBe('base.tar.gz');
  });
  it('every other line is not progress', () => {
    for (const l of captured.filter((l) => l.startsWith('pg_basebackup:'))) expect(parseBaseBackupProgress(l)).toBeNull();
  });
});

describe('parseWalPoint', () => {
  it('start (with timeline) and end positions from --verbose', () => {
    expect(parseWalPoint(captured[2]!)).toEqual({ which: 'start', lsn: '0/D000028', timeline: 1 });
    expect(parseWalPoint(captured[11]!)).toEqual({ which: 'end', lsn: '0/D000100' });
    expect(parseWalPoint(captured[0]!)).toBeNull();
  });
});

describe('archiveName and sortOutputFiles', () => {
  it('base, tablespaces by OID and WAL, each with its compression and place in the data directory', () => {
    expect(archiveName('base.tar.zst')).toEqual({ file: 'base.tar.zst', kind: 'base', oid: null, compression: 'zstd', prefix: '' });
    expect(archiveName('16389.tar.gz')).toEqual({ file: '16389.tar.gz', kind: 'tablespace', oid: '16389', compression: 'gzip', prefix: 'pg_tblspc/16389/' });
    expect(archiveName('pg_wal.tar')).toEqual({ file: 'pg_wal.tar', kind: 'wal', oid: null, compression: 'none', prefix: 'pg_wal/' });
    expect(archiveName('base.tar.lz4')!.compression).toBe('lz4');
    expect(archiveName('backup_manifest')).toBeNull();
    expect(archiveName('backup_manifest.tmp')).toBeNull();
  });
  it('stores tablespaces, base, WAL, then backup_manifest', () => {
    expect(sortOutputFiles(['backup_manifest', 'pg_wal.tar', 'base.tar.zst', '16389.tar.zst'])).toEqual(['16389.tar.zst', 'base.tar.zst', 'pg_wal.tar', 'backup_manifest']);
  });
});

describe('classifyBaseBackupFailure (the servers\' own words)', () => {
  it('tells the refusals apart', () => {
    expect(classifyBaseBackupFailure('pg_basebackup: error: connection to server at "127.0.0.1", port 37527 failed: FATAL:  must be superuser or replication role to start walsender')).toBe('no-replication');
    expect(classifyBaseBackupFailure('pg_basebackup: error: connection to server at "127.0.0.1", port 43049 failed: FATAL:  number of requested standby connections exceeds max_wal_senders (currently 0)')).toBe('no-wal-senders');
    expect(classifyBaseBackupFailure('FATAL:  no pg_hba.conf entry for replication connection from host "127.0.0.1", user "x", no encryption')).toBe('hba');
    expect(classifyBaseBackupFailure('pg_basebackup: error: could not read COPY data: server closed the connection')).toBeNull();
  });
});
