// Guided repair (the runbook's scenario 1) of one database. A check (the default) runs amcheck on every btree index
// and reports; nothing is rebuilt. A repair, chosen after a check that found damage (or forced by an admin), also runs
// REINDEX DATABASE and VACUUM (FULL, ANALYZE) through psql with live output, and amcheck again says whether the
// database is healthy now or a restore is the way out. Every lock wait is bounded by lock_timeout, so a repair stuck
// behind another session fails with REPAIR_LOCK_TIMEOUT instead of hanging. The steps live in worker/repair/.
import type pg from 'pg';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { targetConn } from '../../lib/targets/target-conn';
import { connect, toolEnv, type TargetConn } from '../pg/connect';
import { parseServerVersionNum, toolsFor } from '../pg/tools';
import { checkIndexes, dropAmcheck, prepareAmcheck, type Amcheck, type AmcheckReport } from '../repair/amcheck';
import { cancelOnAbort } from '../repair/cancel-on-abort';
import { reindexDatabase, vacuumDatabase } from '../repair/rebuild';
import { DATABASE_FACTS_SQL, sessionLimitsSql, type AmcheckFunction } from '../repair/repair-sql';


type Ctx = JobContext<JobPayload<'repair'>>;

interface DatabaseFacts {
  num: string;
  ver: string;
  pid: number;
  standby: boolean;
  su: boolean;
  owner: boolean;
  tables: string;
  indexes: string;
}

export async function repair(ctx: Ctx) {
  const started = Date.now();
  const { targetId, database, mode, lockTimeoutSeconds } = ctx.payload;
  const target = await getDb().target.findUnique({ where: { id: targetId } });
  if (!target) throw new UserError('NOT_FOUND', 'The target was deleted.');
  // The admin confirmed this database by name; a target changed since then is not repaired on a guess.
  if (target.database && target.database !== database) {
    throw new UserError('VALIDATION', `Target "${target.name}" now names the database "${target.database}", but the repair was confirmed for "${database}".`, 'Start the repair again from the target page; nothing was changed.');
  }
  const conn = targetConn(target, database);
  const report = { mode, target: target.name, database };

  // connect: to the database itself, since REINDEX DATABASE works only on the current one; a cancel reaches the server.
  await ctx.step('connecting');
  const c = await connect(conn);
  ctx.defer('closing the connection', () => c.end().catch(() => {}), { always: true });
  const info = await databaseFacts(c, lockTimeoutSeconds);
  const stopCancel = cancelOnAbort(ctx.signal, conn, info.pid);
  ctx.defer('stopping the cancel watch', stopCancel, { always: true });
  if (info.standby) {
    throw new UserError('REPAIR_FAILED', `"${database}" on ${target.name} is a standby (in recovery); REINDEX and VACUUM run only on the primary.`, 'Point the target at the primary and repair there; standbys follow through replication.');
  }

  if (mode === 'check') {
    // check: amcheck on every btree index of the user's schemas; nothing is rebuilt or rewritten.
    await ctx.log(`checking "${database}" on ${target.name} (PostgreSQL ${info.ver}) as ${conn.user}: amcheck only, nothing is rebuilt`);
    await ctx.step('checking indexes (amcheck)');
    const amcheck = await useAmcheck(ctx, c, 'bt_index_check', stopCancel);
    const before = amcheck ? await checkIndexes(ctx, c, amcheck, 'check', 0, 100) : null;
    const found = before ? before.corrupt.length > 0 : null;
    const healthy = !before ? null : found ? false : before.unchecked.length ? null : true;
    await ctx.log(checkVerdict(before), found ? 'error' : healthy === null ? 'warn' : 'info');
    return {
      ...report,
      serverVersion: info.ver,
      amcheck: amcheck?.fn ?? null,
      before,
      reindex: null,
      vacuum: null,
      after: null,
      healthy,
      corruptionFound: found,
      checkStillFails: false,
      corruptIndexes: before?.corrupt.map((x) => x.index) ?? [],
      restoreWizard: null,
      durationMs: Date.now() - started,
    };
  }

  // rights: PostgreSQL lets only the owner or a superuser REINDEX DATABASE; psql and the passfile for the rebuild.
  if (!info.su && !info.owner) {
    throw new UserError('REPAIR_FAILED', `User "${conn.user}" neither owns "${database}" nor is a superuser, so PostgreSQL would refuse REINDEX DATABASE.`, "Repair with a target whose user owns the database (or is a superuser); nothing was changed.");
  }
  const psql = await psqlFor(ctx, conn, info);
  await ctx.log(
    `repairing "${database}" on ${target.name} (PostgreSQL ${info.ver}) as ${conn.user}; psql ${psql.version}; ` +
      (ctx.payload.force ? 'forced by an admin without a check that found damage' : `after check ${ctx.payload.checkJobId} found damage`) +
      `; each lock is waited for at most ${lockTimeoutSeconds} s`,
    ctx.payload.force ? 'warn' : 'info',
  );

  // check: amcheck on every btree index of the user's schemas, before anything is rebuilt.
  await ctx.step('checking indexes (amcheck)');
  const amcheck = await useAmcheck(ctx, c, 'bt_index_parent_check', stopCancel);
  const before = amcheck ? await checkIndexes(ctx, c, amcheck, 'before the repair', 0, 20) : null;

  // reindex: every index rebuilt from its table; vacuum: every table rewritten and analyzed.
  const reindex = await reindexDatabase(ctx, psql, Number(info.indexes));
  const vacuum = await vacuumDatabase(ctx, psql, Number(info.tables), reindex);

  // check again: did the rebuild cure what amcheck found?
  await ctx.step('checking indexes again (amcheck)');
  const after = amcheck ? await checkIndexes(ctx, c, amcheck, 'after the repair', 80, 100) : null;
  const checkStillFails = !!after && after.corrupt.length > 0;
  const healthy = checkStillFails || !reindex.ok || !vacuum.ok ? false : after ? true : null;
  await ctx.log(
    healthy === true
      ? 'healthy: amcheck finds no corrupt index after the repair'
      : healthy === null
        ? 'repair finished; amcheck was not available, so the indexes could not be checked'
        : `still damaged: ${checkStillFails ? `amcheck still fails on ${after!.corrupt.map((x) => x.index).join(', ')}` : 'a repair step failed'}. Restore the last good backup with the restore wizard.`,
    healthy === false ? 'error' : 'info',
  );
  return {
    ...report,
    serverVersion: info.ver,
    amcheck: amcheck?.fn ?? null,
    before,
    reindex,
    vacuum,
    after,
    healthy,
    corruptionFound: before ? before.corrupt.length > 0 : null,
    checkStillFails,
    corruptIndexes: after?.corrupt.map((x) => x.index) ?? [],
    restoreWizard: healthy === false ? `/restore?targetId=${target.id}` : null,
    durationMs: Date.now() - started,
  };
}

/** Session limits set, then what the repair needs to know: version, pid, standby, rights, how much there is. */
async function databaseFacts(c: pg.Client, lockTimeoutSeconds: number): Promise<DatabaseFacts> {
  await c.query(sessionLimitsSql(lockTimeoutSeconds));
  return (await c.query<DatabaseFacts>(DATABASE_FACTS_SQL)).rows[0]!;
}

/** amcheck ready to use; one installed for this job is removed at its end, after a pending cancel has landed. */
async function useAmcheck(ctx: Ctx, c: pg.Client, prefer: AmcheckFunction, stopCancel: () => Promise<void>): Promise<Amcheck | null> {
  const am = await prepareAmcheck(ctx, c, prefer);
  if (am?.installedByUs) {
    ctx.defer(
      'removing amcheck again',
      async () => {
        await stopCancel();
        await dropAmcheck(ctx, c);
      },
      { always: true },
    );
  }
  return am;
}

/** psql of the server's major version, and the libpq environment with the passfile (removed when the job ends). */
async function psqlFor(ctx: Ctx, conn: TargetConn, info: DatabaseFacts) {
  const tools = await toolsFor(parseServerVersionNum(info.num).major, info.ver);
  const pass = await toolEnv(conn, { dir: await ctx.scratch() });
  ctx.defer('removing the passfile', () => pass.cleanup(), { always: true });
  if (pass.dir) await ctx.trackPartial(pass.dir); // and the crash sweep removes it if the worker dies
  return { path: tools.path('psql'), env: pass.env, version: tools.version };
}

function checkVerdict(before: AmcheckReport | null): string {
  if (!before) return 'amcheck is not available here, so nothing could be checked; nothing was rebuilt';
  if (before.corrupt.length) {
    return `corruption found: ${before.corrupt.length} corrupt index(es) (${before.corrupt.map((x) => x.index).join(', ')}); nothing was rebuilt. The next step is a repair (REINDEX, VACUUM FULL ANALYZE), which locks tables.`;
  }
  if (before.unchecked.length) return `no corruption found among the ${before.checked} index(es) checked, but ${before.unchecked.length} could not be checked (see above); nothing was rebuilt`;
  return `no corruption found: amcheck checked ${before.checked} index(es); nothing was rebuilt`;
}
