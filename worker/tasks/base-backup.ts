// The physical base backup, as a list of named steps (worker/base/*): plan, pg_basebackup into scratch, store each
// file under <target>/_base/<label>/, read everything back and check it against PostgreSQL's own backup_manifest,
// then Lifeboat's manifest last, and the backup_log row with its WAL range. What a step leaves behind on failure
// is on the job's cleanup stack (the stored objects, the passfile), not in flags.
import { applyRetention } from '../../lib/backups/apply-retention';
import { getDb } from '../../lib/db';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload, JobResult } from '../../lib/jobs/kinds';
import { safeName, targetConn } from '../../lib/targets/target-conn';
import { toolEnv } from '../pg/connect';
import { storedSet } from '../backup/stored';
import { buildBaseManifest, baseManifestText } from '../base/manifest';
import { parseBackupLabel } from '../base/pg-manifest';
import { planBaseBackup } from '../base/plan';
import { openBaseRow, recordBaseSuccess, recordFailure, recordVerification } from '../base/record';
import { storeBaseBackup } from '../base/store';
import { takeBaseBackup } from '../base/take';
import { requireVerified, verifyBaseBackup } from '../base/verify';

export async function baseBackup(ctx: JobContext<JobPayload<'base-backup'>>): Promise<JobResult<'base-backup'>> {
  // plan: target, storage, server facts (WAL settings, REPLICATION, segment size), pg_basebackup, compression.
  const plan = await planBaseBackup(ctx);
  const { target, storage, tools } = plan;
  const started = new Date();
  // Milliseconds and the job id: two backups never share a name (docs/repository.md, "Base backups").
  const label = `${started.toISOString().replace(/[-:]/g, '').replace('.', '')}-base-${ctx.jobId.slice(0, 8)}`;
  const folder = `${safeName(target.name)}/_base/${label}`;
  const store = storedSet(ctx, storage);

  // record: a running row from the start, so the history shows this attempt whatever happens next.
  // A scheduled run: the schedule whose retention applies (gone if it was deleted since the job was queued).
  // Only this target's base schedule: a payload naming another one does not bring its retention here.
  const schedule = ctx.payload.scheduleId ? await getDb().schedule.findFirst({ where: { id: ctx.payload.scheduleId, targetId: target.id, kind: 'base' }, select: { id: true } }) : null;
  const row = await openBaseRow(ctx, { scheduleId: schedule?.id ?? null, targetId: target.id, folder, settings: plan.settings, storageId: target.storageId, location: storage.describe(), serverVersion: plan.serverVersion, toolVersion: tools.version, started });

  // The passfile lives in the job's scratch folder (removed with it, and by the crash sweep).
  const pass = await toolEnv(targetConn(target, target.database ?? 'postgres'), { dir: await ctx.scratch() });
  const dropPass = ctx.defer('remove the passfile', () => pass.cleanup(), { always: true });
  try {
    // take: pg_basebackup into scratch, with live progress; cancel stops it.
    await ctx.step('taking the base backup');
    const taken = await takeBaseBackup(ctx, plan, { label, env: pass.env, share: 60 });
    dropPass();
    await pass.cleanup();

    // store: each tar and backup_manifest into storage, PostgreSQL's names kept.
    await ctx.step('storing');
    const stored = await storeBaseBackup(ctx, store, folder, taken.dir, taken.files, { from: 60, to: 80 });

    // verify: every stored file read back and checked against backup_manifest; a damaged one fails the job by name.
    await ctx.step('verifying against backup_manifest');
    const { verification, manifest: pgManifest, backupLabel } = await verifyBaseBackup({
      storage,
      folder,
      walSegmentSize: plan.walSegmentSize,
      signal: ctx.signal,
      onBytes: (n) => void ctx.progress(80 + Math.min(19, (19 * n) / Math.max(1, stored.size * 3)), `verifying: ${(n / 1e6).toFixed(1)} MB read back`).catch(() => {}),
    });
    await recordVerification(row, verification);
    requireVerified(verification);
    await ctx.log(`verified: ${verification.filesMatched} of ${verification.filesInManifest} files of backup_manifest matched (${verification.method}); WAL segments ${verification.walSegments.join(', ')}`);

    // facts: the WAL range from backup_manifest (the record), the start time from backup_label.
    const range = pgManifest!.walRanges;
    const labelFacts = backupLabel ? parseBackupLabel(backupLabel) : null;
    const facts = {
      startLsn: range[0]!.startLsn,
      stopLsn: range[range.length - 1]!.endLsn,
      timeline: range[range.length - 1]!.timeline,
      backupStartedAt: labelFacts?.startTime ?? started,
      backupStoppedAt: taken.stoppedAt,
    };

    // manifest: last; with it the backup is complete.
    const finished = new Date();
    const manifest = buildBaseManifest({ target: { name: target.name, host: target.host, port: target.port }, label, settings: plan.settings, stored, facts, systemIdentifier: plan.systemIdentifier, serverVersion: plan.serverVersion, toolVersion: tools.version, started, finished, verification });
    await store.put(`${folder}.manifest.json`, baseManifestText(manifest));

    // record: succeeded; from here on the stored objects are the backup, no longer the job's to clean up.
    await recordBaseSuccess(row, { ...facts, size: stored.size, sha256: stored.sha256, finished, manifest, verification });
    store.keep();
    await ctx.log(`base backup ${label}: ${stored.size} bytes in ${stored.files.length} files, WAL ${facts.startLsn} to ${facts.stopLsn} on timeline ${facts.timeline}`);
    // retention: the schedule's weeks; the newest good base backup stays, and WAL no kept one needs is freed.
    if (schedule) {
      await ctx.step('applying retention');
      // The backup is done and recorded: a retention failure is logged (the hourly run tries again), never the job's.
      await applyRetention(schedule.id, { log: (l) => ctx.log(l) }).then(
        (removed) => (removed.length ? ctx.log(`retention removed ${removed.length} base backup(s)`) : undefined),
        (err: Error) => ctx.log(`retention: ${err.message}`, 'warn'),
      );
    }
    return { backupId: String(row.id), folder, files: stored.files, size: stored.size, startLsn: facts.startLsn, stopLsn: facts.stopLsn, timeline: facts.timeline, verification };
  } catch (err) {
    await recordFailure(ctx, row, err);
    throw err;
  }
}
