// Job kinds: the contract between console and worker (payload and result schemas, who may start it, how long it may run).
import { z } from 'zod';
import { bigintIdString } from '../ids';
import { walHealthSchema } from '../wal/wal-health-schema';
import { pitrDiscardPayload, pitrDiscardResult, pitrPayload, pitrResult } from '../pitr/job-schemas';
import type { Role } from '../auth/roles';
import type { Env } from '../env';

/** The environment's time limits (lib/env.ts); read once, by enqueueJob, whose answer is stored on the job row. */
export type JobTimeouts = Pick<Env, 'LIFEBOAT_BACKUP_TIMEOUT_SECONDS' | 'LIFEBOAT_RESTORE_TIMEOUT_SECONDS' | 'LIFEBOAT_REPAIR_TIMEOUT_SECONDS'>;

export interface JobKind<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  label: string;
  payload: P;
  /** What the task returns, as stored on the job row and read by the pages; the worker checks it when the task ends. */
  result: R;
  role: Role;
  /** Seconds the job may run before it is stopped and failed; sized to the work. Computed at enqueue, stored on the row. */
  expireInSeconds: (payload: z.infer<P>, env: JobTimeouts) => number;
}

const SIX_HOURS = 6 * 3600;

const pingPayload = z.object({
  message: z.string().trim().min(1).max(200).default('ping'),
  // Lets the ping take long enough to watch its progress and to cancel it.
  seconds: z.number().int().min(0).max(300).default(3),
  // Proves that a failure with a code, message and hint reaches the console.
  fail: z.boolean().default(false),
});

const backupPayload = z.object({
  targetId: z.uuid({ message: 'must be a target id' }),
  scheduleId: z.uuid().optional(),
});

const targetPayload = z.object({ targetId: z.uuid({ message: 'must be a target id' }) });

const dbName = z
  .string()
  .trim()
  .min(1, 'is required')
  // PostgreSQL cuts longer names silently (mid-character even): refuse instead.
  .refine((v) => Buffer.byteLength(v) <= 63, 'is longer than PostgreSQL allows (63 bytes)');

export const restorePayload = z.object({
  backupId: bigintIdString('must be a backup id'),
  destination: z.discriminatedUnion('mode', [
    // A new database on the backup's own target or on another target.
    z.object({ mode: z.literal('new'), targetId: z.uuid(), database: dbName }),
    // Production itself: restore beside it and swap names (short outage), or the runbook's drop-create-restore.
    z.object({ mode: z.literal('replace'), method: z.enum(['swap', 'in-place']) }),
    // A drill: a scratch database that is checked, timed and dropped.
    z.object({ mode: z.literal('drill') }),
  ]),
  jobs: z.number().int().min(1).max(32).default(2),
  schemas: z.array(z.string().min(1).max(63)).max(100).default([]),
  tables: z.array(z.string().min(1).max(130)).max(500).default([]),
  section: z.enum(['all', 'schema', 'data']).default('all'),
  runChecks: z.boolean().default(true),
  // The side database's name as the preflight showed it (swap and in-place), so the name shown is the name used;
  // the worker accepts only "<production>_restore_<stamp>".
  sideDatabase: dbName.optional(),
  // Set by startRestore, never by the browser: true only when an admin starts the job (missing owner roles are then
  // created from the saved globals).
  createRoles: z.boolean().default(false),
  // What a created role may keep from the saved globals, each ticked by the admin (off: NOSUPERUSER ..., no password).
  roleGrants: z
    .object({ superuser: z.boolean().default(false), createrole: z.boolean().default(false), replication: z.boolean().default(false), bypassrls: z.boolean().default(false), password: z.boolean().default(false) })
    .default({ superuser: false, createrole: false, replication: false, bypassrls: false, password: false }),
  // pg_restore --no-owner --no-privileges: the restoring login owns everything and no GRANT is replayed (for a server
  // without the archive's roles, when nobody may create them).
  withoutOwners: z.boolean().default(false),
});

const rollbackPayload = z.object({ targetId: z.uuid(), keptDatabase: dbName });
const dropCopyPayload = z.object({ targetId: z.uuid(), database: dbName });
// Guided repair (runbook scenario 1) of one database: a check (amcheck only, the default), or a repair (REINDEX,
// VACUUM FULL ANALYZE) after a check that found damage (checkJobId) or forced by an admin.
export const repairPayload = z.object({
  targetId: z.uuid({ message: 'must be a target id' }),
  database: dbName,
  mode: z.enum(['check', 'repair']).default('check'),
  checkJobId: z.uuid().optional(),
  force: z.boolean().default(false),
  // How long REINDEX, VACUUM and amcheck wait for a table lock before the job stops and says who to look for.
  lockTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
});
// Recovering deleted rows (runbook scenario 2): tables of a backup compared with production by primary key.
export const recoverComparePayload = z.object({
  backupId: bigintIdString('must be a backup id'),
  tables: z
    .array(z.string().trim().min(1).max(130))
    .min(1, 'pick at least one table')
    .max(50, 'compare at most 50 tables at once')
    .refine((t) => new Set(t).size === t.length, 'names a table twice'),
});
// The re-insert, discard and export act on one finished comparison (its scratch copy and its saved keys).
export const recoveryPayload = z.object({ compareJobId: z.uuid({ message: 'must be a comparison job id' }) });
export const recoverExportPayload = recoveryPayload.extend({ format: z.enum(['sql', 'csv']), table: z.string().trim().min(1).max(130).optional() });

const importUploadPayload = z.object({ uploadId: z.uuid() });
// A file streamed to a browser through the console database: a backup's dump or roles file (admin), a row export.
export const downloadPayload = z.discriminatedUnion('of', [
  z.object({ of: z.literal('backup'), backupId: bigintIdString('must be a backup id'), part: z.enum(['dump', 'globals']) }),
  z.object({ of: z.literal('export'), exportJobId: z.uuid() }),
]);

// ---------------------------------------------------------------- results (what each task returns)

const pingResult = z.object({ reply: z.string(), host: z.string(), pid: z.number().int(), elapsedMs: z.number() });

const backupResult = z.object({
  backups: z.array(z.object({ id: z.string(), database: z.string(), size: z.number(), file: z.string() })),
  // A whole-server backup: the databases that were not backed up, and why (the job then fails with BACKUP_PARTIAL).
  failed: z.array(z.object({ database: z.string(), code: z.string(), message: z.string(), hint: z.string() })),
});

// Also stored as the target's last_check (lib/targets/target-status.ts reads it there).
export const testConnectionResult = z.object({
  at: z.string(),
  ok: z.boolean(),
  serverVersion: z.string(),
  serverMajor: z.number().int(),
  user: z.string(),
  sizes: z.array(z.object({ database: z.string(), bytes: z.number().nullable() })),
  cannotConnect: z.array(z.object({ database: z.string(), code: z.string(), message: z.string() })),
  unreadable: z.array(z.string()),
  tool: z.object({ version: z.string(), binDir: z.string() }).nullable(),
  toolProblem: z.object({ code: z.string(), message: z.string(), hint: z.string() }).nullable(),
  // Absent in checks made before the WAL card, and when it could not be read.
  wal: walHealthSchema.optional(),
});

// As the backup's manifest recorded them (worker/restore/database-properties.ts propertiesOf checks no more than this,
// so a manifest of an older version is shown, not refused).
const databaseProperties = z.looseObject({ owner: z.string(), acl: z.array(z.unknown()), settings: z.array(z.unknown()) });

// The checks a restore ran before it touched anything; `problems` non-empty means the restore would be refused.
export const restorePreflightResult = z.object({
  file: z.object({
    path: z.string(),
    size: z.number(),
    sha256: z.string(),
    matchesCatalog: z.union([z.literal(true), z.string()]),
    // In place: the whole file decoded, as the restore does before it drops production.
    decodedToTheEnd: z.boolean().optional(),
  }),
  archive: z.object({
    format: z.string().optional(),
    dumpedBy: z.string().optional(),
    dumpedFrom: z.string().optional(),
    entries: z.number().int(),
    tables: z.array(z.string()),
    partitions: z.array(z.object({ parent: z.string(), child: z.string() })),
    schemas: z.array(z.string()),
  }),
  tool: z.object({ pgRestore: z.string(), binDir: z.string() }),
  destination: z.object({
    target: z.string(),
    serverVersion: z.string(),
    database: z.string(),
    production: z.string().nullable(),
    productionConnections: z.number().int().nullable(),
  }),
  space: z.object({ dataDirectory: z.string(), freeBytes: z.number(), neededBytes: z.number(), basis: z.string() }).nullable(),
  roles: z.object({
    owners: z.array(z.string()),
    missing: z.array(z.string()),
    createdFromGlobals: z.array(z.string()),
    toCreate: z.array(z.object({ name: z.string(), attributes: z.array(z.string()), password: z.boolean() })),
    withoutOwners: z.boolean(),
  }),
  tables: z.object({ picked: z.array(z.string()), partitions: z.array(z.string()), sequences: z.array(z.string()), unknown: z.array(z.string()) }).nullable(),
  databaseProperties: z.object({ recorded: z.boolean(), summary: z.string(), properties: databaseProperties.nullable() }),
  problems: z.array(z.object({ code: z.string(), message: z.string(), hint: z.string().optional() })),
});

export const restoreCheck = z.object({
  name: z.string(),
  expected: z.union([z.string(), z.number()]).nullable(),
  actual: z.union([z.string(), z.number()]).nullable(),
  ok: z.boolean(),
});
const hookOutcome = z.object({ output: z.string(), exitCode: z.number().int().nullable(), ms: z.number() });

export const restoreResult = z.object({
  mode: z.enum(['new', 'replace', 'drill']),
  method: z.enum(['swap', 'in-place']).nullable(),
  target: z.string(),
  // The restored database's final name (production's after a swap or an in-place restore).
  database: z.string(),
  backupId: z.string(),
  restoreMs: z.number(),
  checks: z.array(restoreCheck),
  checksOk: z.boolean(),
  checksRan: z.number().int(),
  checksNotRun: z.array(z.string()),
  databaseProperties: z
    .union([z.object({ applied: z.literal(true), skipped: z.array(z.string()) }), z.object({ applied: z.literal(false), reason: z.string() })])
    .optional(),
  // A swap keeps the previous production under this name (null: there was none); in place keeps nothing.
  keptCopy: z.string().nullable().optional(),
  keptCopySize: z.number().nullable().optional(),
  downtimeMs: z.number().optional(),
  connectionsEnded: z.number().int().optional(),
  // Admin-only: the API leaves it out for everyone else.
  hooks: z.object({ pre: hookOutcome.optional(), post: hookOutcome.optional() }).optional(),
  durationMs: z.number(),
});

const drillResult = restoreResult.extend({ drillId: z.string() });

const rollbackResult = z.object({ target: z.string(), database: z.string(), keptCopy: z.string().nullable(), keptCopySize: z.number().nullable(), downtimeMs: z.number() });
const dropCopyResult = z.object({ target: z.string(), dropped: z.string() });

const indexProblem = z.object({ index: z.string(), table: z.string(), code: z.string().nullable(), error: z.string() });
const amcheckReport = z.object({ function: z.string(), checked: z.number().int(), corrupt: z.array(indexProblem), unchecked: z.array(indexProblem) });
const repairStep = z.object({ ok: z.boolean(), done: z.number().int(), error: z.string().nullable() });
export const repairResult = z.object({
  mode: z.enum(['check', 'repair']),
  target: z.string(),
  database: z.string(),
  serverVersion: z.string(),
  amcheck: z.string().nullable(),
  before: amcheckReport.nullable(),
  reindex: repairStep.nullable(),
  vacuum: repairStep.nullable(),
  after: amcheckReport.nullable(),
  // true: checked and clean; false: damage found (a check) or still damaged (a repair); null: could not be told.
  healthy: z.boolean().nullable(),
  corruptionFound: z.boolean().nullable(),
  checkStillFails: z.boolean(),
  corruptIndexes: z.array(z.string()),
  restoreWizard: z.string().nullable(),
  durationMs: z.number(),
});

const previewRow = z.record(z.string(), z.string().nullable());
export const tableComparison = z.object({
  /** "schema.table" as the archive names it. */
  table: z.string(),
  schema: z.string(),
  name: z.string(),
  /** A partitioned table's partitions (all levels), compared together under its key; absent in older results. */
  partitions: z.array(z.string()).optional(),
  primaryKey: z.array(z.string()),
  /** The columns compared (those both copies have), in production's order; previews use these names. */
  columns: z.array(z.string()),
  columnsOnlyInBackup: z.array(z.string()),
  columnsOnlyInProduction: z.array(z.string()),
  backupRows: z.number().int(),
  productionRows: z.number().int(),
  /** Production rows whose key the backup does not have (inserted since the backup). */
  newInProduction: z.number().int(),
  missing: z.object({ count: z.number().int(), preview: z.array(previewRow), keys: z.array(z.array(z.string())) }),
  changed: z.object({ count: z.number().int(), preview: z.array(z.object({ key: z.array(z.string()), backup: previewRow, production: previewRow })) }),
});
export const recoverCompareResult = z.object({
  backupId: z.string(),
  backupTakenAt: z.string(),
  targetId: z.string(),
  target: z.string(),
  database: z.string(),
  scratchDatabase: z.string(),
  scratchExpiresAt: z.string(),
  tables: z.array(tableComparison),
  durationMs: z.number(),
});
const recoverReinsertResult = z.object({
  database: z.string(),
  target: z.string(),
  order: z.array(z.string()),
  tables: z.array(z.object({ table: z.string(), inserted: z.number().int(), expected: z.number().int() })),
  sequences: z.array(z.object({ sequence: z.string(), column: z.string(), from: z.string(), to: z.string() })),
  scratchDatabase: z.string(),
  scratchDropped: z.boolean(),
});
export const recoverExportResult = z.object({
  format: z.enum(['sql', 'csv']),
  file: z.string(),
  fileName: z.string(),
  size: z.number(),
  sha256: z.string(),
  rows: z.number().int(),
  tables: z.array(z.string()),
});
const recoverDiscardResult = z.object({ target: z.string(), database: z.string(), scratchDatabase: z.string(), dropped: z.boolean() });
const downloadResult = z.object({ file: z.string(), size: z.number(), sha256: z.string() });

const importUploadResult = z.object({ backupId: z.string(), file: z.string(), size: z.number(), tables: z.number().int() });

// ---------------------------------------------------------------- base backups (pg_basebackup, issue 10)

// A physical base backup of a target's whole server; the compression is chosen per run (default: server-side zstd
// level 3), gzip being the runbook's.
export const baseBackupPayload = z.object({
  targetId: z.uuid({ message: 'must be a target id' }),
  compression: z.enum(['none', 'gzip', 'client-zstd', 'server-zstd', 'server-lz4'], { message: 'must be none, gzip, client-zstd, server-zstd or server-lz4' }).optional(),
  // gzip 1-9, zstd 1-22, lz4 1-12: checked against the method below.
  level: z.number().int().min(1).max(22).optional(),
  workers: z.number().int().min(1).max(64).optional(),
  walMethod: z.enum(['stream', 'fetch']).optional(),
  // Set by the scheduler: the schedule whose retention applies to this backup.
  scheduleId: z.uuid().optional(),
}).superRefine((p, c) => {
  const max = p.compression === 'gzip' ? 9 : p.compression === 'server-lz4' ? 12 : 22;
  if (p.level !== undefined && (p.compression === undefined || p.compression === 'none' || p.level > max))
    c.addIssue({ code: 'custom', path: ['level'], message: p.compression === undefined || p.compression === 'none' ? 'needs a compression' : `must be at most ${max} for ${p.compression}` });
  if (p.workers !== undefined && p.compression !== 'server-zstd' && p.compression !== 'client-zstd') c.addIssue({ code: 'custom', path: ['workers'], message: 'is for zstd only' });
});

const verifyProblem = z.object({ file: z.string(), archive: z.string().nullable(), problem: z.string() });
export const baseVerification = z.object({
  ok: z.boolean(),
  checkedAt: z.string(),
  method: z.string(),
  manifestChecksumOk: z.boolean(),
  archives: z.array(z.string()),
  filesMatched: z.number().int(),
  filesInManifest: z.number().int(),
  bytesChecked: z.number(),
  walSegments: z.array(z.string()),
  problems: z.array(verifyProblem),
});
const baseBackupResult = z.object({
  backupId: z.string(),
  folder: z.string(),
  files: z.array(z.object({ name: z.string(), size: z.number(), sha256: z.string() })),
  size: z.number(),
  startLsn: z.string(),
  stopLsn: z.string(),
  timeline: z.number().int(),
  verification: baseVerification,
});

// ---------------------------------------------------------------- restore points (issue 10)

/**
 * A restore point's name as pg_create_restore_point takes it: at most 63 bytes (the server refuses longer), printable
 * (no control characters: it is shown and typed back as a recovery target); quotes are fine, it is a bound parameter.
 */
export const restorePointName = z
  .string({ message: 'is required' })
  .trim()
  .min(1, 'is required')
  .refine((v) => Buffer.byteLength(v) <= 63, 'is longer than PostgreSQL allows (63 bytes)')
  .refine((v) => !/\p{C}/u.test(v), 'must be printable characters only (no tabs, line breaks or control characters)');
export const restorePointPayload = z.object({ targetId: z.uuid({ message: 'must be a target id' }), name: restorePointName });
const restorePointResult = z.object({ restorePointId: z.string(), target: z.string(), name: z.string(), lsn: z.string(), timeline: z.number().int().nullable(), createdAt: z.string() });

/**
 * One kind's entry: its label, the role that may start it, its payload and result schemas, and its time limit in
 * seconds (computed from the payload and the environment's limits, where they decide it).
 */
function jobKind<P extends z.ZodType, R extends z.ZodType, E extends JobKind<P, R>['expireInSeconds']>(
  label: string,
  role: Role,
  payload: P,
  result: R,
  expireInSeconds: E,
): Omit<JobKind<P, R>, 'expireInSeconds'> & { expireInSeconds: E } {
  return { label, payload, result, role, expireInSeconds };
}

export const jobKinds = {
  ping: jobKind('Ping the worker', 'operator', pingPayload, pingResult, (p) => p.seconds + 60),
  // Sized for large databases; a hung pg_dump is stopped after this and the job failed.
  backup: jobKind('Logical backup', 'operator', backupPayload, backupResult, (_p, env) => env.LIFEBOAT_BACKUP_TIMEOUT_SECONDS ?? SIX_HOURS),
  // Operators restore into new databases; replacing production is checked for admin in startRestore.
  restore: jobKind('Restore', 'operator', restorePayload, restoreResult, (_p, env) => env.LIFEBOAT_RESTORE_TIMEOUT_SECONDS ?? SIX_HOURS),
  // Checks that run before anything touches a database: the file, its checksum, tools, roles, destination.
  'restore-preflight': jobKind('Restore preflight', 'operator', restorePayload, restorePreflightResult, () => 1800),
  drill: jobKind('Restore drill', 'operator', targetPayload, drillResult, (_p, env) => env.LIFEBOAT_RESTORE_TIMEOUT_SECONDS ?? SIX_HOURS),
  rollback: jobKind('Roll back a production swap', 'admin', rollbackPayload, rollbackResult, () => 600),
  'drop-copy': jobKind('Drop a kept copy', 'admin', dropCopyPayload, dropCopyResult, () => 600),
  // A check (amcheck), or a repair (amcheck, REINDEX DATABASE, VACUUM (FULL, ANALYZE), amcheck again): admin only,
  // since amcheck may install an extension and a repair locks tables.
  repair: jobKind('Guided repair', 'admin', repairPayload, repairResult, (_p, env) => env.LIFEBOAT_REPAIR_TIMEOUT_SECONDS ?? SIX_HOURS),
  'recover-compare': jobKind('Compare tables with a backup', 'operator', recoverComparePayload, recoverCompareResult, (_p, env) => env.LIFEBOAT_RESTORE_TIMEOUT_SECONDS ?? SIX_HOURS),
  // Writes to production: admin, with the production database's name typed (checked in startReinsert).
  'recover-reinsert': jobKind('Re-insert missing rows', 'admin', recoveryPayload, recoverReinsertResult, () => 3600),
  'recover-export': jobKind('Export missing rows', 'operator', recoverExportPayload, recoverExportResult, () => 3600),
  'recover-discard': jobKind('Discard a row comparison', 'operator', recoveryPayload, recoverDiscardResult, () => 600),
  // An uploaded dump: written to storage, checked with pg_restore --list, registered as a backup.
  'import-upload': jobKind('Import an uploaded dump', 'admin', importUploadPayload, importUploadResult, () => 3600),
  // Runs as long as the browser takes; one that takes nothing for 10 minutes stops it sooner (DOWNLOAD_STALLED).
  download: jobKind('Download a file', 'operator', downloadPayload, downloadResult, () => SIX_HOURS),
  'test-connection': jobKind('Test connection', 'admin', targetPayload, testConnectionResult, () => 120),
  // pg_basebackup of the whole server, stored under <target>/_base/ and verified against its backup_manifest.
  'base-backup': jobKind('Base backup', 'operator', baseBackupPayload, baseBackupResult, (_p, env) => env.LIFEBOAT_BACKUP_TIMEOUT_SECONDS ?? SIX_HOURS),
  // Point-in-time recovery onto a new data folder and port on the worker host (never production); pitr-discard removes it.
  pitr: jobKind('Point-in-time recovery', 'admin', pitrPayload, pitrResult, (_p, env) => env.LIFEBOAT_RESTORE_TIMEOUT_SECONDS ?? SIX_HOURS),
  'pitr-discard': jobKind('Remove a recovered server', 'admin', pitrDiscardPayload, pitrDiscardResult, () => 600),
  'restore-point': jobKind('Create a restore point', 'operator', restorePointPayload, restorePointResult, () => 120),
} as const;

export type JobKindName = keyof typeof jobKinds;
export type JobPayload<K extends JobKindName> = z.infer<(typeof jobKinds)[K]['payload']>;
export type JobResult<K extends JobKindName> = z.infer<(typeof jobKinds)[K]['result']>;

/** The issues of a result that does not match its kind's schema, one "path: message" each; empty when it matches. */
export function resultIssues(kind: JobKindName, value: unknown): string[] {
  const r = jobKinds[kind].result.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || 'result'}: ${i.message}`);
}

/**
 * A job's stored result as its kind's schema describes it, for the pages; null when there is none or it does not
 * match (a result from an older version, or a bug: logged, so a page shows "no result" rather than wrong numbers).
 */
export function jobResult<K extends JobKindName>(kind: K, value: unknown): JobResult<K> | null {
  if (value === null || value === undefined) return null;
  const r = jobKinds[kind].result.safeParse(value);
  if (r.success) return r.data as JobResult<K>;
  console.error(`[lifeboat] a ${kind} job's result does not match its schema:`, r.error.issues);
  return null;
}

export const jobKindNames = Object.keys(jobKinds) as JobKindName[];

/**
 * The role that may start this job, and so stop it: a restore that replaces production needs admin (startRestore
 * checks it), anything unrecognised gets the strictest role.
 */
export function roleToStart(kind: string, payload: unknown): Role {
  const def = (jobKinds as Record<string, JobKind>)[kind];
  if (!def) return 'admin';
  if (kind === 'restore') {
    const mode = (payload as { destination?: { mode?: unknown } } | null)?.destination?.mode;
    return mode === 'new' || mode === 'drill' ? def.role : 'admin';
  }
  if (kind === 'download') return (payload as { of?: unknown } | null)?.of === 'export' ? def.role : 'admin';
  return def.role;
}

/** The pg-boss queue for a kind in a worker pool (a target names its pool). */
export function queueName(kind: JobKindName, pool = 'default'): string {
  return `${kind}.${pool}`;
}

/** What pg-boss carries: only our job id; the job row holds the payload. */
export interface QueueMessage {
  jobId: string;
}
