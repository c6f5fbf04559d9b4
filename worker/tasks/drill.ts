// A restore drill (the runbook's monthly verify-backup.sh): the latest good backup restored into a scratch
// database, checked, timed and dropped; the result is the RTO evidence.
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { restorePayload } from '../../lib/jobs/kinds';
import { runRestore } from './restore';
import { keptBackupWhere } from '../../lib/backups/kept';

export async function drill(ctx: JobContext<JobPayload<'drill'>>) {
  const db = getDb();

  // pick: the newest succeeded backup of the target's own database that still has its file; an upload counts only
  // when it is of that database (an upload of another database is no evidence for this one).
  await ctx.step('picking the latest good backup');
  const target = await db.target.findUnique({ where: { id: ctx.payload.targetId }, select: { database: true } });
  const backup = await db.backupLog.findFirst({
    where: {
      targetId: ctx.payload.targetId,
      status: 'succeeded',
      ...keptBackupWhere,
      OR: [{ backupType: 'logical', ...(target?.database ? { databaseName: target.database } : {}) }, ...(target?.database ? [{ backupType: 'uploaded', databaseName: target.database }] : [])],
    },
    orderBy: { createdAt: 'desc' },
  });
  const row = await db.drill.create({ data: { targetId: ctx.payload.targetId, backupId: backup?.id ?? null, jobId: ctx.jobId } });
  try {
    if (!backup) throw new UserError('BACKUP_UNUSABLE', `This target has no succeeded backup of ${target?.database ? `"${target.database}"` : 'its databases'} to drill with.`, 'Run a backup first.');
    await ctx.log(`drilling with backup #${backup.id} of ${backup.createdAt.toISOString()}`);

    // restore, check, drop: the same path as a real restore, into a scratch database.
    const payload = restorePayload.parse({ backupId: String(backup.id), destination: { mode: 'drill' } });
    const result = await runRestore(ctx, payload);
    const checks = result.checks;
    const ok = checks.every((c) => c.ok);
    await db.drill.update({
      where: { id: row.id },
      data: { status: ok ? 'succeeded' : 'failed', finishedAt: new Date(), restoreMs: result.restoreMs, checks: checks as object, ...(ok ? {} : { errorCode: 'CHECKS_FAILED', error: `${checks.filter((c) => !c.ok).length} check(s) failed` }) },
    });
    if (!ok) throw new UserError('CHECKS_FAILED', `${checks.filter((c) => !c.ok).length} check(s) failed on the drill's restored copy.`);
    return { ...result, drillId: row.id };
  } catch (err) {
    const e = err instanceof UserError ? err : null;
    await db.drill.updateMany({
      where: { id: row.id, status: 'running' },
      data: { status: 'failed', finishedAt: new Date(), errorCode: e?.code ?? 'INTERNAL', error: (err as Error).message },
    });
    throw err;
  }
}
