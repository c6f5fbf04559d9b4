// worker/pg/psql.ts: the generic argv builder (repair's one-statement argv exactly) and the runner's environment.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { psqlArgs, runPsql } from '../../../../worker/pg/psql';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-adapters-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const signal = () => new AbortController().signal;

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
