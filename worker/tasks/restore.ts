// Restores that prove themselves: plan (file, checksum, tools, roles, destination), stage the archive in scratch,
// restore into a new or side database, check it against what the backup recorded, then for production a swap with
// a measured outage (or the runbook's in-place method), and for drills a timed scratch restore that is dropped.
// What a step must undo on failure is on the job's cleanup stack; the point of no return is ctx.commit().
import type pg from 'pg';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { targetConn } from '../../lib/targets/target-conn';
import { toolEnv } from '../pg/connect';
import { decodeArchive } from '../pg/pg-restore';
import { runChecks, type Check } from '../restore/checks';
import { applyDatabaseProperties, describeProperties, NOT_RECORDED } from '../restore/database-properties';
import { dropDatabase } from '../restore/database-ops';
import { unstoppable, type HookOutcome } from '../restore/hooks';
import { explainInPlaceFailure, inPlaceFacts, openProduction, takeProductionOffline } from '../restore/in-place';
import { maintenanceConnection, planRestore, refuseProblems, targetFor, type Plan, type RestorePayload } from '../restore/plan';
import { createSide, restoreSide, type SideDatabase } from '../restore/restore-side';
import { createRoles } from '../restore/roles';
import { stageArchive, type Staged, type StepContext } from '../restore/stage';
import { explainReplaceFailure, swapProduction } from '../restore/swap';

export type { Check } from '../restore/checks';
export { sideName } from '../restore/plan';

export interface RestoreResult {
  mode: Plan['mode'];
  method: Plan['method'];
  target: string;
  database: string;
  backupId: string;
  restoreMs: number;
  checks: Check[];
  checksOk: boolean;
  checksRan: number;
  checksNotRun: string[];
  databaseProperties?: { applied: true; skipped: string[] } | { applied: false; reason: string };
  keptCopy?: string | null;
  keptCopySize?: number | null;
  downtimeMs?: number;
  connectionsEnded?: number;
  hooks?: { pre?: HookOutcome; post?: HookOutcome };
  durationMs?: number;
}

export async function restorePreflight(ctx: JobContext<RestorePayload>) {
  const plan = await planRestore(ctx, ctx.payload, maintenanceConnection(ctx, await targetFor(ctx.payload)));
  // In place drops production: its preflight reads the whole file too, as the restore will before the drop.
  if (ctx.payload.destination.mode === 'replace' && ctx.payload.destination.method === 'in-place' && !plan.problems.length) {
    await decodeWhole(ctx, plan, plan.input);
    plan.report.file.decodedToTheEnd = true;
  }
  return plan.report;
}

export async function restore(ctx: JobContext<RestorePayload>) {
  return runRestore(ctx, ctx.payload);
}

/** The whole restore; the restore job's, and a drill's (which passes its own context and a drill payload). */
export async function runRestore(ctx: StepContext, p: RestorePayload): Promise<RestoreResult> {
  const started = Date.now();
  const admin = maintenanceConnection(ctx, await targetFor(p));
  const inPlace = p.destination.mode === 'replace' && p.destination.method === 'in-place';

  // plan: everything checkable before a database is touched; the first problem refuses the restore.
  const plan = await planRestore(ctx, p, admin, inPlace ? 'now' : 'later');
  refuseProblems(plan);
  const c = await admin();
  // The passfile lives in the job's scratch folder: removed when the job ends, and by the crash sweep.
  const pass = await toolEnv(targetConn(plan.dest, 'postgres'), { dir: await ctx.scratch() });
  ctx.defer('remove the passfile', pass.cleanup, { always: true });

  const inPlaceState = inPlaceFacts();
  const swapState = { prodMoved: false };
  let side: SideDatabase | null = null;
  try {
    // stage: a seekable, checked copy of the archive in scratch (pg_restore --jobs needs to seek).
    const staged = await stage(ctx, plan);

    // in place: production is dropped only for a file that decodes to its last byte.
    if (inPlace) await decodeWhole(ctx, plan, { file: staged.file });

    // roles: only the missing owners, and only as an admin allowed (built statements, never lines of the globals).
    if (plan.roles.length) {
      await ctx.step('creating missing roles');
      await createRoles(plan.tools.path('psql'), plan.globals, plan.roles, { env: pass.env, signal: ctx.signal });
      for (const x of plan.roles) await ctx.log(`role created: ${x.name} ${x.attributes.join(' ')}${x.password ? ' with its saved password' : ' without a password'}`);
    }

    // in place: hook, point of no return, production dropped; from here a cancel no longer stops the restore.
    const pre = inPlace ? await takeProductionOffline(ctx, c, plan, inPlaceState) : null;
    const signal = inPlace ? unstoppable : ctx.signal;

    // restore: into a fresh database (dropped on failure), in parallel, stopping at the first error.
    await ctx.step(`restoring into "${plan.workDb}"`);
    side = await createSide(ctx, c, plan);
    const restoreMs = await restoreSide(ctx, plan, p, staged.file, pass.env, signal);
    inPlaceState.restored = true;
    if (inPlace) side.keep(); // past the drop a whole copy is kept whatever follows: it may be all there is

    // checks: row counts recorded at backup time, and the target's own check statements.
    await ctx.step('running integrity checks');
    const { checks, notRun } = p.runChecks ? await runChecks(ctx, plan, p) : { checks: [], notRun: ['checks were turned off for this restore'] };
    const checksOk = checks.every((x) => x.ok);
    const failed = checks.filter((x) => !x.ok).length;
    for (const x of checks) await ctx.log(`check ${x.ok ? 'ok    ' : 'FAILED'} ${x.name}: expected ${x.expected ?? '—'}, got ${x.actual ?? '—'}`, x.ok ? 'info' : 'error');
    const result: RestoreResult = { mode: plan.mode, method: plan.method, target: plan.dest.name, database: plan.workDb, backupId: String(plan.backup.id), restoreMs, checks, checksOk, checksRan: checks.length, checksNotRun: notRun };

    // properties: owner, privileges, settings, comment, connection limit, before the copy takes its final name.
    if (plan.mode !== 'drill' && (checksOk || plan.mode === 'new')) result.databaseProperties = await applyProperties(ctx, c, plan);

    if (plan.mode === 'drill') {
      // drill: the scratch copy has served its purpose; the drill task records the checks and fails when one is red.
      await ctx.step('dropping the scratch database');
      await dropDatabase(c, plan.workDb);
      side.keep();
    } else if (plan.mode === 'replace' && plan.method === 'swap') {
      // swap: only a checked copy replaces production.
      if (!checksOk) throw new UserError('CHECKS_FAILED', `${failed} check(s) failed on the restored copy.`);
      const { hooks, ...swapped } = await swapProduction(ctx, c, plan, side, swapState);
      Object.assign(result, swapped, hooks.pre || hooks.post ? { hooks } : {});
    } else if (plan.mode === 'replace') {
      // in place: the checked copy takes production's name.
      const { post, ...opened } = await openProduction(ctx, c, plan, side, inPlaceState, checksOk, failed);
      Object.assign(result, opened, pre || post ? { hooks: { ...(pre ? { pre } : {}), ...(post ? { post } : {}) } } : {});
    } else {
      side.keep(); // a new database is the result, kept even when a check failed (the result page shows it red)
    }
    result.durationMs = Date.now() - started;
    return result;
  } catch (err) {
    // Past an in-place drop, say exactly what is where; before it (or in a swap), what production is, read back.
    if (inPlaceState.droppedAt) throw await explainInPlaceFailure(c, plan, side, inPlaceState, err);
    if (plan.mode === 'replace') throw await explainReplaceFailure(c, plan, swapState, err);
    throw err;
  }
}

/** stage: a .zst is decompressed (its checksum taken meanwhile), any other archive copied and hashed, into scratch. */
async function stage(ctx: StepContext, plan: Plan): Promise<Staged> {
  if (plan.staged) return plan.staged;
  await ctx.step(plan.backup.format === 'custom-zstd' ? 'decompressing the archive' : 'copying the archive to the scratch folder');
  const staged = await stageArchive(ctx, plan.storage, plan.backup);
  await ctx.log(`file ${plan.backup.backupFile}: ${staged.size} bytes, ${plan.backup.checksumSha256 ? 'SHA-256 matches the catalog' : `SHA-256 ${staged.sha256} (the catalog records none to compare)`} (hashed while staging)`);
  return staged;
}

/** Reads every block of the archive before production is dropped (a file cut short still lists its contents). */
async function decodeWhole(ctx: StepContext, plan: Plan, input: Parameters<typeof decodeArchive>[0]) {
  await ctx.step('reading every block of the archive');
  await decodeArchive(input, plan.tools.path('pg_restore'), ctx.signal);
  await ctx.log('archive read to its end: every block decodes');
}

async function applyProperties(ctx: StepContext, c: pg.Client, plan: Plan): Promise<RestoreResult['databaseProperties']> {
  if (!plan.properties) {
    await ctx.log(`${NOT_RECORDED}: the restored database has the server's defaults (owner, privileges, settings)`, 'warn');
    return { applied: false, reason: NOT_RECORDED };
  }
  await ctx.step('applying the database properties');
  const applied = await applyDatabaseProperties(c, plan.workDb, plan.properties);
  await ctx.log(`database properties applied (${describeProperties(plan.properties)})${applied.skipped.length ? `; skipped: ${applied.skipped.join(', ')}` : ''}`);
  return { applied: true, skipped: applied.skipped };
}
