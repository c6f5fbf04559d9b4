// Guided repair: the two rebuilding steps, REINDEX DATABASE and VACUUM (FULL, ANALYZE), each through psql with
// progress from its VERBOSE lines; a lock wait past lock_timeout ends the repair with REPAIR_LOCK_TIMEOUT.
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { quoteIdent } from '../pg/sql';
import { reindexSql, VACUUM_SQL } from './repair-sql';
import { runMaintenance } from './run-maintenance';

export interface StepOutcome {
  ok: boolean;
  /** Objects the server reported as done: indexes for REINDEX, tables for VACUUM. */
  done: number;
  error: string | null;
}

type Ctx = JobContext<JobPayload<'repair'>>;
interface Psql {
  path: string;
  env: Record<string, string>;
}

/** Every index of the database rebuilt from its table (ShareLock on each table, so writes wait); progress 20 to 50 %. */
export async function reindexDatabase(ctx: Ctx, psql: Psql, indexes: number): Promise<StepOutcome> {
  const { database, lockTimeoutSeconds } = ctx.payload;
  await ctx.step(`REINDEX DATABASE ${quoteIdent(database)}`);
  const total = Math.max(1, indexes);
  const out: StepOutcome = { ok: false, done: 0, error: null };
  let current = '';
  const r = await runMaintenance(ctx, psql.path, psql.env, reindexSql(database), (l) => {
    if (l.kind === 'index-reindexed') out.done++;
    if (l.kind === 'table-reindexed') current = l.object;
    if (l.kind === 'index-reindexed' || l.kind === 'table-reindexed') {
      void ctx.progress(20 + Math.min(1, out.done / total) * 30, `${out.done} of about ${total} indexes${current ? ` · ${current}` : ''}`).catch(() => {});
    }
  });
  if (r.lockTimeout) {
    throw new UserError(
      'REPAIR_LOCK_TIMEOUT',
      `REINDEX waited more than ${lockTimeoutSeconds} s for a table lock in "${database}" (another session holds one) and stopped after ${out.done} index(es); VACUUM FULL did not run.`,
      `The ${out.done} index(es) rebuilt so far stay rebuilt. Find the session holding the lock in pg_stat_activity and pg_locks, let it finish or end it, then repair again.`,
    );
  }
  out.ok = r.ok;
  out.error = r.error;
  await ctx.log(out.ok ? `REINDEX done: ${out.done} index(es) rebuilt` : `REINDEX failed after ${out.done} index(es): ${out.error}`, out.ok ? 'info' : 'error');
  return out;
}

/** Every table rewritten and analyzed (ACCESS EXCLUSIVE on each table while it is rewritten); progress 50 to 80 %. */
export async function vacuumDatabase(ctx: Ctx, psql: Psql, tables: number, reindex: StepOutcome): Promise<StepOutcome> {
  const { database, lockTimeoutSeconds } = ctx.payload;
  await ctx.step('VACUUM (FULL, ANALYZE)');
  const total = Math.max(1, tables);
  const out: StepOutcome = { ok: false, done: 0, error: null };
  const r = await runMaintenance(ctx, psql.path, psql.env, VACUUM_SQL, (l) => {
    if (l.kind !== 'vacuuming') return;
    out.done++;
    void ctx.progress(50 + Math.min(1, out.done / total) * 30, `${out.done} of about ${total} tables · ${l.object}`).catch(() => {});
  });
  if (r.lockTimeout) {
    throw new UserError(
      'REPAIR_LOCK_TIMEOUT',
      `VACUUM FULL waited more than ${lockTimeoutSeconds} s for a table lock in "${database}" (another session holds one) and stopped at table ${out.done} of about ${total}.`,
      `REINDEX had ${reindex.ok ? 'finished' : 'failed'}; the tables rewritten so far stay rewritten. Find the session holding the lock in pg_stat_activity and pg_locks, let it finish or end it, then repair again.`,
    );
  }
  out.ok = r.ok;
  out.error = r.error;
  await ctx.log(out.ok ? `VACUUM done: ${out.done} table(s) rewritten and analyzed` : `VACUUM failed at table ${out.done} of about ${total}: ${out.error}`, out.ok ? 'info' : 'error');
  return out;
}
