// Step "swap production": the checked side copy takes production's name and production is kept under
// "<name>_before_restore_<stamp>" (a rollback swaps them back). Only the part between the renames is an outage.
import type pg from 'pg';
import { UserError } from '../../lib/errors';
import { allowConnections, blockAndTerminate, databaseExists, fitName, renameDatabase, stamp } from './database-ops';
import { runHook, runPostHook, type HookOutcome } from './hooks';
import type { Plan } from './plan';
import { restate } from './restate';
import type { SideDatabase } from './restore-side';
import type { StepContext } from './stage';

export interface SwapOutcome {
  database: string;
  keptCopy: string | null;
  keptCopySize: number | null;
  downtimeMs: number;
  connectionsEnded: number;
  hooks: { pre?: HookOutcome; post?: HookOutcome };
}

/** What a failed replace can say of production: whether the swap had renamed it aside (and so back). */
export interface SwapFacts {
  prodMoved: boolean;
}

export async function swapProduction(ctx: StepContext, c: pg.Client, plan: Plan, side: SideDatabase, facts: SwapFacts): Promise<SwapOutcome> {
  const hooks: SwapOutcome['hooks'] = {};
  const info = { target: plan.dest.name, database: plan.prod };
  // hook, block and end production's connections, two renames, hook.
  await ctx.step('running the pre-restore hook');
  const pre = await runHook(plan.dest.preRestoreHook, 'pre-restore', info, ctx.signal);
  if (pre) hooks.pre = pre;
  await ctx.step('swapping production');
  const kept = fitName(plan.prod, `_before_restore_${stamp()}`);
  const prodExists = await databaseExists(c, plan.prod);
  const keptCopySize = prodExists ? Number((await c.query<{ n: string }>('SELECT pg_database_size($1) AS n', [plan.prod])).rows[0]!.n) : null;
  // The swap is the point of no return: from here a cancel is refused (a cancel asked before it wins, and
  // production is still untouched), and the job ends succeeded whatever is asked of it (see lifecycle).
  await ctx.commit();
  // The outage starts here: production stops taking connections.
  const downtimeStart = Date.now();
  const terminated = prodExists ? await blockAndTerminate(c, plan.prod) : 0;
  if (prodExists) await renameDatabase(c, plan.prod, kept);
  facts.prodMoved = prodExists;
  try {
    await renameDatabase(c, plan.workDb, plan.prod);
  } catch (err) {
    // Put production back under its name before reporting (one step: the two renames stand or fall together).
    if (prodExists) await renameDatabase(c, kept, plan.prod).then(() => allowConnections(c, plan.prod)).catch(() => {});
    throw err;
  }
  side.keep();
  const downtimeMs = Date.now() - downtimeStart;
  // The kept copy may be opened (to look at or copy data from); production's name now points at the restored one.
  if (prodExists) await allowConnections(c, kept).catch(() => {});
  await ctx.log(
    prodExists
      ? `swapped: "${plan.prod}" is the restored copy; the previous database is kept as "${kept}" (${terminated} connection(s) ended, outage ${downtimeMs} ms)`
      : `"${plan.prod}" did not exist on ${plan.dest.name}: the restored copy took its name; there is no previous database to keep`,
  );
  const post = await runPostHook(ctx, plan.dest.postRestoreHook, info);
  if (post) hooks.post = post;
  return { database: plan.prod, keptCopy: prodExists ? kept : null, keptCopySize, downtimeMs, connectionsEnded: terminated, hooks };
}

/** A replace that failed before production was dropped: said only after reading production back. */
export async function explainReplaceFailure(c: pg.Client, plan: Plan, facts: SwapFacts, err: unknown): Promise<unknown> {
  if (err instanceof UserError && err.code === 'JOB_CANCELLED') return err;
  const there = await databaseExists(c, plan.prod).catch(() => null);
  if (!there) return err;
  return restate(err, facts.prodMoved ? `Production "${plan.prod}" was renamed for the swap and renamed back (checked: it is there).` : `Production "${plan.prod}" was not dropped or renamed (checked: it is still there).`);
}
