// Recovering deleted rows, re-insert: the rows a comparison found missing go back into production in one transaction
// (parents first, sequences caught up), then the scratch copy and the comparison's exports are dropped.
import type pg from 'pg';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { dropDatabase } from '../restore/database-ops';
import { catchUpSequences, type SequenceMove } from '../recover/catalog';
import { insertSql } from '../recover/compare-rows';
import { removeExports } from '../recover/exports';
import { missingRows, openComparison, planTables, type OpenComparison } from '../recover/open-comparison';

type Ctx = JobContext<JobPayload<'recover-reinsert'>>;
type Planned = Awaited<ReturnType<typeof planTables>>['tables'];

export async function recoverReinsert(ctx: Ctx) {
  // plan: the comparison still usable, its tables' shapes unchanged, parents before children.
  await ctx.step('checking the comparison and its scratch copy');
  const o = await openComparison(ctx);
  const { tables, cyclic } = await planTables(o);
  await ctx.log(`order (parents first): ${tables.map((x) => x.t.table).join(', ')}`);
  if (cyclic.length) await ctx.log(`foreign keys form a cycle among ${cyclic.join(', ')}; the insert relies on deferrable constraints there`, 'warn');

  // insert: every table in one transaction, parents first, sequences caught up; any refusal rolls all of it back.
  const { inserted, sequences } = await insertAll(ctx, o, tables);

  // scratch: its job is done.
  await ctx.step(`dropping the scratch copy "${o.result.scratchDatabase}"`);
  await o.scratch.end().catch(() => {});
  const dropped = await dropDatabase(o.admin, o.result.scratchDatabase).then(
    () => true,
    async (err) => {
      await ctx.log(`the rows are in, but the scratch copy could not be dropped: ${(err as Error).message}`, 'warn');
      return false;
    },
  );
  await removeExports(ctx.payload.compareJobId, o.backupId);
  return { database: o.result.database, target: o.result.target, order: tables.map((x) => x.t.table), tables: inserted, sequences, scratchDatabase: o.result.scratchDatabase, scratchDropped: dropped };
}

/** The one transaction: rows of each table in order, then the sequences they own; committed or rolled back whole. */
async function insertAll(ctx: Ctx, o: OpenComparison, tables: Planned) {
  const total = tables.reduce((n, x) => n + x.t.missing.keys.length, 0);
  await ctx.step(`re-inserting ${total} row(s) into "${o.result.database}"`);
  const inserted: { table: string; inserted: number; expected: number }[] = [];
  const sequences: SequenceMove[] = [];
  let done = 0;
  await o.prod.query('BEGIN');
  try {
    await o.prod.query('SET CONSTRAINTS ALL DEFERRED');
    for (const { t, shape } of tables) {
      let n = 0;
      const sql = insertSql(shape);
      for await (const batch of missingRows(o.scratch, shape, t.missing.keys, ctx.signal)) {
        if (!batch.length) continue;
        const r = await o.prod.query(sql, [`[${batch.join(',')}]`]).catch((err) => {
          throw insertError(err, t.table);
        });
        n += r.rowCount ?? 0;
        done += batch.length;
        await ctx.progress((done / Math.max(1, total)) * 90, `${t.table}: ${n} of ${t.missing.keys.length} rows`);
      }
      if (n !== t.missing.keys.length) await ctx.log(`${t.table}: ${n} rows inserted, ${t.missing.keys.length} expected (the scratch copy lacks some keys)`, 'warn');
      inserted.push({ table: t.table, inserted: n, expected: t.missing.keys.length });
      await ctx.log(`${t.table}: ${n} row(s) inserted`);
    }

    // sequences: one owned by a re-inserted table must not hand out a key that is now taken.
    await ctx.step('catching up sequences');
    for (const { t, oid } of tables) sequences.push(...(await catchUpSequences(o.prod, oid, t.schema, t.name)));
    for (const s of sequences) await ctx.log(`sequence ${s.sequence} moved from ${s.from} to ${s.to} (max of ${s.column})`);

    await o.prod.query('COMMIT').catch((err) => {
      throw insertError(err, tables.map((x) => x.t.table).join(', '));
    });
  } catch (err) {
    await rollback(ctx, o.prod);
    throw err;
  }
  return { inserted, sequences };
}

async function rollback(ctx: Ctx, prod: pg.Client): Promise<void> {
  await prod.query('ROLLBACK').catch(() => {});
  await ctx.log('rolled back: nothing was inserted into production', 'error').catch(() => {});
}

/** What a failed INSERT means for the person: a row is back already, or a parent row is missing. */
function insertError(err: unknown, table: string): unknown {
  const e = err as { code?: string; detail?: string; message?: string; constraint?: string };
  if (e.code === '23505') {
    return new UserError('REINSERT_ROW_EXISTS', `A row of ${table} is in production again (${e.detail ?? e.message}); nothing was inserted.`, 'Someone re-created rows since the comparison. Run the comparison again.');
  }
  if (e.code === '23503') {
    return new UserError('REINSERT_PARENT_MISSING', `A row of ${table} refers to a row production does not have (${e.detail ?? e.message}); nothing was inserted.`, 'Compare the referenced table too, so its missing rows are re-inserted first.');
  }
  if (e.code && /^(23|22)/.test(e.code)) {
    return new UserError('REINSERT_REFUSED', `Production refused a row of ${table}: ${e.message}${e.detail ? ` (${e.detail})` : ''}; nothing was inserted.`, 'The table changed since the backup. Export the rows as SQL and adapt them by hand.');
  }
  return err;
}
