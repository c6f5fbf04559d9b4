// The recovered server on this worker host: owned by the postgres OS user when the worker is root, started with
// pg_ctl (worker/pg/pg-ctl.ts), watched once a second until it has promoted, stopped and removed on failure or by
// pitr-discard. Only ever the folder and port this recovery made: never the production server.
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type pg from 'pg';
import { UserError } from '../../lib/errors';
import { connect, type TargetConn } from '../pg/connect';
import { isRoot, pgCtlStart, pgCtlStatus, pgCtlStop } from '../pg/pg-ctl';
import { runTool } from '../pg/run-tool';
import { lastFatalLine } from './settings';

const never = new AbortController().signal;

/** chown -R postgres:postgres, when this worker runs as root (PostgreSQL refuses to run as root). */
export async function giveToPostgres(folder: string, signal: AbortSignal): Promise<void> {
  if (!isRoot()) return;
  const r = await runTool({ exe: 'chown', args: ['-R', 'postgres:postgres', folder], signal, stdout: 'ignore' });
  if (r.exitCode !== 0) throw new UserError('PITR_RECOVERY_FAILED', `Could not give ${folder} to the postgres OS user: ${r.stderrTail.trim()}`, 'Create the postgres OS user on the worker host (install the PostgreSQL server package), then run the recovery again.');
}

/** The postgres OS user must reach the recovery folder (every folder above it searchable): checked as that user. */
export async function requirePostgresReaches(file: string, signal: AbortSignal): Promise<void> {
  if (!isRoot()) return;
  const r = await runTool({ exe: 'runuser', args: ['-u', 'postgres', '--', 'test', '-x', file], signal, stdout: 'ignore', cwd: '/' });
  if (r.exitCode !== 0) {
    throw new UserError('PITR_RECOVERY_FAILED', `The postgres OS user cannot reach ${file}: a folder above it is closed to other users.`, 'Let other users search the folders above the destination (chmod o+x), or choose a destination under a folder they can enter, then run the recovery again.');
  }
}

export function readLog(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
}

function failed(message: string, logFile: string): UserError {
  const fatal = lastFatalLine(readLog(logFile));
  return new UserError('PITR_RECOVERY_FAILED', `${message}${fatal ? ` The server log says: ${fatal}` : ''} (log: ${logFile})`);
}

export async function startServer(binDir: string, dataDir: string, logFile: string, signal: AbortSignal): Promise<void> {
  // -w with a short wait: a server still replaying before it is consistent does not accept connections yet, and
  // that is not a failure; whether it still runs is what counts.
  const r = await pgCtlStart(binDir, { dataDir, logFile, settings: {}, timeoutSeconds: 20 }, signal);
  if (r.exitCode === 0) return;
  if ((await pgCtlStatus(binDir, dataDir, signal)) === 'running') return;
  throw failed(`The recovered server did not start (pg_ctl: ${r.output.split('\n').pop() ?? `exit ${r.exitCode}`}).`, logFile);
}

export async function stopServer(binDir: string, dataDir: string): Promise<boolean> {
  if (!existsSync(dataDir) || (await pgCtlStatus(binDir, dataDir, never)) !== 'running') return false;
  const r = await pgCtlStop(binDir, { dataDir, mode: 'fast', timeoutSeconds: 60 }, never);
  if (r.exitCode !== 0) await pgCtlStop(binDir, { dataDir, mode: 'immediate', timeoutSeconds: 30 }, never);
  return true;
}

export async function removeFolder(folder: string): Promise<void> {
  await rm(folder, { recursive: true, force: true });
}

export interface ReplayState {
  inRecovery: boolean;
  replayLsn: string | null;
  lastTransactionAt: Date | null;
}

export const replaySql = `SELECT pg_is_in_recovery() AS in_recovery, pg_last_wal_replay_lsn()::text AS replay_lsn, pg_last_xact_replay_timestamp() AS xact_at`;

/**
 * Polls the recovered server once a second until it has promoted (pg_is_in_recovery() false). A server that is no
 * longer running fails with its log's last FATAL line; one that does not accept connections yet is waited for.
 */
export async function waitForPromotion(o: {
  binDir: string;
  dataDir: string;
  logFile: string;
  conn: TargetConn;
  signal: AbortSignal;
  onState: (s: ReplayState) => Promise<void>;
}): Promise<ReplayState & { promotedAt: Date }> {
  let client: pg.Client | null = null;
  let last: ReplayState = { inRecovery: true, replayLsn: null, lastTransactionAt: null };
  let refused = '';
  let conn = o.conn;
  try {
    for (;;) {
      if (o.signal.aborted) throw o.signal.reason;
      if (!client) {
        try {
          client = await connect(conn);
        } catch (err) {
          const e = err as UserError;
          // The target's database may not exist at the recovery target (created later): watch through postgres.
          if (e.code === 'TARGET_DATABASE_MISSING' && conn.database !== 'postgres') conn = { ...conn, database: 'postgres' };
          else if (e.code === 'TARGET_AUTH_FAILED' || e.code === 'TARGET_CONNECT_DENIED') refused = e.message;
        }
      }
      if (client) {
        try {
          const { rows } = await client.query<{ in_recovery: boolean; replay_lsn: string | null; xact_at: Date | null }>(replaySql);
          const r = rows[0]!;
          // After promotion the replay functions keep the last replayed position and transaction time.
          last = { inRecovery: r.in_recovery, replayLsn: r.replay_lsn ?? last.replayLsn, lastTransactionAt: r.xact_at ?? last.lastTransactionAt };
          await o.onState(last);
          if (!last.inRecovery) return { ...last, promotedAt: new Date() };
        } catch {
          await client.end().catch(() => {});
          client = null;
        }
      }
      if ((await pgCtlStatus(o.binDir, o.dataDir, never)) !== 'running') {
        throw failed(`The recovered server stopped before it promoted${last.replayLsn ? ` (replayed up to ${last.replayLsn})` : ''}.`, o.logFile);
      }
      if (!client && refused) {
        throw failed(`The recovered server runs but refuses the target's login, so its progress cannot be watched: ${refused}`, o.logFile);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await client?.end().catch(() => {});
  }
}
