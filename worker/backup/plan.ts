// plan: what one backup run does: the target, the schedule's dump settings, the storage, the server's version, the
// databases to dump ("every database" is discovered at each run) and a pg_dump at least as new as the server.
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { Storage } from '../../lib/storage/storage';
import { storageFor } from '../../lib/storage/storage-for';
import { targetConn } from '../../lib/targets/target-conn';
import { connect } from '../pg/connect';
import { defaultDumpSettings, type DumpSettings } from '../pg/pg-dump';
import { parseServerVersionNum, toolsFor, type ToolSet } from '../pg/tools';
import { recordEarlyFailure } from './record';

export const serverFactsSql = 'SELECT current_setting($1) AS server_version_num, current_setting($2) AS server_version';
export const serverFactsParams = ['server_version_num', 'server_version'];
/** The databases of "every database": those a client may connect to, templates left out. */
export const allDatabasesSql = 'SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname';

type Target = NonNullable<Awaited<ReturnType<typeof findTarget>>>;

export interface BackupPlan {
  target: Target;
  schedule: { id: string } | null;
  settings: DumpSettings;
  storage: Storage;
  serverVersion: string;
  tools: ToolSet;
  databases: string[];
}

function findTarget(id: string) {
  return getDb().target.findUnique({ where: { id }, include: { storage: true } });
}

export async function planBackup(ctx: JobContext<{ targetId: string; scheduleId?: string | null }>): Promise<BackupPlan> {
  const db = getDb();
  await ctx.step('resolving target');
  const target = await findTarget(ctx.payload.targetId);
  if (!target) throw new UserError('NOT_FOUND', 'The target was deleted.');
  if (target.disabled) throw new UserError('TARGET_DISABLED', `Target "${target.name}" is disabled.`);
  const schedule = ctx.payload.scheduleId
    ? await db.schedule.findUnique({ where: { id: ctx.payload.scheduleId } })
    : await db.schedule.findFirst({ where: { targetId: target.id, kind: 'logical' }, orderBy: { createdAt: 'asc' } });
  const settings: DumpSettings = schedule
    ? { format: schedule.format as DumpSettings['format'], compressLevel: schedule.compressLevel, zstdLevel: schedule.zstdLevel, zstdThreads: defaultDumpSettings.zstdThreads, jobs: schedule.jobs }
    : defaultDumpSettings;
  // Failures before any database is dumped (storage, connection, tools) still leave a failed row in backup_log,
  // so history and the overview show the target as failing, not as quietly unbacked.
  try {
    // A configured storage must exist (a missing mount is an error to see); the implicit default is made on first use.
    const storage = storageFor(target);
    await storage.check();

    await ctx.step('connecting');
    const admin = await connect(targetConn(target, target.database ?? 'postgres'));
    let serverVersion: string;
    let major: number;
    let databases: string[];
    try {
      const v = (await admin.query<{ server_version_num: string; server_version: string }>(serverFactsSql, serverFactsParams)).rows[0]!;
      serverVersion = v.server_version;
      major = parseServerVersionNum(v.server_version_num).major;
      databases = target.database ? [target.database] : (await admin.query<{ datname: string }>(allDatabasesSql)).rows.map((r) => r.datname);
    } finally {
      await admin.end().catch(() => {});
    }

    // tools: a pg_dump at least as new as the server, or stop before anything starts.
    const tools = await toolsFor(major, serverVersion);
    await ctx.log(`server PostgreSQL ${serverVersion}; using ${tools.binDir} (pg_dump ${tools.version}); ${databases.length} database(s)`);
    return { target, schedule, settings, storage, serverVersion, tools, databases };
  } catch (err) {
    await recordEarlyFailure(ctx, target, schedule?.id ?? null, settings, err);
    throw err;
  }
}
