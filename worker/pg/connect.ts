// Connections to targets: pg client config, a 0600 passfile for the pg tools (never argv), and error mapping.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

export async function connect(t: TargetConn): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(t));
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw connectionError(err, t);
  }
  return client;
}

/**
 * Libpq environment for pg tools: host, port, user, database and sslmode, and a 0600 passfile for the password,
 * in a 0700 folder of its own under `opts.dir` (pass the job's scratch folder: the crash sweep removes it there).
 */
export async function toolEnv(t: TargetConn, opts: { dir?: string } = {}): Promise<{ env: Record<string, string>; dir: string | null; cleanup: () => Promise<void> }> {
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
  const dir = await mkdtemp(join(opts.dir ?? tmpdir(), 'lifeboat-pass-'));
  const file = join(dir, 'pgpass');
  const esc = (v: string) => v.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
  await writeFile(file, `*:*:*:${esc(t.user)}:${esc(t.password)}\n`, { mode: 0o600 });
  env.PGPASSFILE = file;
  return { env, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
