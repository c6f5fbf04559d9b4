// Guided repair: reading psql's stderr during REINDEX (VERBOSE) and VACUUM (VERBOSE): progress events, the log level
// of each line, and the server's error messages.
import type { LogLevel } from '../pg/run-tool';

export type MaintenanceLine =
  | { kind: 'index-reindexed'; object: string }
  | { kind: 'table-reindexed'; object: string }
  | { kind: 'vacuuming'; object: string }
  | { kind: 'analyzing'; object: string }
  | { kind: 'message'; level: 'info' | 'warn' | 'error' }
  | { kind: 'noise' };

/** One stderr line of `REINDEX (VERBOSE)` or `VACUUM (VERBOSE)` through psql: progress events, or a line to log. */
export function parseMaintenanceLine(line: string): MaintenanceLine {
  const t = line.trim();
  if (!t) return { kind: 'noise' };
  // Per-object timings ("DETAIL:  CPU: user: ...", "CPU: user: ...") add nothing a person reads.
  if (/^(DETAIL:\s+)?CPU: user:/.test(t)) return { kind: 'noise' };
  let m = /^INFO:\s+index "(.+)" was reindexed$/.exec(t);
  if (m) return { kind: 'index-reindexed', object: m[1]! };
  m = /^INFO:\s+table "(.+)" was reindexed$/.exec(t);
  if (m) return { kind: 'table-reindexed', object: m[1]! };
  m = /^INFO:\s+vacuuming "(.+)"$/.exec(t);
  if (m) return { kind: 'vacuuming', object: m[1]! };
  m = /^INFO:\s+analyzing "(.+)"$/.exec(t);
  if (m) return { kind: 'analyzing', object: m[1]! };
  if (/^(ERROR|FATAL|PANIC):/.test(t) || /^psql: error:/.test(t)) return { kind: 'message', level: 'error' };
  if (/^WARNING:/.test(t)) return { kind: 'message', level: 'warn' };
  return { kind: 'message', level: 'info' };
}

export interface ReadLine {
  parsed: MaintenanceLine;
  /** null for noise, which is not logged. */
  level: LogLevel | null;
  /** The server's message of an ERROR, FATAL or PANIC line, without its prefix. */
  error: string | null;
}

/**
 * A reader of one psql run's stderr, line by line: DETAIL, HINT and CONTEXT lines take the level of the message
 * above them, so an error's detail is logged as part of the error.
 */
export function maintenanceReader(): (line: string) => ReadLine {
  let lastLevel: LogLevel = 'info';
  return (line) => {
    const parsed = parseMaintenanceLine(line);
    if (parsed.kind === 'noise') return { parsed, level: null, error: null };
    const t = line.trim();
    const level = parsed.kind === 'message' ? (/^(DETAIL|HINT|CONTEXT):/.test(t) ? lastLevel : parsed.level) : 'info';
    lastLevel = level;
    const error = level === 'error' && /^(ERROR|FATAL|PANIC):/.test(t) ? t.replace(/^(ERROR|FATAL|PANIC):\s+/, '') : null;
    return { parsed, level, error };
  };
}
