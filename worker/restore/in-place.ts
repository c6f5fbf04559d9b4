// The runbook's in-place restore: production is dropped (after the hook, at the point of no return) only for a file
// that decodes to its last byte, and stays absent until the restored copy has passed its checks and takes its name.
// A failure past the drop says exactly what is where, and which backup to restore from.
import type pg from 'pg';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import { keptBackupWhere } from '../../lib/backups/kept';
import { allowConnections, blockAndTerminate, databaseExists, dropDatabase, renameDatabase } from './database-ops';
import { runHook, runPostHook, type HookOutcome } from './hooks';
import type { Plan } from './plan';
import { restate } from './restate';
import type { SideDatabase } from './restore-side';
import type { StepContext } from './stage';

/** What happened to production so far, for the outcome and for a failure's message. */
export interface InPlaceFacts {
  /** When production was dropped (null: not yet, or the copy has taken its name). */
  droppedAt: Date | null;
  prodExisted: boolean;
  downtimeStart: number | null;
  /** pg_restore finished: the side copy is whole (kept on a failure from then on). */
  restored: boolean;
}

export const inPlaceFacts = (): InPlaceFacts => ({ droppedAt: null, prodExisted: true, downtimeStart: null, restored: false });

/** Hook, the point of no return, then production goes away; the outage lasts until the checked copy takes its name. */
export async function takeProductionOffline(ctx: StepContext, c: pg.Client, plan: Plan, facts: InPlaceFacts): Promise<HookOutcome | null> {
  await ctx.step('running the pre-restore hook');
  const pre = await runHook(plan.dest.preRestoreHook, 'pre-restore', { target: plan.dest.name, database: plan.prod }, ctx.signal);
  await ctx.step('taking production offline (in-place restore)');
  // The point of no return: from here the job finishes restoring from this file, whatever it is asked.
  await ctx.commit();
  facts.downtimeStart = Date.now();
  facts.prodExisted = await databaseExists(c, plan.prod);
  if (facts.prodExisted) {
    try {
      await blockAndTerminate(c, plan.prod);
      await dropDatabase(c, plan.prod);
    } catch (err) {
      // Not dropped after all: it takes connections again, and the failure says so once read back.
      await allowConnections(c, plan.prod).catch(() => {});
      throw err;
    }
    await ctx.log(`production "${plan.prod}" dropped; it stays absent until the restored copy "${plan.workDb}" has passed its checks`, 'warn');
  }
  facts.droppedAt = new Date();
  return pre;
}

/** The copy takes production's name only once it is whole and checked. */
export async function openProduction(ctx: StepContext, c: pg.Client, plan: Plan, side: SideDatabase, facts: InPlaceFacts, checksOk: boolean, failed: number) {
  if (!checksOk) throw new UserError('CHECKS_FAILED', `${failed} check(s) failed on the restored copy, so it did not take production's name.`);
  await ctx.step('opening production');
  await renameDatabase(c, plan.workDb, plan.prod);
  side.keep();
  facts.droppedAt = null;
  const downtimeMs = Date.now() - facts.downtimeStart!;
  await ctx.log(`"${plan.prod}" is the restored, checked copy again (outage ${downtimeMs} ms)`);
  const post = await runPostHook(ctx, plan.dest.postRestoreHook, { target: plan.dest.name, database: plan.prod });
  return { database: plan.prod, keptCopy: null, downtimeMs, post };
}

/** The newest good backup of production's database to restore from, this one unless the file is to blame. */
async function lastGoodBackup(plan: Plan, err: unknown) {
  const fileToBlame = err instanceof UserError && /^(BACKUP_|RESTORE_FAILED|CHECKS_FAILED)/.test(err.code);
  return getDb().backupLog.findFirst({
    where: {
      targetId: plan.backup.targetId,
      databaseName: plan.prod,
      status: 'succeeded',
      ...keptBackupWhere,
      ...(fileToBlame ? { id: { not: plan.backup.id } } : {}),
    },
    orderBy: { createdAt: 'desc' },
    select: { id: true, createdAt: true },
  });
}

/**
 * A failure past the drop: a whole copy is kept (it did not take production's name), a partial one is dropped here
 * so the message can say so; then what production's name holds now, read back, and the backup to restore from.
 */
export async function explainInPlaceFailure(c: pg.Client, plan: Plan, side: SideDatabase | null, facts: InPlaceFacts, err: unknown): Promise<UserError> {
  let copy: string;
  if (facts.restored) copy = `The restored copy is whole and kept as "${plan.workDb}" (it did not take production's name); look at it, then rename it to "${plan.prod}" or drop it.`;
  else {
    const gone = side ? await side.dropNow() : true;
    copy = gone ? `The partly restored copy "${plan.workDb}" was dropped.` : `The partly restored copy "${plan.workDb}" is left on ${plan.dest.name}; drop it.`;
  }
  const droppedAt = facts.droppedAt!;
  const good = await lastGoodBackup(plan, err).catch(() => null);
  const exists = await databaseExists(c, plan.prod).catch(() => null);
  const state = !facts.prodExisted
    ? `Production "${plan.prod}" did not exist when this restore began${exists ? '; a database of that name exists now (not made by this restore).' : ' and does not exist now.'}`
    : exists
      ? `Production "${plan.prod}" was dropped at ${droppedAt.toISOString()}; a database of that name exists again (not made by this restore).`
      : `Production "${plan.prod}" does not exist now: this in-place restore dropped it at ${droppedAt.toISOString()}.`;
  const what = good
    ? `Restore "${plan.prod}" again from backup #${good.id} of ${good.createdAt.toISOString()}, the newest good backup of it${good.id === plan.backup.id ? '' : ' other than this one'} (restore then swap, or a new database).`
    : `No other good backup of "${plan.prod}" is left; restore again from backup #${plan.backup.id} once the cause above is fixed, or from the kept copy.`;
  return restate(err, `${state} ${copy}`, what);
}
