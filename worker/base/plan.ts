// plan: what a base backup needs before pg_basebackup starts: the target and its storage, the server's version,
// WAL settings and the login's REPLICATION right (each refused with the line to change), its WAL segment size,
// a pg_basebackup that fits, and the compression chosen. A failure here is still a failed base row in backup_log.
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { storageFor } from '../../lib/storage/storage-for';
import type { Storage } from '../../lib/storage/storage';
import { targetConn } from '../../lib/targets/target-conn';
import { connect } from '../pg/connect';
import { COMPRESSION_CHOICES_SINCE, defaultBaseBackupSettings, needsPg15, type BaseBackupSettings, type BaseCompression } from '../pg/pg-basebackup';
import { parseServerVersionNum, toolsFor, type ToolSet } from '../pg/tools';
import { recordBaseEarlyFailure } from './record';

/** The server facts one query reads: version, WAL settings, segment size, and whether the login may replicate. */
export const baseFactsSql = `SELECT current_setting('server_version_num') AS server_version_num, current_setting('server_version') AS server_version,
  current_setting('wal_level') AS wal_level, current_setting('max_wal_senders')::int AS max_wal_senders,
  (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size') AS wal_segment_size,
  (SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user) AS may_replicate,
  (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier`;

type BaseFacts = { server_version_num: string; server_version: string; wal_level: string; max_wal_senders: number; wal_segment_size: string; may_replicate: boolean; system_identifier: string | null };

export type BaseBackupPayload = {
  targetId: string;
  compression?: BaseCompression['method'];
  level?: number;
  workers?: number;
  walMethod?: 'stream' | 'fetch';
};

type Target = NonNullable<Awaited<ReturnType<typeof findTarget>>>;

export interface BasePlan {
  target: Target;
  settings: BaseBackupSettings;
  storage: Storage;
  serverVersion: string;
  serverMajor: number;
  systemIdentifier: string | null;
  walSegmentSize: number;
  tools: ToolSet;
}

function findTarget(id: string) {
  return getDb().target.findUnique({ where: { id }, include: { storage: true } });
}

/**
 * The payload's compression choice as settings (level defaults: gzip 6, zstd 3). Without a choice: the default
 * (server-side zstd) where server and pg_basebackup are 15 or later (`major`: the lower of the two), else the
 * runbook's gzip, which every version has.
 */
export function settingsOf(p: BaseBackupPayload, major = COMPRESSION_CHOICES_SINCE): BaseBackupSettings {
  const walMethod = p.walMethod ?? defaultBaseBackupSettings.walMethod;
  switch (p.compression) {
    case undefined:
      return major >= COMPRESSION_CHOICES_SINCE ? { ...defaultBaseBackupSettings, walMethod } : { compression: { method: 'gzip', level: 6 }, walMethod };
    case 'none':
      return { compression: { method: 'none' }, walMethod };
    case 'gzip':
      return { compression: { method: 'gzip', level: p.level ?? 6 }, walMethod };
    case 'server-lz4':
      return { compression: { method: 'server-lz4', ...(p.level !== undefined ? { level: p.level } : {}) }, walMethod };
    case 'client-zstd':
    case 'server-zstd':
      return { compression: { method: p.compression, level: p.level ?? 3, ...(p.workers ? { workers: p.workers } : {}) }, walMethod };
  }
}

/** What in the server's settings stops a base backup, as the line to change; null when nothing does. */
export function walSettingsProblem(f: { wal_level: string; max_wal_senders: number }, walMethod: 'stream' | 'fetch'): string | null {
  if (f.wal_level === 'minimal') return `The server runs with wal_level = minimal, which cannot make a base backup consistent: set wal_level = replica in postgresql.conf and restart PostgreSQL.`;
  // stream needs two WAL senders (the backup and the WAL stream), fetch one.
  const senders = walMethod === 'stream' ? 2 : 1;
  if (f.max_wal_senders < senders) return `The server allows ${f.max_wal_senders} replication connection(s) (max_wal_senders) and a base backup needs ${senders}: set max_wal_senders = 10 in postgresql.conf and restart PostgreSQL.`;
  return null;
}

export async function planBaseBackup(ctx: JobContext<BaseBackupPayload>): Promise<BasePlan> {
  await ctx.step('resolving target');
  const target = await findTarget(ctx.payload.targetId);
  if (!target) throw new UserError('NOT_FOUND', 'The target was deleted.');
  if (target.disabled) throw new UserError('TARGET_DISABLED', `Target "${target.name}" is disabled.`);
  let settings = settingsOf(ctx.payload);
  try {
    const storage = storageFor(target);
    await storage.check();

    await ctx.step('connecting');
    const admin = await connect(targetConn(target, target.database ?? 'postgres'));
    let f: BaseFacts;
    try {
      f = (await admin.query<BaseFacts>(baseFactsSql)).rows[0]!;
    } finally {
      await admin.end().catch(() => {});
    }
    const serverMajor = parseServerVersionNum(f.server_version_num).major;
    const walProblem = walSettingsProblem(f, settings.walMethod);
    if (walProblem) throw new UserError('BASE_BACKUP_NOT_CONFIGURED', walProblem);
    if (!f.may_replicate) throw new UserError('BASE_BACKUP_REPLICATION_DENIED', `User "${target.dbUser}" has neither REPLICATION nor SUPERUSER on ${target.host}:${target.port}; pg_basebackup needs one of them.`);

    // tools: a pg_basebackup at least as new as the server (newer ones take base backups of older servers).
    const tools = await toolsFor(serverMajor, f.server_version);
    if (ctx.payload.compression === undefined) settings = settingsOf(ctx.payload, Math.min(serverMajor, tools.major));
    if (needsPg15(settings.compression) && (tools.major < COMPRESSION_CHOICES_SINCE || (settings.compression.method.startsWith('server-') && serverMajor < COMPRESSION_CHOICES_SINCE))) {
      throw new UserError(
        'BASE_BACKUP_COMPRESSION_UNSUPPORTED',
        `Compression ${settings.compression.method} needs PostgreSQL ${COMPRESSION_CHOICES_SINCE} or later; the server is ${f.server_version} and pg_basebackup is ${tools.version}.`,
      );
    }
    await ctx.log(`server PostgreSQL ${f.server_version} (wal_level ${f.wal_level}, max_wal_senders ${f.max_wal_senders}); using ${tools.binDir}/pg_basebackup`);
    return {
      target,
      settings,
      storage,
      serverVersion: f.server_version,
      serverMajor,
      systemIdentifier: f.system_identifier,
      walSegmentSize: Number(f.wal_segment_size),
      tools,
    };
  } catch (err) {
    await recordBaseEarlyFailure(ctx, target, settings, err);
    throw err;
  }
}
