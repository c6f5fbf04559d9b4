// The error registry: every code Lifeboat can answer with, its HTTP status, and whether a retry can help.

export const errorRegistry = {
  UNAUTHENTICATED: { status: 401, retryable: false, hint: 'Sign in and try again.' },
  FORBIDDEN: { status: 403, retryable: false, hint: 'Ask an admin for a role that allows this.' },
  CROSS_ORIGIN: { status: 403, retryable: false, hint: 'Use the console itself; requests from other sites are refused.' },
  VALIDATION: { status: 400, retryable: false, hint: 'Correct the fields named above and send again.' },
  NOT_FOUND: { status: 404, retryable: false, hint: 'It may have been removed; go back to the list.' },
  EMAIL_TAKEN: { status: 409, retryable: false, hint: 'Use another email, or change the existing user instead.' },
  LAST_ADMIN: { status: 409, retryable: false, hint: 'Make another user admin first.' },
  SELF_LOCKOUT: { status: 409, retryable: false, hint: 'Ask another admin to do this.' },
  JOB_NOT_CANCELLABLE: { status: 409, retryable: false, hint: 'The job has already ended.' },
  SIGN_IN_LOCKED: { status: 429, retryable: true, hint: 'Wait until the lock ends, or ask an admin.' },
  DB_UNAVAILABLE: {
    status: 503,
    retryable: true,
    hint: "The console's database is not answering. Check that PostgreSQL is running and DATABASE_URL is right.",
  },
  // Job outcomes (stored on the job row; never an HTTP answer of their own).
  WORKER_LOST: {
    status: 500,
    retryable: true,
    hint: 'The worker running this job stopped (crash, kill or restart). Run the job again.',
  },
  JOB_EXPIRED: { status: 500, retryable: true, hint: 'The job ran longer than its time limit. Look at the log for where it hung.' },
  JOB_CANCELLED: { status: 409, retryable: true, hint: 'Cancelled on request; run it again when ready.' },
  PING_FAILED: { status: 500, retryable: true, hint: 'The ping was asked to fail; this proves failures reach the console.' },
  // Targets and backups.
  TARGET_UNREACHABLE: { status: 502, retryable: true, hint: 'Check host, port and firewall, and that PostgreSQL is running and listening on that address.' },
  TARGET_AUTH_FAILED: { status: 502, retryable: false, hint: 'Check the user and password of the target (and pg_hba.conf on the server).' },
  TARGET_DATABASE_MISSING: { status: 502, retryable: false, hint: 'Check the database name; it may have been dropped or renamed.' },
  TARGET_PRIVILEGES: { status: 502, retryable: false, hint: 'Grant the backup user SELECT on these tables (or use a role with pg_read_all_data).' },
  TARGET_DISABLED: { status: 409, retryable: false, hint: 'Enable the target first.' },
  TOOL_TOO_OLD: { status: 502, retryable: false, hint: 'Install the client tools of the server major version on the worker host.' },
  STORAGE_MISSING: { status: 502, retryable: false, hint: 'Create the storage folder on the worker host, or fix the storage path.' },
  STORAGE_NOT_WRITABLE: { status: 502, retryable: false, hint: 'Give the worker user write access to the storage folder.' },
  DISK_FULL: { status: 507, retryable: true, hint: 'Free space in the storage location (or shorten retention), then run the backup again.' },
  BACKUP_TOOL_FAILED: { status: 502, retryable: true, hint: 'Read the tool output below; earlier backups are untouched.' },
  BACKUP_VERIFY_FAILED: { status: 502, retryable: true, hint: 'The file could not be read back; it was removed. Run the backup again and check the storage.' },
  BACKUP_ALREADY_RUNNING: { status: 409, retryable: false, hint: 'Wait for the running backup to finish, or cancel it.' },
  MASTER_KEY_MISMATCH: { status: 500, retryable: false, hint: 'Start the worker with the same LIFEBOAT_MASTER_KEY as the console, or enter the target password again.' },
  BACKUP_UNUSABLE: { status: 409, retryable: false, hint: 'Pick a succeeded backup that is still kept.' },
  BACKUP_FILE_MISSING: { status: 409, retryable: false, hint: 'Check the storage on the worker host.' },
  BACKUP_CHECKSUM_MISMATCH: { status: 409, retryable: false, hint: 'The file changed since it was written (damage, truncation or tampering). Pick another backup.' },
  BACKUP_UNREADABLE: { status: 409, retryable: false, hint: 'The file is damaged or not a pg_dump archive. Pick another backup.' },
  ROLES_MISSING: { status: 409, retryable: false, hint: 'Create the roles on the destination, or restore without owners.' },
  DESTINATION_EXISTS: { status: 409, retryable: false, hint: 'Pick another database name, or drop the existing database first.' },
  RESTORE_FAILED: { status: 502, retryable: true, hint: 'Read the pg_restore output below.' },
  CHECKS_FAILED: { status: 409, retryable: false, hint: 'The restored copy does not match what the backup recorded.' },
  HOOK_FAILED: { status: 502, retryable: true, hint: 'Fix the hook (or clear it on the target) and run the restore again.' },
  NOTHING_TO_ROLL_BACK: { status: 409, retryable: false, hint: 'The kept copy is gone; there is nothing to roll back to.' },
  // Guided repair.
  REPAIR_ALREADY_RUNNING: { status: 409, retryable: false, hint: 'Wait for the running repair of this target to finish, or cancel it.' },
  REPAIR_FAILED: { status: 502, retryable: true, hint: 'Read the output below. If the database stays damaged, restore the last good backup with the restore wizard.' },
  // Recovering deleted rows.
  NO_PRIMARY_KEY: { status: 409, retryable: false, hint: 'Rows are matched by primary key; pick tables that have one (or restore this table into a new database and compare by hand).' },
  RECOVERY_TOO_LARGE: { status: 409, retryable: false, hint: 'This is more than row recovery is for: restore the table into a new database with the restore wizard and copy from there.' },
  RECOVERY_SCRATCH_GONE: { status: 409, retryable: false, hint: 'The scratch copy was dropped (re-inserted, discarded, or older than 24 hours). Run the comparison again.' },
  SELF_APPROVAL: { status: 403, retryable: false, hint: 'Ask another admin to approve it.' },
  INVALID_CRON: { status: 400, retryable: false, hint: 'Use five fields: minute hour day-of-month month day-of-week, e.g. "0 2 * * *".' },
  // Jobs: cancel rights and the point of no return.
  JOB_PAST_POINT_OF_NO_RETURN: {
    status: 409,
    retryable: false,
    hint: 'Production has already been dropped or renamed, so stopping now would leave it empty or missing: the job finishes on its own (an in-place restore finishes restoring from the same backup). Watch it to its end.',
  },
  // Four-eyes approvals (requests for restores, rollbacks and the approval setting).
  REQUEST_EXPIRED: { status: 409, retryable: false, hint: 'Ask again: the request must be decided while it is fresh.' },
  NOT_REQUESTER: { status: 403, retryable: false, hint: 'Only the admin who asked can withdraw a request; refuse it instead.' },
  // guided repair: check first, repair only what a check found
  REPAIR_NOT_NEEDED: { status: 409, retryable: false, hint: 'Run a check; a repair is offered when it finds a corrupt index. An admin can force one anyway.' },
  REPAIR_LOCK_TIMEOUT: { status: 409, retryable: true, hint: 'Another session held a lock on a table; find it in pg_stat_activity and pg_locks, let it finish (or end it), then repair again.' },
  // Restores (what a restore may create, and what it may restore).
  ROLES_NEED_ADMIN: { status: 403, retryable: false, hint: 'Ask an admin to run this restore (roles are created only for admins), or restore without owners.' },
  TABLES_NOT_IN_ARCHIVE: { status: 409, retryable: false, hint: "Pick tables from the archive's own list (the options step shows it)." },
  PRODUCTION_DROPPED: { status: 502, retryable: true, hint: 'Production was dropped by the in-place restore and is not back: restore it again from the backup named above.' },
  // Backups: whole-server targets (each database its own result) and what the connection test finds.
  TARGET_CONNECT_DENIED: {
    status: 502,
    retryable: false,
    hint: 'The server answered and refused this login for that database (a privilege, not the network): GRANT CONNECT ON DATABASE <name> TO <user>, or use a login that may connect.',
  },
  BACKUP_PARTIAL: {
    status: 502,
    retryable: true,
    hint: 'The databases named were not backed up; every other database was. Fix what each one says (the target lists them), then run the backup again.',
  },
  // Downloads (streamed by a worker through the console database).
  DOWNLOAD_NOT_STARTED: {
    status: 503,
    retryable: true,
    hint: "No worker took the download in time: check on the overview that a worker of the target's pool is running (it may be busy with other downloads), then try again.",
  },
  DOWNLOAD_STALLED: { status: 408, retryable: true, hint: 'The browser took nothing for 10 minutes, so the download was stopped. Download it again.' },
  // Storage objects (lib/storage): a name is written once; a reader finds it or is told it is gone.
  STORAGE_OBJECT_EXISTS: {
    status: 409,
    retryable: false,
    hint: 'An object of that name with other content is already in the storage and was kept. Look at both (a second worker writing the same name, or a file put there by hand) before removing either.',
  },
  STORAGE_OBJECT_MISSING: {
    status: 409,
    retryable: false,
    hint: 'The file is not in the storage on the worker host (moved, deleted by hand, or the storage is on another host). Check the storage folder, or pick another backup.',
  },
  // What CONFLICT used to stand for, one code a situation (retryable: the same request may succeed later unchanged).
  REQUEST_ALREADY_DECIDED: { status: 409, retryable: false, hint: 'Someone approved, refused or withdrew it already; reload the requests, and ask again if it is still needed.' },
  JOB_STATE_CHANGED: { status: 409, retryable: true, hint: 'The job started, ended or was cancelled meanwhile; reload the page and try again.' },
  JOB_NOT_SUCCEEDED: { status: 409, retryable: false, hint: 'This builds on that job: wait for it to succeed, or run it again if it failed or was cancelled.' },
  NAME_TAKEN: { status: 409, retryable: false, hint: 'Choose another name; names are unique.' },
  TARGET_BUSY: { status: 409, retryable: true, hint: "Wait for the target's running jobs to finish, or cancel them, then try again." },
  BACKUP_NOT_DOWNLOADABLE: { status: 409, retryable: false, hint: 'Copy it from the worker host, or restore it from the console.' },
  TABLE_CHANGED: { status: 409, retryable: false, hint: 'The table changed since the backup or the comparison; run the comparison again, or restore the table into a new database and compare by hand.' },
  REINSERT_ROW_EXISTS: { status: 409, retryable: false, hint: 'Someone re-created rows since the comparison. Run the comparison again.' },
  REINSERT_PARENT_MISSING: { status: 409, retryable: false, hint: 'Compare the referenced table too, so its missing rows are re-inserted first.' },
  REINSERT_REFUSED: { status: 409, retryable: false, hint: 'The table changed since the backup. Export the rows as SQL and adapt them by hand.' },
  JOB_NOT_RETRYABLE: { status: 409, retryable: false, hint: "Running it again unchanged would fail the same way: do what the failure's hint says, then start it from its page." },
  TARGET_CONNECTION_LOST: {
    status: 502,
    retryable: true,
    hint: "The target's server ended the connection while the job used it (pg_terminate_backend, a restart or shutdown, a network cut). Check the server's log for why, then run the job again.",
  },
  // Physical base backups (pg_basebackup).
  BASE_BACKUP_ALREADY_RUNNING: { status: 409, retryable: false, hint: 'Wait for the running base backup of this target to finish, or cancel it.' },
  BASE_BACKUP_NOT_CONFIGURED: {
    status: 409,
    retryable: false,
    hint: 'Set wal_level = replica (or logical) and max_wal_senders = 10 (at least 2) in postgresql.conf, restart PostgreSQL, then run the base backup again.',
  },
  BASE_BACKUP_REPLICATION_DENIED: {
    status: 502,
    retryable: false,
    hint: 'Give the target\'s user the REPLICATION attribute (ALTER ROLE <user> REPLICATION) and allow it in pg_hba.conf with a "host replication <user> <worker address> scram-sha-256" line, then reload PostgreSQL.',
  },
  BASE_BACKUP_COMPRESSION_UNSUPPORTED: {
    status: 409,
    retryable: false,
    hint: 'Choose gzip (or no compression) for a server older than PostgreSQL 15: zstd and lz4 need 15 or later on both the server and the worker.',
  },
  BASE_BACKUP_VERIFY_FAILED: {
    status: 502,
    retryable: true,
    hint: 'A stored file does not match PostgreSQL\'s own backup_manifest (named above), so this backup was removed and is never offered for a restore. Check the storage (disk errors, another writer), then run the base backup again.',
  },
  // Point-in-time recovery (issue 10).
  PITR_NO_BASE_BACKUP: { status: 409, retryable: false, hint: 'Take a base backup of this target first (with WAL archiving on); recovery starts from one.' },
  PITR_TARGET_OUTSIDE_WINDOW: { status: 400, retryable: false, hint: 'Pick a recovery target inside the recoverable window (its start is named above), or "latest".' },
  PITR_NO_SERVER_BINARIES: { status: 502, retryable: false, hint: 'Install the PostgreSQL server of that major version on the worker host (apt-get install postgresql-<major>), then run the recovery again.' },
  PITR_PORT_IN_USE: { status: 409, retryable: false, hint: 'Pick another port, or leave the port empty to take the first free one from 55432 upward.' },
  PITR_DESTINATION_EXISTS: { status: 409, retryable: false, hint: 'Pick an empty or new destination folder; a recovery never writes into an existing data folder.' },
  PITR_RECOVERY_FAILED: { status: 502, retryable: true, hint: 'Read the server log line above (a missing WAL segment names the gap in the archive); what this recovery started was stopped and removed.' },
  PITR_INSTANCE_NOT_FOUND: { status: 404, retryable: false, hint: 'It may already have been removed; reload the list of recovered instances.' },
  RESTORE_POINT_NAME_TAKEN: { status: 409, retryable: false, hint: 'A recovery to a name stops at the first point of that name: choose another name for this restore point.' },
  RESTORE_POINT_FAILED: {
    status: 502,
    retryable: true,
    hint: "The server's answer is above. pg_create_restore_point needs wal_level = replica (or logical), a server that is not in recovery, and a superuser or a login granted it (GRANT EXECUTE ON FUNCTION pg_create_restore_point(text) TO <user>).",
  },
  INTERNAL: { status: 500, retryable: false, hint: 'This is a bug in Lifeboat. The server log has the details.' },
} as const satisfies Record<string, { status: number; retryable: boolean; hint: string }>;

export type ErrorCode = keyof typeof errorRegistry;

/**
 * Whether trying the same thing again, unchanged, can help (a failed job's code, an API answer's code). An unknown
 * code (another version's, a proxy's "HTTP_502") is judged by its HTTP status: 5xx may pass, 4xx will not.
 */
export function isRetryable(code: string | null | undefined, status?: number): boolean {
  const entry = code ? (errorRegistry as Record<string, { retryable: boolean }>)[code] : undefined;
  if (entry) return entry.retryable;
  return status === undefined ? false : status === 0 || status >= 500;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; hint: string; fields?: Record<string, string> };
}

/** An error a person can fix: its message says what went wrong, its hint what to do. */
export class UserError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly fields?: Record<string, string>;
  constructor(code: ErrorCode, message: string, hint?: string, fields?: Record<string, string>) {
    super(message);
    this.name = 'UserError';
    this.code = code;
    this.hint = hint ?? errorRegistry[code].hint;
    this.fields = fields;
  }
  get status(): number {
    return errorRegistry[this.code].status;
  }
  toBody(): ErrorBody {
    return {
      error: { code: this.code, message: this.message, hint: this.hint, ...(this.fields ? { fields: this.fields } : {}) },
    };
  }
}

const unreachableCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', '57P03', '57P01', '3D000', '28P01']);

/** True when an error means the console's own database cannot be reached (any layer: pg, adapter, Prisma). */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 6; depth++) {
    const o = e as { code?: string; name?: string; message?: string; cause?: unknown; errorCode?: string };
    if (o.code && unreachableCodes.has(o.code)) return true;
    if (o.code === 'P1001' || o.code === 'P1002' || o.errorCode === 'P1001') return true;
    if (o.name === 'DriverAdapterError' && /ECONNREFUSED|DatabaseNotReachable|connect/i.test(String(o.message)))
      return true;
    if (/Can't reach database server|Connection terminated|connect ECONNREFUSED|DatabaseNotReachable/i.test(String(o.message)))
      return true;
    e = o.cause;
  }
  return false;
}

/** Maps any thrown value to the status and body the API answers with; unknown errors are logged with their stack. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof UserError) return { status: err.status, body: err.toBody() };
  if (isDatabaseUnavailable(err)) {
    const e = new UserError('DB_UNAVAILABLE', "The console's database is unavailable.");
    return { status: e.status, body: e.toBody() };
  }
  console.error('[lifeboat] unexpected error:', err);
  const e = new UserError('INTERNAL', 'Something went wrong on the server.');
  return { status: e.status, body: e.toBody() };
}
