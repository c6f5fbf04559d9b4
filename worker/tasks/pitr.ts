// Point-in-time recovery (issue 10, wizard steps 2-5, worker side), as named steps (worker/pitr/*): plan (the
// newest kept, verified base backup before the target), preflight on this host (server programs of its major, a
// free port, free disk), extract the stored archives into a new folder, write the recovery settings, start the
// copy as the postgres OS user and watch it replay until it promotes. Production is never touched: the copy has its
// own folder and port, listens on loopback only and archives nothing. A failure stops and removes what it started.
import { appendFile, chmod, copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getDb } from '../../lib/db';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload, JobResult } from '../../lib/jobs/kinds';
import { targetConn } from '../../lib/targets/target-conn';
import { extractBaseBackup } from '../pitr/extract';
import { describeTarget, planPitr } from '../pitr/plan-job';
import { checkDestination, choosePort, requireServerBinaries } from '../pitr/preflight';
import { giveToPostgres, removeFolder, requirePostgresReaches, startServer, stopServer, waitForPromotion } from '../pitr/server';
import { autoConfText, recoverySettings, restoreCommand, walConfText } from '../pitr/settings';

/** lifeboat-wal as shipped in this checkout (LIFEBOAT_WAL_BIN names another); a copy goes into each recovery folder. */
function walScript(): string {
  return process.env.LIFEBOAT_WAL_BIN || fileURLToPath(new URL('../../wal/lifeboat-wal', import.meta.url));
}

export function recoveredFolder(jobId: string): string {
  return path.join(process.env.LIFEBOAT_DATA_DIR || path.join(process.cwd(), '.lifeboat'), 'recovered', jobId);
}

/** A file PostgreSQL needs in the data folder that a Debian-style server keeps in /etc: written minimal when missing. */
async function ensureConfFiles(dataDir: string): Promise<string[]> {
  const written: string[] = [];
  const conf = path.join(dataDir, 'postgresql.conf');
  if (!existsSync(conf)) {
    await writeFile(conf, '# Written by a Lifeboat point-in-time recovery: the base backup had no postgresql.conf (it lives outside the data folder on this server).\n');
    written.push('postgresql.conf');
  }
  const hba = path.join(dataDir, 'pg_hba.conf');
  if (!existsSync(hba)) {
    await writeFile(hba, '# Written by a Lifeboat point-in-time recovery: loopback sign-in with the production roles\' passwords.\nlocal all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n');
    written.push('pg_hba.conf');
  }
  return written;
}

export async function pitr(ctx: JobContext<JobPayload<'pitr'>>): Promise<JobResult<'pitr'>> {
  const began = Date.now();
  const db = getDb();

  // plan: the target, the base backup the recovery starts from, its storage and the WAL archive.
  await ctx.step('planning');
  const plan = await planPitr(ctx.payload);
  const { target, row, recoveryTarget } = plan;
  await ctx.log(`recovering "${target.name}" to ${describeTarget(recoveryTarget)} from base backup ${row.id} (${row.backupFile}, ended ${row.backupStoppedAt!.toISOString()} at ${row.stopLsn}, timeline ${row.timelineId}); the window starts at ${plan.picked.windowStart.at.toISOString()} (${plan.picked.windowStart.lsn})`);

  // preflight: this host's server programs, a free port, an empty destination with room for the restored size.
  await ctx.step('preflight');
  const binDir = await requireServerBinaries(plan.major, ctx.signal);
  const port = await choosePort(ctx.payload.port);
  const folder = path.resolve(ctx.payload.destination ?? recoveredFolder(ctx.jobId));
  const needed = Math.ceil(plan.restoredBytes * 1.1) + 256 * 1024 * 1024;
  const { freeBytes } = await checkDestination(folder, needed);
  await ctx.log(`preflight: PostgreSQL ${plan.major} programs in ${binDir}; port ${port}; ${folder} has ${Math.round(freeBytes / 1e6)} MB free, about ${Math.round(needed / 1e6)} MB needed`);

  // From here on this job makes things on the host: a failure stops the server and removes the folder.
  const dataDir = path.join(folder, 'data');
  const logFile = path.join(folder, 'server.log');
  const existed = existsSync(folder);
  // 0755 down to the folder: the postgres OS user reads the script and wal.conf there; the data folder is 0700.
  await mkdir(folder, { recursive: true, mode: 0o755 });
  await mkdir(dataDir, { mode: 0o700 });
  ctx.defer(`remove ${folder}`, () => (existed ? removeFolderContents(folder) : removeFolder(folder)));
  ctx.defer('stop the recovered server', () => stopServer(binDir, dataDir));

  // extract: every stored archive into the data folder (tablespaces beside it).
  await ctx.step('extracting the base backup');
  const extracted = await extractBaseBackup({
    storage: plan.storage,
    folder: row.backupFile,
    dataDir,
    tablespaceRoot: path.join(folder, 'tablespaces'),
    signal: ctx.signal,
    onArchive: (file, i, n) => void ctx.progress(2 + (38 * i) / n, `extracting ${file}`).catch(() => {}),
  });
  await ctx.log(`extracted ${extracted.archives.join(', ')}${extracted.tablespaces.length ? `; tablespaces ${extracted.tablespaces.map((t) => `${t.oid} -> ${t.folder}`).join(', ')}` : ''}`);

  // configure: lifeboat-wal and its wal.conf for this recovery, recovery.signal, the settings in postgresql.auto.conf.
  await ctx.step('writing the recovery settings');
  const script = path.join(folder, 'lifeboat-wal');
  await copyFile(walScript(), script);
  await chmod(script, 0o755);
  const walConf = path.join(folder, 'wal.conf');
  await writeFile(walConf, walConfText({ root: plan.walRoot, target: plan.walTarget }), { mode: 0o644 });
  const written = await ensureConfFiles(dataDir);
  if (written.length) await ctx.log(`the base backup had no ${written.join(' or ')} (kept outside the data folder on that server): wrote minimal ones`, 'warn');
  const settings = recoverySettings({ target: recoveryTarget, restoreCommand: restoreCommand({ script, walConf }), port });
  await appendFile(path.join(dataDir, 'postgresql.auto.conf'), autoConfText(settings));
  await writeFile(path.join(dataDir, 'recovery.signal'), '');
  await writeFile(logFile, '');
  await chmod(dataDir, 0o700);
  await giveToPostgres(folder, ctx.signal);
  await requirePostgresReaches(script, ctx.signal);
  await ctx.log(`postgresql.auto.conf: ${settings.filter(([, v]) => v !== '').map(([k, v]) => `${k} = '${v}'`).join(', ')}`);

  // start: the copy, as the postgres OS user, on its own port; recorded so it can be listed and removed.
  await ctx.step('starting the recovered server');
  const instance = await db.recoveredInstance.create({ data: { jobId: ctx.jobId, targetId: target.id, backupId: row.id, host: os.hostname(), dataDir: folder, port, status: 'running' } });
  ctx.defer('mark the recovered instance removed', () => db.recoveredInstance.update({ where: { id: instance.id }, data: { status: 'removed', removedAt: new Date() } }));
  await startServer(binDir, dataDir, logFile, ctx.signal);

  // replay: watched once a second until it has promoted.
  await ctx.step('replaying WAL');
  const database = target.database ?? 'postgres';
  const conn = { ...targetConn(target, database), host: '127.0.0.1', port, sslMode: 'disable' };
  const done = await waitForPromotion({
    binDir,
    dataDir,
    logFile,
    conn,
    signal: ctx.signal,
    onState: (s) => ctx.progress(null, `${s.inRecovery ? 'replaying' : 'promoted'}: WAL replayed to ${s.replayLsn ?? '(not yet consistent)'}, last transaction ${s.lastTransactionAt?.toISOString() ?? 'none yet'}; target ${describeTarget(recoveryTarget)}`),
  });
  const connection = `postgresql://${encodeURIComponent(target.dbUser)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  await ctx.log(`promoted at ${done.promotedAt.toISOString()}: replayed to ${done.replayLsn}, last transaction at ${done.lastTransactionAt?.toISOString() ?? 'none'}; connect with ${connection} (the target's password)`);
  return {
    instanceId: instance.id,
    targetId: target.id,
    backupId: String(row.id),
    baseBackupFolder: row.backupFile,
    recoveryTarget: describeTarget(recoveryTarget),
    host: os.hostname(),
    port,
    folder,
    dataDir,
    serverMajor: plan.major,
    promotedAt: done.promotedAt.toISOString(),
    lastReplayedLsn: done.replayLsn,
    lastTransactionAt: done.lastTransactionAt?.toISOString() ?? null,
    connection,
    durationMs: Date.now() - began,
  };
}

/** An existing (empty at preflight) destination given by the admin: its contents go, the folder stays. */
async function removeFolderContents(folder: string): Promise<void> {
  for (const e of await readdir(folder)) await removeFolder(path.join(folder, e));
}
