// worker/pg/pg-dump.ts: pg_dump and pg_dumpall argv for every format (no password or conninfo ever in argv), the
// progress parser over pg_dump --verbose lines, the TOC counter over pg_restore --list output, file extensions.
import { describe, expect, it } from 'vitest';
import { countTocEntries, defaultDumpSettings, fileExtension, parseDumpProgress, pgDumpallGlobalsArgs, pgDumpArgs, zstdArgs, type DumpSettings } from '../../../../worker/pg/pg-dump';

const custom: DumpSettings = { format: 'custom', compressLevel: 9, zstdLevel: 3, zstdThreads: 2, jobs: 2 };

describe('pgDumpArgs', () => {
  it('custom-zstd: an uncompressed custom archive (zstd compresses the stream), verbose, never prompting, in the snapshot', () => {
    expect(pgDumpArgs(defaultDumpSettings, '00000003-0000001B-1')).toEqual(['--format=custom', '--compress=0', '--verbose', '--no-password', '--snapshot=00000003-0000001B-1']);
  });
  it('custom: gzip inside the archive at the schedule level; no --snapshot without one', () => {
    expect(pgDumpArgs(custom)).toEqual(['--format=custom', '--compress=9', '--verbose', '--no-password']);
  });
  it('directory: parallel jobs into the named folder', () => {
    expect(pgDumpArgs({ ...custom, format: 'directory', compressLevel: 6, jobs: 4 }, 'snap', '/scratch/j/0-app.dir')).toEqual([
      '--format=directory',
      '--jobs=4',
      '--file=/scratch/j/0-app.dir',
      '--compress=6',
      '--verbose',
      '--no-password',
      '--snapshot=snap',
    ]);
  });
  it('never carries a database name, host or password: those travel in the environment', () => {
    for (const args of [pgDumpArgs(defaultDumpSettings, 's'), pgDumpArgs(custom)]) expect(args.every((a) => a.startsWith('--'))).toBe(true);
  });
});

describe('zstdArgs', () => {
  it('level, threads, to stdout, quiet', () => {
    expect(zstdArgs({ ...defaultDumpSettings, zstdLevel: 5, zstdThreads: 2 })).toEqual(['-5', '-T2', '-c', '-q']);
  });
});

describe('pgDumpallGlobalsArgs', () => {
  it('globals only, never prompting; without role passwords when the user cannot read pg_authid', () => {
    expect(pgDumpallGlobalsArgs(false)).toEqual(['--globals-only', '--no-password']);
    expect(pgDumpallGlobalsArgs(true)).toEqual(['--globals-only', '--no-password', '--no-role-passwords']);
  });
});

describe('parseDumpProgress', () => {
  it('names the table whose data is being dumped, quotes and dots included', () => {
    expect(parseDumpProgress('pg_dump: dumping contents of table "public.orders"')).toEqual({ table: 'public.orders' });
    expect(parseDumpProgress('pg_dump: dumping contents of table "odd schema.a.b"')).toEqual({ table: 'odd schema.a.b' });
  });
  it('ignores every other line', () => {
    for (const l of ['pg_dump: reading extensions', 'pg_dump: saving encoding = UTF8', 'pg_dump: creating TABLE "public.orders"', '']) expect(parseDumpProgress(l)).toEqual({});
  });
});

describe('countTocEntries', () => {
  it('counts entries and TABLE DATA entries, not comments or blank lines', () => {
    const list = [
      ';',
      '; Archive created at 2026-12-07 18:00:00 UTC',
      ';     dbname: app',
      ';',
      '215; 1259 16390 TABLE public orders app',
      '216; 1259 16395 SEQUENCE public orders_id_seq app',
      '3370; 0 16390 TABLE DATA public orders app',
      '3371; 0 16400 TABLE DATA public "a table" app',
      '3372; 0 0 BLOBS - BLOBS ',
      '',
    ].join('\n');
    expect(countTocEntries(list)).toEqual({ entries: 5, tableData: 2 });
    expect(countTocEntries('')).toEqual({ entries: 0, tableData: 0 });
  });
});

describe('fileExtension', () => {
  it('.dump.zst, .dump, .dir', () => {
    expect(fileExtension(defaultDumpSettings)).toBe('dump.zst');
    expect(fileExtension(custom)).toBe('dump');
    expect(fileExtension({ ...custom, format: 'directory' })).toBe('dir');
  });
});
