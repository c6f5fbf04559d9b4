// Argv builders of the small adapters (zstd, psql, pg_dumpall, initdb / pg_ctl) and SQL quoting, plus the zstd
// runners against the real zstd: a damaged archive is refused with the code asked for, never passed as good.
import { mkdtempSync, rmSync, writeFileSync, readFileSync, createReadStream, open as openCb } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../../lib/errors';
import { pgDumpallGlobalsArgs } from '../../../../worker/pg/pg-dumpall';
import { pgDumpallGlobalsArgs as reexported } from '../../../../worker/pg/pg-dump';
import { initdbArgs, pgCtlStartArgs, pgCtlStatusArgs, pgCtlStopArgs, serverToolSpec, shellQuote } from '../../../../worker/pg/pg-ctl';
import { psqlArgs, runPsql } from '../../../../worker/pg/psql';
import { quoteIdent, quoteLiteral, quoteQualified } from '../../../../worker/pg/sql';
import { zstdCompressArgs, zstdDecompressArgs, zstdDecompressFile, zstdTest, zstdTestArgs } from '../../../../worker/pg/zstd';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-adapters-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const signal = () => new AbortController().signal;

describe('zstd argv', () => {
  it('compresses stdin to stdout at a level with threads, quietly', () => {
    expect(zstdCompressArgs(3, 1)).toEqual(['-3', '-T1', '-c', '-q']);
    expect(zstdCompressArgs(19, 4)).toEqual(['-19', '-T4', '-c', '-q']);
  });
  it('decompresses file to file (replacing the scratch file), file or stdin to stdout', () => {
    expect(zstdDecompressArgs('/s/a b.dump.zst', '/s/x.dump')).toEqual(['-d', '-q', '-f', '/s/a b.dump.zst', '-o', '/s/x.dump']);
    expect(zstdDecompressArgs('/s/a.zst', null)).toEqual(['-d', '-q', '-c', '/s/a.zst']);
    expect(zstdDecompressArgs(null, null)).toEqual(['-d', '-q', '-c']);
    expect(zstdDecompressArgs(null, '/s/x')).toEqual(['-d', '-q', '-f', '-o', '/s/x']);
  });
  it('tests a file or stdin', () => {
    expect(zstdTestArgs('/s/a.zst')).toEqual(['-t', '-q', '/s/a.zst']);
    expect(zstdTestArgs(null)).toEqual(['-t', '-q']);
  });
});

describe('zstd runners check the exit status', () => {
  const plain = Buffer.alloc(1 << 20, 'lifeboat ');
  const good = path.join(dir, 'good.zst');
  const cut = path.join(dir, 'cut.zst');

  it('decompresses and tests a good archive, from a path or from a file stream', async () => {
    writeFileSync(path.join(dir, 'plain'), plain);
    await execa('zstd', ['-q', '-f', path.join(dir, 'plain'), '-o', good]);
    await zstdTest(good, { signal: signal() });
    const fd = await promisify(openCb)(good, 'r');
    await zstdTest(createReadStream(good, { fd }), { signal: signal() });
    await zstdDecompressFile(good, path.join(dir, 'out'), { signal: signal() });
    expect(readFileSync(path.join(dir, 'out')).equals(plain)).toBe(true);
  });

  it('a cut archive is refused with BACKUP_UNREADABLE (or the code asked for), with zstd\'s reason', async () => {
    const bytes = readFileSync(good);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    await expect(zstdTest(cut, { signal: signal() })).rejects.toMatchObject({ code: 'BACKUP_UNREADABLE', message: expect.stringMatching(/^zstd -t failed \(exit 1\): .+/) });
    await expect(zstdDecompressFile(cut, path.join(dir, 'out2'), { signal: signal(), code: 'BACKUP_VERIFY_FAILED' })).rejects.toBeInstanceOf(UserError);
    await expect(zstdDecompressFile(cut, path.join(dir, 'out2'), { signal: signal(), code: 'BACKUP_VERIFY_FAILED' })).rejects.toMatchObject({ code: 'BACKUP_VERIFY_FAILED' });
  });
});

describe('psqlArgs', () => {
  it("one statement: repair's argv exactly (no psqlrc, no prompt, stop on error, -c outside a transaction)", () => {
    expect(psqlArgs({ command: 'REINDEX (VERBOSE) DATABASE "x"' })).toEqual(['-X', '-w', '-v', 'ON_ERROR_STOP=1', '-c', 'REINDEX (VERBOSE) DATABASE "x"']);
  });
  it('a script from stdin or a file, quiet, one transaction, variables, rows without decoration', () => {
    expect(psqlArgs({ quiet: true })).toEqual(['-X', '-w', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-']);
    expect(psqlArgs({ file: '/s/globals.sql', singleTransaction: true, tuplesOnly: true, variables: { db: 'a b' } })).toEqual([
      '-X', '-w', '-v', 'ON_ERROR_STOP=1', '-v', 'db=a b', '-1', '-A', '-t', '-f', '/s/globals.sql',
    ]);
    expect(() => psqlArgs({ variables: { 'bad name': 'x' } })).toThrow(/variable name/);
  });
  it('runPsql passes the database in the environment (never argv) and the script on stdin', async () => {
    // A fake psql that prints its argv, PGDATABASE and stdin.
    const fake = path.join(dir, 'fake-psql');
    writeFileSync(fake, '#!/bin/sh\necho "$@"; echo "db=$PGDATABASE"; cat\n', { mode: 0o755 });
    const r = await runPsql({ exe: fake, env: { PGDATABASE: 'postgres' }, database: 'we=ird db', signal: signal(), input: 'SELECT 1;', quiet: true });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('-X -w -q -v ON_ERROR_STOP=1 -f -\ndb=we=ird db\nSELECT 1;');
  });
});

describe('pg_dumpall', () => {
  it('globals only, never prompting; without role passwords when asked', () => {
    expect(pgDumpallGlobalsArgs(false)).toEqual(['--globals-only', '--no-password']);
    expect(pgDumpallGlobalsArgs(true)).toEqual(['--globals-only', '--no-password', '--no-role-passwords']);
    expect(reexported).toBe(pgDumpallGlobalsArgs);
  });
});

describe('initdb and pg_ctl argv', () => {
  it('initdb: trust without a password, scram with a pwfile, --no-sync for throwaway clusters', () => {
    expect(initdbArgs({ dataDir: '/d', superuser: 'postgres', locale: 'C.UTF-8' })).toEqual(['-D', '/d', '-U', 'postgres', '--encoding=UTF8', '--locale=C.UTF-8', '--auth=trust']);
    expect(initdbArgs({ dataDir: '/d', superuser: 'lb', locale: 'C', pwFile: '/t/pw', noSync: true })).toEqual([
      '-D', '/d', '-U', 'lb', '--encoding=UTF8', '--locale=C', '--no-sync', '--auth=scram-sha-256', '--pwfile=/t/pw',
    ]);
  });
  it('pg_ctl start shell-quotes each setting for -o; stop waits with a mode; status', () => {
    expect(pgCtlStartArgs({ dataDir: '/d', logFile: '/d.log', settings: { port: '5433', search_path: "it's, public" } })).toEqual([
      'start', '-w', '-t', '60', '-D', '/d', '-l', '/d.log', '-o', `-c 'port=5433' -c 'search_path=it'\\''s, public'`,
    ]);
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
    expect(pgCtlStopArgs({ dataDir: '/d', mode: 'immediate', timeoutSeconds: 5 })).toEqual(['stop', '-w', '-t', '5', '-m', 'immediate', '-D', '/d']);
    expect(pgCtlStatusArgs('/d')).toEqual(['status', '-D', '/d']);
  });
  it('runs as the postgres OS user when root, itself otherwise', () => {
    const spec = serverToolSpec('/usr/lib/postgresql/17/bin', 'pg_ctl', ['status'], { signal: signal() });
    if (process.getuid?.() === 0) {
      expect(spec.exe).toBe('runuser');
      expect(spec.args).toEqual(['-u', 'postgres', '--', '/usr/lib/postgresql/17/bin/pg_ctl', 'status']);
    } else {
      expect(spec.exe).toBe('/usr/lib/postgresql/17/bin/pg_ctl');
      expect(spec.args).toEqual(['status']);
    }
    expect(spec.cwd).toBe('/');
  });
});

describe('quoteIdent and quoteLiteral', () => {
  it('quotes identifiers always, doubling quotes', () => {
    expect(quoteIdent('orders')).toBe('"orders"');
    expect(quoteIdent('My "odd" Table')).toBe('"My ""odd"" Table"');
    expect(quoteQualified('s', 't"x')).toBe('"s"."t""x"');
    expect(() => quoteIdent('a\0b')).toThrow();
  });
  it("quotes literals as quote_literal does: quotes doubled, E'' when there is a backslash", () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral('C:\\path')).toBe("E'C:\\\\path'");
    expect(quoteLiteral("a\\'b")).toBe("E'a\\\\''b'");
    expect(quoteLiteral('')).toBe("''");
  });
});
