// The logical backup, as a list of named steps (worker/backup/*): plan the run, then for each database take a
// snapshot and its facts, dump into storage while every byte is read back, verify, store the globals and, last, the
// manifest, and record the row. What a step leaves behind on failure is on the job's cleanup stack, not in flags.
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { applyRetention } from '../../lib/backups/apply-retention';
import { safeName, targetConn } from '../../lib/targets/target-conn';
import { toolEnv } from '../pg/connect';
import { fileExtension } from '../pg/pg-dump';
import { dump } from '../backup/dump';
import { readGlobals } from '../backup/globals';
import { buildManifest, manifestText } from '../backup/manifest';
import { planBackup, type BackupPlan } from '../backup/plan';
import { openBackupRow, recordFailure, recordSuccess } from '../backup/record';
import { takeSnapshot } from '../backup/snapshot';
import { storeFolder } from '../backup/store-folder';
import { storedSet } from '../backup/stored';
import { verify } from '../backup/verify';

type BackupPayload = JobPayload<'backup'>;

export async function backup(ctx: JobContext<BackupPayload>) {
  // plan: target, schedule settings, storage, server version, the databases and a fitting pg_dump; a failure here
  // is still a failed row in backup_log, so the overview shows the target failing, not quietly unbacked.
  const plan = await planBackup(ctx);

  // each database: its own backup_log row and result; on a whole server one failure does not stop the others.
  const results = [];
  const failed: { database: string; code: string; message: string; hint: string }[] = [];
  for (const [index, database] of plan.databases.entries()) {
    if (ctx.signal.aborted) break;
    try {
      results.push(await backupDatabase(ctx, plan, database, index));
    } catch (err) {
      if (plan.target.database || ctx.signal.aborted || !(err instanceof UserError)) throw err;
      failed.push({ database, code: err.code, message: err.message, hint: err.hint });
      await ctx.log(`${database}: not backed up: [${err.code}] ${err.message}`, 'error');
    }
  }
  const outcome = { backups: results.map((r) => ({ id: String(r.id), database: r.database, size: r.size, file: r.file })), failed };

  // retention: by the schedule's policy, per database; a database's newest good backup always stays.
  if (plan.schedule && results.length) {
    await ctx.step('applying retention');
    const removed = await applyRetention(plan.schedule.id, { log: (l) => ctx.log(l) });
    if (removed.length) await ctx.log(`retention removed ${removed.length} backup(s)`);
  }

  // outcome: the job fails if any database was not backed up, and its result still says which were and why not.
  if (failed.length) {
    await getDb().job.updateMany({ where: { id: ctx.jobId, status: 'running' }, data: { result: outcome } });
    throw new UserError('BACKUP_PARTIAL', `${failed.length} of ${plan.databases.length} databases were not backed up: ${failed.map((f) => `${f.database} (${f.code}: ${f.message})`).join('; ')}`);
  }
  return outcome;
}

async function backupDatabase(ctx: JobContext<BackupPayload>, plan: BackupPlan, database: string, index: number) {
  const { target, settings, tools, storage } = plan;
  const started = new Date();
  // Milliseconds and the job id: two backups in the same second never share a name.
  const stamp = started.toISOString().replace(/[-:]/g, '').replace('.', '');
  const name = `${safeName(target.name)}/${safeName(database)}/${stamp}-${safeName(database)}-${ctx.jobId.slice(0, 8)}.${fileExtension(settings)}`;
  const store = storedSet(ctx, storage);

  // record: a running row from the start, so the history shows this attempt whatever happens next.
  const row = await openBackupRow(ctx, { targetId: target.id, scheduleId: plan.schedule?.id ?? null, database, file: name, format: settings.format, storageId: target.storageId, location: storage.describe(), serverVersion: plan.serverVersion, toolVersion: tools.version, started });

  // The passfile is a secret on disk: tracked like a partial file (the crash sweep removes it) and removed when this
  // database is done, whatever the outcome.
  const conn = targetConn(target, database);
  const pass = await toolEnv(conn, { dir: await ctx.scratch() });
  const removePass = async () => {
    await pass.cleanup();
    if (pass.dir) await ctx.untrackPartial(pass.dir).catch(() => {});
  };
  const dropPass = ctx.defer('remove the passfile', removePass, { always: true });
  if (pass.dir) await ctx.trackPartial(pass.dir);
  let snap: Awaited<ReturnType<typeof takeSnapshot>> | undefined;
  try {
    // snapshot and facts: one exported snapshot for the key-table counts and fingerprints, the database's
    // properties and pg_dump, so the facts describe the file exactly.
    await ctx.step(`${database}: counting key tables`);
    snap = await takeSnapshot(ctx, conn, target.keyTables);

    // globals: roles and tablespaces (which a database dump lacks), read beside the dump so they add no time after it.
    const globals = readGlobals(ctx, tools, pass.env);
    globals.catch(() => {});

    // dump: pg_dump (| zstd) into storage, read back by pg_restore as it is stored; the directory format into scratch.
    await ctx.step(`${database}: dumping`);
    const dumped = await dump(ctx, { database, name, settings, tools, env: pass.env, store, index, count: plan.databases.length }, snap);

    // verify: every data block was read to its end and decoded (not only the TOC); the stored size is all of it.
    await ctx.step(`${database}: verifying`);
    const toc = await verify(ctx, { database, storage, tools, zstd: settings.format === 'custom-zstd' }, dumped);
    // A verified folder goes from scratch into storage, file by file.
    const stored = dumped.kind === 'folder' ? await storeFolder(store, name, dumped.dir) : dumped.stored;

    // globals: stored beside the dump.
    await ctx.step(`${database}: saving roles and tablespaces`);
    const globalsStored = await store.put(`${name}.globals.sql`, await globals);

    // manifest: last; enough to understand and restore the backup without Lifeboat's catalog.
    const finished = new Date();
    const manifest = buildManifest({ target, database, name, settings, stored, serverVersion: plan.serverVersion, toolVersion: tools.version, started, finished, facts: snap, toc, globals: globalsStored });
    await store.put(`${name}.manifest.json`, manifestText(manifest));

    // record: succeeded; from here on the stored objects are the backup, no longer the job's to clean up.
    await recordSuccess(row, { size: stored.size, sha256: stored.sha256, finished, manifest, keyTableCounts: snap.keyTableCounts, globalsFile: `${name}.globals.sql` });
    store.keep();
    await ctx.log(`${database}: ${stored.size} bytes, sha256 ${stored.sha256}, ${toc.entries} TOC entries`);
    return { id: row.id, database, size: stored.size, file: name };
  } catch (err) {
    await recordFailure(ctx, row, err);
    throw err;
  } finally {
    await snap?.release();
    dropPass();
    await removePass();
  }
}
