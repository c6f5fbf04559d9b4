// Guided repair: one maintenance statement (REINDEX or VACUUM) through psql, with psql's lines in the job log as they
// come and each parsed line handed to the caller for progress; a statement the server refused is an outcome.
import { ToolError } from '../../lib/jobs/lifecycle';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { runPsql } from '../pg/psql';
import { lastErrorLine, lineLogger, tail } from '../pg/run-tool';
import { maintenanceReader, type MaintenanceLine } from './maintenance-line';
import { sessionLimitsOptions } from './repair-sql';

/** A burst of VERBOSE output beyond this many lines is not logged (the statement still runs to its end). */
const MAX_LOG_LINES = 20_000;

export interface MaintenanceOutcome {
  ok: boolean;
  error: string | null;
  lockTimeout: boolean;
}

/**
 * Runs `sql` through psql as the target's user (`env`: libpq variables and the passfile). A statement the server
 * refused (corruption, a lock timeout) is returned; psql that cannot run or connect is thrown as REPAIR_FAILED.
 */
export async function runMaintenance(
  ctx: JobContext<{ lockTimeoutSeconds: number }>,
  psql: string,
  env: Record<string, string>,
  sql: string,
  onLine: (l: MaintenanceLine) => void,
): Promise<MaintenanceOutcome> {
  const read = maintenanceReader();
  const errors: string[] = [];
  const logger = lineLogger(ctx.log, { max: MAX_LOG_LINES, tool: 'psql' });
  const r = await runPsql({
    exe: psql,
    // -c: the statement runs on its own, outside a transaction block (REINDEX DATABASE and VACUUM refuse to run in one).
    command: sql,
    // Maintenance must not be cut short by a statement_timeout tuned for the application (the job's expiry bounds it),
    // but it must not queue behind another session's lock for hours either: lock_timeout ends each wait.
    env: { ...env, PGOPTIONS: sessionLimitsOptions(ctx.payload.lockTimeoutSeconds) },
    signal: ctx.signal,
    stdout: 'ignore',
    onLine: (line) => {
      const { parsed, level, error } = read(line);
      if (level === null) return;
      onLine(parsed);
      if (error) errors.push(error);
      // The reader knows the level better than the logger's guess (a DETAIL line takes its message's level).
      logger.onLine(line.trimEnd(), level);
    },
  });
  await logger.flush();
  ctx.signal.throwIfAborted();
  if (r.exitCode === 0) return { ok: true, error: null, lockTimeout: false };
  // Exit 1 with a server ERROR: the statement ran and was refused. Anything else (no connection, no psql) is fatal.
  if (r.exitCode === 1 && errors.length) return { ok: false, error: errors[0]!, lockTimeout: /lock timeout/i.test(errors[0]!) };
  const last = lastErrorLine(r.stderrTail, 'psql') ?? r.stderrTail.trim().split('\n').filter(Boolean).pop() ?? '';
  throw new ToolError('REPAIR_FAILED', `psql failed (exit ${r.exitCode ?? r.signal ?? 'none'}): ${last.replace(/^psql: error: /, '')}`, tail(r.stderrTail));
}
