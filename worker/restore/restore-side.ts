// Step "restore into the side database": a fresh database (dropped again by the cleanup stack unless the task keeps
// it), the picked tables' schemas, pg_restore in parallel from the staged archive with progress from its --verbose
// lines, then the archive's own statements that --table leaves out.
import type pg from 'pg';
import { targetConn } from '../../lib/targets/target-conn';
import { connect } from '../pg/connect';
import { parseRestoreLine, restoreInto, splitTable } from '../pg/pg-restore';
import { lineLogger } from '../pg/run-tool';
import { quoteIdent } from '../pg/sql';
import { createDatabase, dropDatabase } from './database-ops';
import type { Plan, RestorePayload } from './plan';
import type { StepContext } from './stage';

export interface SideDatabase {
  /** From now on the side database is the task's result (or production): the cleanup stack leaves it. */
  keep(): void;
  /** Drops it now (and takes it off the cleanup stack); true when it is gone. */
  dropNow(): Promise<boolean>;
}

/** CREATE DATABASE, with its DROP on the cleanup stack. */
export async function createSide(ctx: StepContext, c: pg.Client, plan: Plan): Promise<SideDatabase> {
  await createDatabase(c, plan.workDb);
  const release = ctx.defer(`drop the side database "${plan.workDb}"`, () => dropDatabase(c, plan.workDb));
  return {
    keep: release,
    dropNow: async () => {
      release();
      return dropDatabase(c, plan.workDb).then(() => true, () => false);
    },
  };
}

/**
 * pg_restore into the side database. `signal` is the job's until an in-place restore has dropped production, then
 * one nobody aborts: from there the restore finishes from this file whatever is asked.
 */
export async function restoreSide(ctx: StepContext, plan: Plan, p: RestorePayload, archive: string, env: Record<string, string>, signal: AbortSignal): Promise<number> {
  const tables = plan.picked.length ? [...plan.picked, ...plan.extras.partitions, ...plan.extras.sequences] : [];
  if (tables.length) await runIn(plan, [...new Set(tables.map((t) => splitTable(t).schema))].map((s) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)}`));
  const started = Date.now();
  const total = Math.max(1, plan.toc.entries.length);
  let done = 0;
  let current = '';
  const logger = lineLogger(ctx.log, { tool: 'pg_restore', max: 5000 });
  const tick = setInterval(() => {
    void ctx.progress(Math.min(99, (done / total) * 100), `${done} of ${total} items${current ? ` · ${current}` : ''}`).catch(() => {});
  }, 1000);
  try {
    await restoreInto(plan.tools.path('pg_restore'), archive, plan.workDb, { jobs: p.jobs, schemas: p.schemas, tables, section: p.section, withoutOwners: p.withoutOwners }, {
      signal,
      env,
      onLine: (line) => {
        const r = parseRestoreLine(line);
        if (r.done) done++;
        if (r.object) current = r.object;
        logger.onLine(line);
      },
    });
  } finally {
    clearInterval(tick);
    await logger.flush();
  }
  // pg_restore --table leaves out what ties a picked table to its sequences and partitions: the archive's own words.
  if (plan.extras.statements.length && p.section !== 'data') await runIn(plan, plan.extras.statements);
  return Date.now() - started;
}

/** Statements run in the side database, in order. */
async function runIn(plan: Plan, statements: string[]) {
  const client = await connect(targetConn(plan.dest, plan.workDb));
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end().catch(() => {});
  }
}
