// Connections to targets: pg client config, a 0600 passfile for the pg tools (never argv), and error mapping.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { UserError } from '../../lib/errors';

export interface TargetConn {
  host: string;
  port: number;
  user: string;
  password: string | null;
  sslMode: string;
  database: string;
}

export function clientConfig(t: TargetConn): pg.ClientConfig {
  return {
    host: t.host,
    port: t.port,
    user: t.user,
    password: t.password ?? undefined,
    database: t.database,
    ssl: t.sslMode === 'disable' || t.sslMode === 'prefer' || t.sslMode === 'allow' ? false : { rejectUnauthorized: t.sslMode === 'verify-full' || t.sslMode === 'verify-ca' },
    connectionTimeoutMillis: 10_000,
    application_name: 'lifeboat',
  };
}

/** Maps a connection error to what a person can fix. */
export function connectionError(err: unknown, t: TargetConn): UserError {
  const e = err as { code?: string; message?: string };
  const where = `${t.host}:${t.port}`;
  if (e.code === '28P01' || e.code === '28000')
    return new UserError('TARGET_AUTH_FAILED', `PostgreSQL at ${where} refused user "${t.user}": ${e.message}.`);
  // 42501: the server knows the login and the database but CONNECT is not granted (a privilege, not a firewall).
  if (e.code === '42501') return new UserError('TARGET_CONNECT_DENIED', `User "${t.user}" may not connect to database "${t.database}" on ${where}: ${e.message}.`);
  if (e.code === '3D000') return new UserError('TARGET_DATABASE_MISSING', `Database "${t.database}" does not exist on ${where}.`);
  if (e.code && ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'].includes(e.code))
    return new UserError('TARGET_UNREACHABLE', `Cannot connect to PostgreSQL at ${where} (${e.code}).`);
  if (/timeout/i.test(String(e.message))) return new UserError('TARGET_UNREACHABLE', `Connecting to ${where} timed out.`);
  return new UserError('TARGET_UNREACHABLE', `Cannot connect to ${where}: ${e.message ?? String(err)}`);
}

/**
 * SQLSTATEs and socket codes of a session that ended under a running client: admin_shutdown (pg_terminate_backend, a
 * fast shutdown), crash_shutdown, cannot_connect_now, idle_session_timeout, connection_failure and
 * connection_does_not_exist, and a cut network.
 */
const LOST_CODES = new Set(['57P01', '57P02', '57P03', '57P05', '08006', '08003', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether `err` says the connection itself is gone (not that one statement failed). */
export function isConnectionLoss(err: unknown): boolean {
  if (err instanceof UserError) return err.code === 'TARGET_CONNECTION_LOST';
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code && LOST_CODES.has(e.code)) return true;
  // node-postgres's own words for a socket that closed under it, and for a query sent after that.
  return /^Connection terminated|not queryable/.test(String(e.message));
}

/** The named, retryable error of a connection lost mid-job. */
export function connectionLost(err: unknown, t: TargetConn): UserError {
  const e = err as { message?: string };
  return new UserError('TARGET_CONNECTION_LOST', `The connection to database "${t.database}" on ${t.host}:${t.port} was lost while the job used it: ${e?.message ?? String(err)}.`);
}

export interface ConnectOptions {
  /** Where a lost connection is told (the job's log); also told on the worker's own output. */
  log?: (line: string, level: 'warn') => Promise<unknown>;
}

/**
 * A connected client. A session that ends under it (pg_terminate_backend, a server stop, a cut network) makes
 * node-postgres emit 'error'; without a listener Node throws that and the whole worker, with every job it runs, dies.
 * So the client listens: the loss is logged, and the statement that was running, or the next one, fails with
 * TARGET_CONNECTION_LOST, which fails the job that used it (and only that job).
 */
export async function connect(t: TargetConn, opts: ConnectOptions = {}): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(t));
  let told = false;
  client.on('error', (err) => {
    if (told) return;
    told = true;
    const lost = connectionLost(err, t);
    console.error(`[worker] ${lost.message}`);
    void Promise.resolve(opts.log?.(`${lost.message} A statement sent on it fails with TARGET_CONNECTION_LOST; the worker goes on.`, 'warn')).catch(() => {});
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw connectionError(err, t);
  }
  // Statements on a lost connection fail with the named error, not node-postgres's raw one (which reads as a bug).
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const r = query(...args);
    if (!(r instanceof Promise)) return r;
    return r.catch((err: unknown) => {
      throw isConnectionLoss(err) ? connectionLost(err, t) : err;
    });
  };
  return client;
}

/**
 * Libpq environment for pg tools: host, port, user, database and sslmode, and a 0600 passfile for the password,
 * in a 0700 folder of its own under `opts.dir`: the job's scratch folder (0700 itself, removed when the job ends
 * and by the crash sweep), never the system's shared temp folder.
 */
export async function toolEnv(t: TargetConn, opts: { dir: string }): Promise<{ env: Record<string, string>; dir: string | null; cleanup: () => Promise<void> }> {
  const env: Record<string, string> = {
    PGHOST: t.host,
    PGPORT: String(t.port),
    PGUSER: t.user,
    // The database travels in the environment, so a name with '=' or spaces is never parsed as a conninfo string.
    PGDATABASE: t.database,
    PGSSLMODE: t.sslMode,
    PGAPPNAME: 'lifeboat',
    PGCONNECT_TIMEOUT: '10',
  };
  if (t.password === null) return { env, dir: null, cleanup: async () => {} };
  const dir = await mkdtemp(join(opts.dir, 'lifeboat-pass-'));
  const file = join(dir, 'pgpass');
  const esc = (v: string) => v.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
  await writeFile(file, `*:*:*:${esc(t.user)}:${esc(t.password)}\n`, { mode: 0o600 });
  env.PGPASSFILE = file;
  return { env, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
