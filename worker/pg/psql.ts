// psql: the generic argv builder and runner. Host, port, user, database and the passfile come from the environment
// (toolEnv), never argv: a database name with "=" or spaces is never parsed as a conninfo string. Parsers of what a
// particular statement prints live beside their task (repair's parseMaintenanceLine).
import type { Readable } from 'node:stream';
import { runTool, type ToolHandle } from './run-tool';

export interface PsqlArgsOptions {
  /** One statement run on its own (-c): outside a transaction block, so REINDEX DATABASE and VACUUM may run. */
  command?: string;
  /** A script file; '-' (the default when no command is given) reads stdin. */
  file?: string;
  /** -q: no command tags (CREATE ROLE, SET ...) on stdout. */
  quiet?: boolean;
  /** -A -t: unaligned rows without headers or footers, for reading values. */
  tuplesOnly?: boolean;
  /** -1: the whole script in one transaction (all or nothing). */
  singleTransaction?: boolean;
  /** -v name=value: psql variables (:'name' in the script). */
  variables?: Record<string, string>;
}

export function psqlArgs(o: PsqlArgsOptions): string[] {
  return [
    // -X: skip ~/.psqlrc, so nobody's personal settings change what runs.
    '-X',
    // -w: never prompt for a password; it comes from the 0600 passfile, and a missing one fails at once.
    '-w',
    ...(o.quiet ? ['-q'] : []),
    // ON_ERROR_STOP: a failed statement makes psql exit non-zero (3 in a script, 1 with -c) instead of carrying on.
    '-v',
    'ON_ERROR_STOP=1',
    ...Object.entries(o.variables ?? {}).flatMap(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`not a psql variable name: ${k}`);
      return ['-v', `${k}=${v}`];
    }),
    ...(o.singleTransaction ? ['-1'] : []),
    ...(o.tuplesOnly ? ['-A', '-t'] : []),
    ...(o.command !== undefined ? ['-c', o.command] : ['-f', o.file ?? '-']),
  ];
}

export interface PsqlRun extends PsqlArgsOptions {
  /** The psql of the chosen tool set (ToolSet.path('psql')). */
  exe: string;
  /** libpq environment from toolEnv() (PGHOST, PGUSER, PGPASSFILE, ...), plus e.g. PGOPTIONS. */
  env: Record<string, string>;
  /** Overrides PGDATABASE. */
  database?: string;
  signal: AbortSignal;
  /** The script when file is '-' (or unset and no command). */
  input?: string | Buffer | Readable;
  /** Every stderr line (NOTICE, INFO from VERBOSE, ERROR ...). */
  onLine?: (line: string) => void;
  /** 'buffer' (default) or 'ignore'. */
  stdout?: 'buffer' | 'ignore';
}

/**
 * Runs psql. On abort it gets SIGINT, which makes psql send a cancel request, so the server stops the statement
 * too (not only psql); SIGKILL 10 s later. The result is not checked: a refused statement is sometimes an outcome
 * (repair); call requireSuccess(r, 'psql', code) where it is not.
 */
export function runPsql(o: PsqlRun): ToolHandle {
  return runTool({
    exe: o.exe,
    args: psqlArgs(o),
    env: { ...o.env, ...(o.database !== undefined ? { PGDATABASE: o.database } : {}) },
    signal: o.signal,
    stdin: o.command !== undefined ? 'ignore' : (o.input ?? 'ignore'),
    stdout: o.stdout ?? 'buffer',
    onLine: o.onLine,
    killSignal: 'SIGINT',
  });
}
