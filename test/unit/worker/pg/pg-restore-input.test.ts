// worker/pg/pg-restore.ts: the one place pg_restore's options are built, and how it reads an archive from a stored
// stream (through zstd -dc for a .zst, both exit statuses checked) or from a staged file.
import { createReadStream, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeArchive, pgRestoreArgs, readToc } from '../../../../worker/pg/pg-restore';

const PG_RESTORE = '/usr/lib/postgresql/15/bin/pg_restore';
const signal = new AbortController().signal;
const dir = mkdtempSync(join(tmpdir(), 'lifeboat-pgr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pgRestoreArgs', () => {
  const sel = { jobs: 2, schemas: [] as string[], tables: [] as string[], section: 'all' as const };

  it('without owners: --no-owner --no-privileges before the selection, archive still last', () => {
    expect(pgRestoreArgs('/s/a.dump', 'x', { ...sel, withoutOwners: true, tables: ['core.users'], section: 'data' })).toEqual([
      "--dbname=dbname='x'",
      '--jobs=2',
      '--verbose',
      '--exit-on-error',
      '--no-password',
      '--no-owner',
      '--no-privileges',
      '--schema=core',
      '--table=users',
      '--data-only',
      '/s/a.dump',
    ]);
  });

  it('with owners (the default) neither flag appears', () => {
    const args = pgRestoreArgs('/s/a.dump', 'x', sel);
    expect(args).not.toContain('--no-owner');
    expect(args).not.toContain('--no-privileges');
  });

  it('a schema-only restore, and a schema picked twice (by --schema and a table in it) is named once', () => {
    expect(pgRestoreArgs('/a', 'x', { ...sel, schemas: ['core'], tables: ['core.users'], section: 'schema' }).slice(5)).toEqual(['--schema=core', '--table=users', '--schema-only', '/a']);
  });
});

describe('reading an archive that is not one', () => {
  it('a stored .zst that is not zstd: BACKUP_UNREADABLE from zstd, whose exit status is checked', async () => {
    await expect(readToc({ open: async () => Readable.from([Buffer.from('not zstd at all')]), zstd: true }, PG_RESTORE, signal)).rejects.toMatchObject({ code: 'BACKUP_UNREADABLE', message: expect.stringContaining('zstd') });
  });

  it('a stored stream with an fd (as a local storage returns) that is not an archive: BACKUP_UNREADABLE from pg_restore', async () => {
    const file = join(dir, 'plain.txt');
    writeFileSync(file, 'SELECT 1;\n'.repeat(100));
    await expect(readToc({ open: async () => createReadStream(file), zstd: false }, PG_RESTORE, signal)).rejects.toMatchObject({ code: 'BACKUP_UNREADABLE', message: expect.stringContaining('not a pg_dump archive') });
  });

  it('a staged file cut short is refused when decoded to its end', async () => {
    const file = join(dir, 'cut.dump');
    writeFileSync(file, Buffer.concat([Buffer.from('PGDMP'), Buffer.alloc(20)]));
    await expect(decodeArchive({ file }, PG_RESTORE, signal)).rejects.toMatchObject({ code: 'BACKUP_UNREADABLE', message: expect.stringContaining('cannot be read to its end') });
  });
});
