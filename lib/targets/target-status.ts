// Can Lifeboat reach each target right now? Read from the newest evidence (the last connection test, the last backup
// attempt), never from a stale "ok": a test from last week says nothing once a backup since failed on a missing database.
import { getDb } from '../db';

export type ConnectionState = 'ok' | 'cannot-connect' | 'database-missing' | 'problem' | 'testing' | 'not-tested';

export interface ConnectionStatus {
  state: ConnectionState;
  tone: 'green' | 'red' | 'gray';
  label: string;
  /** What the evidence said, in its own words (the error message, or what the test found wrong). */
  reason: string | null;
  code: string | null;
  at: Date | null;
  source: 'test' | 'backup' | null;
}

// Backup failures that are about reaching the target; any other failure (storage, disk) says nothing about the connection.
const connectionCodes: Record<string, ConnectionState> = {
  TARGET_UNREACHABLE: 'cannot-connect',
  TARGET_AUTH_FAILED: 'cannot-connect',
  TARGET_DATABASE_MISSING: 'database-missing',
  TARGET_PRIVILEGES: 'problem',
  TARGET_CONNECT_DENIED: 'problem',
};

const labels: Record<ConnectionState, string> = {
  ok: 'ok',
  'cannot-connect': 'cannot connect',
  'database-missing': 'database missing',
  problem: 'problem',
  testing: 'testing…',
  'not-tested': 'not tested',
};

function status(state: ConnectionState, e: { reason?: string | null; code?: string | null; at?: Date | null; source?: 'test' | 'backup' | null } = {}): ConnectionStatus {
  const tone = state === 'ok' ? 'green' : state === 'testing' || state === 'not-tested' ? 'gray' : 'red';
  return { state, tone, label: labels[state], reason: e.reason ?? null, code: e.code ?? null, at: e.at ?? null, source: e.source ?? null };
}

interface TestCheck {
  ok?: boolean;
  unreadable?: string[];
  cannotConnect?: { database: string; message?: string }[];
  toolProblem?: { code?: string; message: string } | null;
}

/** Status per target id (every target when `ids` is not given). */
export async function connectionStatuses(ids?: string[]): Promise<Map<string, ConnectionStatus>> {
  const db = getDb();
  const targets = await db.target.findMany({ where: ids ? { id: { in: ids } } : {}, select: { id: true } });
  const tests = await db.$queryRaw<{ target_id: string; status: string; error_code: string | null; error_message: string | null; result: TestCheck | null; created_at: Date; finished_at: Date | null }[]>`
    SELECT DISTINCT ON (target_id, finished) target_id, status::text, error_code, error_message, result, created_at, finished_at, (finished_at IS NOT NULL) AS finished
    FROM jobs WHERE kind = 'test-connection' AND target_id IS NOT NULL AND status <> 'cancelled'
    ORDER BY target_id, finished, created_at DESC`;
  // The newest backup attempt's rows (a whole-server target writes one per database): one failed database is enough.
  const backups = await db.$queryRaw<{ target_id: string; status: string; error_code: string | null; error_message: string | null; at: Date }[]>`
    WITH latest AS (
      SELECT DISTINCT ON (target_id) target_id, job_id, id FROM backup_log
      WHERE target_id IS NOT NULL AND backup_type <> 'uploaded' AND status IN ('succeeded', 'failed')
      ORDER BY target_id, created_at DESC, id DESC)
    SELECT b.target_id, b.status::text, b.error_code, b.error_message, coalesce(b.finished_at, b.created_at) AS at
    FROM backup_log b JOIN latest l ON l.target_id = b.target_id AND (b.job_id = l.job_id OR b.id = l.id)
    WHERE b.backup_type <> 'uploaded' AND b.status IN ('succeeded', 'failed')`;
  const out = new Map<string, ConnectionStatus>();
  for (const t of targets) {
    const evidence: ConnectionStatus[] = [];
    const done = tests.find((x) => x.target_id === t.id && x.finished_at);
    const pending = tests.find((x) => x.target_id === t.id && !x.finished_at);
    if (done) {
      const at = done.finished_at!;
      if (done.status === 'failed') evidence.push(status(connectionCodes[done.error_code ?? ''] ?? 'problem', { reason: done.error_message, code: done.error_code, at, source: 'test' }));
      else if (done.result?.ok === false) {
        const { toolProblem, unreadable = [], cannotConnect = [] } = done.result;
        const reason = toolProblem
          ? toolProblem.message
          : [
              cannotConnect.length ? `The login cannot connect to ${cannotConnect.map((c) => c.database).join(', ')}.` : '',
              unreadable.length ? `The user cannot read ${unreadable.length} table(s): ${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? ', …' : ''}.` : '',
            ].filter(Boolean).join(' ') || 'The connection test found a problem (see its job).';
        const code = toolProblem ? (toolProblem.code ?? null) : cannotConnect.length ? 'TARGET_CONNECT_DENIED' : 'TARGET_PRIVILEGES';
        evidence.push(status('problem', { reason, code, at, source: 'test' }));
      } else evidence.push(status('ok', { at, source: 'test' }));
    }
    const rows = backups.filter((b) => b.target_id === t.id);
    const bad = rows.find((b) => b.status === 'failed' && connectionCodes[b.error_code ?? '']);
    if (bad) evidence.push(status(connectionCodes[bad.error_code!]!, { reason: bad.error_message, code: bad.error_code, at: bad.at, source: 'backup' }));
    else if (rows.length && rows.every((b) => b.status === 'succeeded')) evidence.push(status('ok', { at: new Date(Math.max(...rows.map((b) => b.at.getTime()))), source: 'backup' }));
    const newest = evidence.sort((a, b) => b.at!.getTime() - a.at!.getTime())[0];
    // A test asked for after the newest evidence (a save runs one) outranks it: the connection may have changed.
    if (pending && (!newest || pending.created_at > newest.at!)) out.set(t.id, status('testing', { at: pending.created_at, source: 'test' }));
    else out.set(t.id, newest ?? status('not-tested'));
  }
  return out;
}

export async function connectionStatus(id: string): Promise<ConnectionStatus> {
  return (await connectionStatuses([id])).get(id) ?? status('not-tested');
}
