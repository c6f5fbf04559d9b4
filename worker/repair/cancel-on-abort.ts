// Guided repair: a cancel of the job reaches the statement the task's own connection is running on the server.
import pg from 'pg';
import { clientConfig, type TargetConn } from '../pg/connect';
import { CANCEL_BACKEND_SQL } from './repair-sql';

/** On abort, a second connection cancels backend `pid`'s statement; the returned stop (idempotent) waits for it. */
export function cancelOnAbort(signal: AbortSignal, conn: TargetConn, pid: number): () => Promise<void> {
  let inflight: Promise<void> = Promise.resolve();
  const onAbort = () => {
    const killer = new pg.Client(clientConfig(conn));
    inflight = killer
      .connect()
      .then(() => killer.query(CANCEL_BACKEND_SQL, [pid]))
      .then(() => {})
      .catch(() => {})
      .finally(() => killer.end().catch(() => {}));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return async () => {
    signal.removeEventListener('abort', onAbort);
    // Landed before the clean-up statements run, so a late cancel never hits them (an idle backend ignores it).
    await inflight;
  };
}
