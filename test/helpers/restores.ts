// Restore integration helpers: targets with check statements, backups and restores started through lib and awaited,
// database listings, connections held open against production, and small catalog probes.
import pg from 'pg';
import { expect } from 'vitest';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { getDb } from '../../lib/db';
import { startBackup } from '../../lib/backups/start-backup';
import { startRestore, startTargetJob } from '../../lib/restores/start-restore';
import type { Role } from '../../lib/auth/roles';
import { sql } from './db';
import type { Actor, BackupRow, JobRow, Spawned, Stack, StackContext } from './backups';
import { tableChecksums, useStack } from './backups';

export const KEY_TABLES = ['core.users', 'core.sessions'];
export const CHECK_STATEMENTS = ['SELECT core.analyze_query_performance()'];

/** A target with key tables and check statements (Stack.target's defaults leave both empty). */
export async function makeTarget(
  stack: Stack,
  input: { name: string; cluster?: RunningCluster; database: string | null; keyTables?: string[]; checkStatements?: string[]; storageId?: string | null },
) {
  return stack.target({ ...input, keyTables: input.keyTables ?? KEY_TABLES, checkStatements: input.checkStatements ?? CHECK_STATEMENTS });
}

export async function makeUser(stack: Stack, role: Role, label = role): Promise<Actor> {
  const email = `${label}-${Math.random().toString(36).slice(2, 8)}@${stack.dbName}.test`;
  const u = await getDb().user.create({ data: { email, name: email, role } });
  return { id: u.id, email: u.email, role };
}

/**
 * Where most restore and recovery files start: a local storage 'main', a target of `database` on it (makeTarget), a
 * worker (with `workerEnv`) and a first good backup of the target.
 */
export async function protectedTarget(
  stack: Stack,
  input: { name: string; database: string; keyTables?: string[]; checkStatements?: string[]; workerEnv?: Record<string, string> },
): Promise<{ storageDir: string; storageId: string; targetId: string; worker: Spawned; backup: BackupRow }> {
  const { workerEnv, ...target } = input;
  const { storageDir, storageId } = await stack.localStorage();
  const targetId = (await makeTarget(stack, { ...target, storageId })).id;
  const worker = await stack.readyWorker(workerEnv);
  const backup = await backupNow(stack, worker, targetId);
  return { storageDir, storageId, targetId, worker, backup };
}

/** An integration file's stack with a protected target (protectedTarget): storage, target, worker, first backup. */
export interface TargetContext extends StackContext {
  storageDir: string;
  storageId: string;
  targetId: string;
  worker: Spawned;
  backup: BackupRow;
}

/**
 * useStack, then protectedTarget in its beforeAll: `before` runs first (to add to the seeded database what the
 * backup must hold), `after` last (users, checksums of what was backed up).
 */
export function useProtectedTarget(
  dbName: string,
  o: { password?: boolean; seed?: string; timeoutMs?: number },
  target: Parameters<typeof protectedTarget>[1],
  hooks: { before?: (c: StackContext) => Promise<void>; after?: (c: TargetContext) => Promise<void> } = {},
): TargetContext {
  return useStack<TargetContext>(dbName, o, async (c) => {
    await hooks.before?.(c);
    Object.assign(c, await protectedTarget(c.stack, target));
    await hooks.after?.(c);
  });
}

/** Backs the target up now and waits for success; returns the backup_log row. */
export async function backupNow(stack: Stack, worker: Spawned, targetId: string, opts: { scheduleId?: string } = {}): Promise<BackupRow> {
  const { id } = await startBackup(stack.operator, targetId, opts);
  const job = await stack.waitJob(id, ['succeeded', 'failed', 'cancelled'], 45_000, worker);
  expect(job.status, `backup: ${job.error_code}: ${job.error_message}\n${job.error_detail ?? ''}`).toBe('succeeded');
  const rows = await stack.backupRows(id);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

export type Destination = { mode: 'new'; targetId: string; database: string } | { mode: 'replace'; method: 'swap' | 'in-place' } | { mode: 'drill' };

export interface RestoreOptions {
  jobs?: number;
  schemas?: string[];
  tables?: string[];
  section?: 'all' | 'schema' | 'data';
  runChecks?: boolean;
  confirm?: string;
  sideDatabase?: string;
  roleGrants?: Partial<Record<'superuser' | 'createrole' | 'replication' | 'bypassrls' | 'password', boolean>>;
  withoutOwners?: boolean;
}

/** The full startRestore input (defaults as the API's zod schema fills them). */
export function restoreInput(backupId: string | number, destination: Destination, o: RestoreOptions = {}) {
  return {
    backupId: String(backupId),
    destination,
    jobs: o.jobs ?? 2,
    schemas: o.schemas ?? [],
    tables: o.tables ?? [],
    section: o.section ?? 'all',
    runChecks: o.runChecks ?? true,
    ...(o.confirm !== undefined ? { confirm: o.confirm } : {}),
    ...(o.sideDatabase !== undefined ? { sideDatabase: o.sideDatabase } : {}),
    ...(o.roleGrants ? { roleGrants: { superuser: false, createrole: false, replication: false, bypassrls: false, password: false, ...o.roleGrants } } : {}),
    ...(o.withoutOwners !== undefined ? { withoutOwners: o.withoutOwners } : {}),
  };
}

/** startRestore, then wait for the job to end; returns the job row. */
export async function restoreAndWait(
  stack: Stack,
  worker: Spawned,
  actor: Actor,
  backupId: string | number,
  destination: Destination,
  o: RestoreOptions & { preflightOnly?: boolean; timeoutMs?: number } = {},
): Promise<JobRow> {
  const { id } = await startRestore(actor, restoreInput(backupId, destination, o), '192.0.2.10', { preflightOnly: o.preflightOnly });
  return stack.waitJob(id, ['succeeded', 'failed', 'cancelled'], o.timeoutMs ?? 45_000, worker);
}

export async function targetJobAndWait(stack: Stack, worker: Spawned, actor: Actor, kind: 'drill' | 'rollback' | 'drop-copy', targetId: string, extra: Record<string, string> = {}): Promise<JobRow> {
  const { id } = await startTargetJob(actor, kind, targetId, extra, '192.0.2.10');
  return stack.waitJob(id, ['succeeded', 'failed', 'cancelled'], 45_000, worker);
}

export const why = (job: JobRow) => `${job.status} ${job.error_code ?? ''}: ${job.error_message ?? ''}\n${job.error_detail ?? ''}`;

/** Every non-template database of the cluster, sorted. */
export async function databases(cluster: RunningCluster): Promise<string[]> {
  return (await sql<{ datname: string }>(cluster.url('postgres'), 'SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname')).map((r) => r.datname);
}

export async function databaseExists(cluster: RunningCluster, name: string): Promise<boolean> {
  return (await databases(cluster)).includes(name);
}

export async function allowsConnections(cluster: RunningCluster, name: string): Promise<boolean | undefined> {
  const [r] = await sql<{ datallowconn: boolean }>(cluster.url('postgres'), 'SELECT datallowconn FROM pg_database WHERE datname = $1', [name]);
  return r?.datallowconn;
}

export async function jobCount(stack: Stack): Promise<number> {
  return (await sql<{ n: number }>(stack.url, 'SELECT count(*)::int AS n FROM jobs'))[0]!.n;
}

export async function tableOwner(url: string, schema: string, table: string): Promise<string | undefined> {
  return (await sql<{ tableowner: string }>(url, 'SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [schema, table]))[0]?.tableowner;
}

/** Client settings for `db` on the cluster without a URL (a URL's path cannot carry every name: '=' stays encoded). */
export function dbConfig(cluster: RunningCluster, database: string): pg.ClientConfig {
  return { host: '127.0.0.1', port: cluster.port, user: cluster.superuser, password: cluster.password, database };
}


/** tableChecksums of the backups helper, for a connection given as a client config (any database name). */
export function checksumsOf(conn: pg.ClientConfig): Promise<Record<string, string>> {
  return tableChecksums(conn);
}

export async function rowCount(url: string, table: string): Promise<number> {
  return (await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
}

/** A connection that records its own errors (a terminated backend emits 'error', which must not crash the test run). */
export interface Held {
  client: pg.Client;
  errors: Error[];
  end: () => Promise<void>;
}

export async function holdConnection(url: string): Promise<Held> {
  const client = new pg.Client({ connectionString: url, application_name: 'restore-test-holder' });
  const errors: Error[] = [];
  client.on('error', (e) => errors.push(e));
  await client.connect();
  return { client, errors, end: () => client.end().catch(() => {}) };
}

/** Resolves with the error a query ends with (or null when it succeeds). */
export async function queryError(c: pg.Client, text: string): Promise<(Error & { code?: string }) | null> {
  try {
    await c.query(text);
    return null;
  } catch (err) {
    return err as Error & { code?: string };
  }
}

/**
 * Writes backup_log.manifest.databaseProperties from the source database as it is now, in the shape the backup task
 * records (owner, privileges, ALTER DATABASE / ROLE IN DATABASE settings, comment, encoding, connection limit).
 */
export async function recordDatabaseProperties(consoleUrl: string, backupId: string | number, cluster: RunningCluster, database: string) {
  const props = await databaseProperties(cluster, database);
  await sql(consoleUrl, `UPDATE backup_log SET manifest = jsonb_set(coalesce(manifest, '{}'::jsonb), '{databaseProperties}', $2::jsonb) WHERE id = $1`, [String(backupId), JSON.stringify(props)]);
  return props;
}

export async function databaseProperties(cluster: RunningCluster, database: string) {
  const url = cluster.url('postgres');
  const [d] = await sql<{ owner: string; acl_default: boolean; comment: string | null; encoding: string; collate: string; ctype: string; conn: number }>(
    url,
    `SELECT pg_get_userbyid(datdba) AS owner, datacl IS NULL AS acl_default, shobj_description(oid, 'pg_database') AS comment,
            pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype, datconnlimit AS conn
       FROM pg_database WHERE datname = $1`,
    [database],
  );
  const acl = await sql<{ grantee: string; grantor: string; privilege: string; grantable: boolean }>(
    url,
    `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee, pg_get_userbyid(a.grantor) AS grantor,
            a.privilege_type AS privilege, a.is_grantable AS grantable
       FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = $1`,
    [database],
  );
  const settings = await sql<{ role: string | null; setting: string }>(
    url,
    `SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END AS role, unnest(s.setconfig) AS setting
       FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1`,
    [database],
  );
  return {
    name: database,
    owner: d!.owner,
    aclIsDefault: d!.acl_default,
    acl,
    settings: settings.map((x) => ({ role: x.role, name: x.setting.slice(0, x.setting.indexOf('=')), value: x.setting.slice(x.setting.indexOf('=') + 1) })),
    comment: d!.comment,
    encoding: d!.encoding,
    collate: d!.collate,
    ctype: d!.ctype,
    connectionLimit: d!.conn,
  };
}

/** What a swap must carry over, comparable before and after: owner, sorted ACL, settings, comment, connection limit. */
export async function databaseSnapshot(cluster: RunningCluster, database: string) {
  const url = cluster.url('postgres');
  const [d] = await sql<{ owner: string; acl: string[] | null; comment: string | null; conn: number }>(
    url,
    `SELECT pg_get_userbyid(datdba) AS owner, (SELECT array_agg(x ORDER BY x) FROM unnest(datacl::text[]) x) AS acl,
            shobj_description(oid, 'pg_database') AS comment, datconnlimit AS conn FROM pg_database WHERE datname = $1`,
    [database],
  );
  const settings = await sql<{ role: string; config: string[] }>(
    url,
    `SELECT coalesce(pg_get_userbyid(NULLIF(s.setrole, 0)), '') AS role, s.setconfig AS config
       FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 ORDER BY 1`,
    [database],
  );
  return { ...d, settings };
}
