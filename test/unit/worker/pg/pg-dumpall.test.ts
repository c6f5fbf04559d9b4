// worker/pg/pg-dumpall.ts: the globals argv (and pg-dump.ts still re-exports it).
import { describe, expect, it } from 'vitest';
import { pgDumpallGlobalsArgs } from '../../../../worker/pg/pg-dumpall';
import { pgDumpallGlobalsArgs as reexported } from '../../../../worker/pg/pg-dump';

describe('pg_dumpall', () => {
  it('globals only, never prompting; without role passwords when asked', () => {
    expect(pgDumpallGlobalsArgs(false)).toEqual(['--globals-only', '--no-password']);
    expect(pgDumpallGlobalsArgs(true)).toEqual(['--globals-only', '--no-password', '--no-role-passwords']);
    expect(reexported).toBe(pgDumpallGlobalsArgs);
  });
});
