// Job kinds: the contract between console and worker (payload schema, who may start it, how long it may run).
import { z } from 'zod';
import { bigintIdString } from '../ids';
import type { Role } from '../auth/roles';

export interface JobKind<P extends z.ZodType = z.ZodType> {
  label: string;
  payload: P;
  role: Role;
  /** Seconds the job may run before it is stopped and failed; sized to the work. */
  expireInSeconds: (payload: z.infer<P>) => number;
}

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

export const jobKinds = {
  ping: {
    label: 'Ping the worker',
    payload: pingPayload,
    role: 'operator',
    expireInSeconds: (p: z.infer<typeof pingPayload>) => p.seconds + 60,
  } satisfies JobKind<typeof pingPayload>,
  backup: {
    label: 'Logical backup',
    payload: backupPayload,
    role: 'operator',
    // Sized for large databases; a hung pg_dump is stopped after this and the job failed.
    expireInSeconds: () => Number(process.env.LIFEBOAT_BACKUP_TIMEOUT_SECONDS ?? 6 * 3600),
  } satisfies JobKind<typeof backupPayload>,
  restore: {
    label: 'Restore',
    payload: restorePayload,
    // Operators restore into new databases; replacing production is checked for admin in startRestore.
    role: 'operator',
    expireInSeconds: () => Number(process.env.LIFEBOAT_RESTORE_TIMEOUT_SECONDS ?? 6 * 3600),
  } satisfies JobKind<typeof restorePayload>,
  // Checks that run before anything touches a database: the file, its checksum, tools, roles, destination.
  'restore-preflight': {
    label: 'Restore preflight',
    payload: restorePayload,
    role: 'operator',
    expireInSeconds: () => 1800,
  } satisfies JobKind<typeof restorePayload>,
  drill: {
    label: 'Restore drill',
    payload: targetPayload,
    role: 'operator',
    expireInSeconds: () => Number(process.env.LIFEBOAT_RESTORE_TIMEOUT_SECONDS ?? 6 * 3600),
  } satisfies JobKind<typeof targetPayload>,
  rollback: {
    label: 'Roll back a production swap',
    payload: rollbackPayload,
    role: 'admin',
    expireInSeconds: () => 600,
  } satisfies JobKind<typeof rollbackPayload>,
  'drop-copy': {
    label: 'Drop a kept copy',
    payload: dropCopyPayload,
    role: 'admin',
    expireInSeconds: () => 600,
  } satisfies JobKind<typeof dropCopyPayload>,
  // A check (amcheck), or a repair (amcheck, REINDEX DATABASE, VACUUM (FULL, ANALYZE), amcheck again): admin only,
  // since amcheck may install an extension and a repair locks tables.
  repair: {
    label: 'Guided repair',
    payload: repairPayload,
    role: 'admin',
    expireInSeconds: () => Number(process.env.LIFEBOAT_REPAIR_TIMEOUT_SECONDS ?? 6 * 3600),
  } satisfies JobKind<typeof repairPayload>,
  'recover-compare': {
    label: 'Compare tables with a backup',
    payload: recoverComparePayload,
    role: 'operator',
    expireInSeconds: () => Number(process.env.LIFEBOAT_RESTORE_TIMEOUT_SECONDS ?? 6 * 3600),
  } satisfies JobKind<typeof recoverComparePayload>,
  // Writes to production: admin, with the production database's name typed (checked in startReinsert).
  'recover-reinsert': {
    label: 'Re-insert missing rows',
    payload: recoveryPayload,
    role: 'admin',
    expireInSeconds: () => 3600,
  } satisfies JobKind<typeof recoveryPayload>,
  'recover-export': {
    label: 'Export missing rows',
    payload: recoverExportPayload,
    role: 'operator',
    expireInSeconds: () => 3600,
  } satisfies JobKind<typeof recoverExportPayload>,
  'recover-discard': {
    label: 'Discard a row comparison',
    payload: recoveryPayload,
    role: 'operator',
    expireInSeconds: () => 600,
  } satisfies JobKind<typeof recoveryPayload>,
  // An uploaded dump: written to storage, checked with pg_restore --list, registered as a backup.
  'import-upload': {
    label: 'Import an uploaded dump',
    payload: importUploadPayload,
    role: 'admin',
    expireInSeconds: () => 3600,
  } satisfies JobKind<typeof importUploadPayload>,
  // Runs as long as the browser takes; one that takes nothing for 10 minutes stops it sooner (DOWNLOAD_STALLED).
  download: {
    label: 'Download a file',
    payload: downloadPayload,
    role: 'operator',
    expireInSeconds: () => 6 * 3600,
  } satisfies JobKind<typeof downloadPayload>,
  'test-connection': {
    label: 'Test connection',
    payload: targetPayload,
    role: 'admin',
    expireInSeconds: () => 120,
  } satisfies JobKind<typeof targetPayload>,
} as const;

export type JobKindName = keyof typeof jobKinds;
export type JobPayload<K extends JobKindName> = z.infer<(typeof jobKinds)[K]['payload']>;

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
