// Guided repair: amcheck on every btree index of the user's schemas: installing it where the user may (and removing
// it again), choosing the check function, and telling corrupt indexes from ones that could not be checked.
import type pg from 'pg';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { AMCHECK_FUNCTIONS_SQL, AMCHECK_SCHEMA_SQL, BTREE_INDEXES_SQL, checkIndexSql, CREATE_AMCHECK_SQL, DROP_AMCHECK_SQL, type AmcheckFunction } from './repair-sql';

export interface IndexProblem {
  index: string;
  table: string;
  /** SQLSTATE of the error amcheck raised (XX001 data corrupted, XX002 index corrupted, ...). */
  code: string | null;
  error: string;
}

export interface AmcheckReport {
  function: string;
  checked: number;
  corrupt: IndexProblem[];
  /** Indexes that could not be checked (a lock or privilege problem, not damage). */
  unchecked: IndexProblem[];
}

export interface Amcheck {
  schema: string;
  fn: AmcheckFunction;
  installedByUs: boolean;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Installs amcheck where the user may; null (said in the log) when it is missing, uninstallable or not executable.
 * An extension installed here (installedByUs) is the caller's to remove with dropAmcheck when the job ends.
 */
export async function prepareAmcheck(ctx: JobContext<unknown>, c: pg.Client, prefer: AmcheckFunction): Promise<Amcheck | null> {
  const schemaOf = async () => (await c.query<{ nspname: string }>(AMCHECK_SCHEMA_SQL)).rows[0]?.nspname;
  let schema = await schemaOf();
  let installedByUs = false;
  if (!schema) {
    try {
      await c.query(CREATE_AMCHECK_SQL);
      installedByUs = true;
      schema = await schemaOf();
      await ctx.log(`amcheck: extension installed for this repair (it is removed again at the end)`);
    } catch (err) {
      await ctx.log(
        `amcheck: not installed and cannot be installed here (${message(err)}); the index checks are skipped. Install it as a superuser (CREATE EXTENSION amcheck, from the postgresql-contrib package) to check indexes.`,
        'warn',
      );
      return null;
    }
  }
  if (!schema) return null;
  // bt_index_parent_check also verifies parent/child links, but takes a ShareLock (writes wait) and needs EXECUTE
  // granted; a check alone prefers bt_index_check, whose AccessShareLock lets the application go on writing.
  const fns = (await c.query<{ fn: AmcheckFunction; can: boolean }>(AMCHECK_FUNCTIONS_SQL, [schema, prefer])).rows;
  const usable = fns.find((f) => f.can);
  if (!usable) {
    await ctx.log(
      fns.length
        ? `amcheck: installed in schema ${schema}, but user may not execute bt_index_check; the index checks are skipped (GRANT EXECUTE ON FUNCTION ${schema}.bt_index_check(regclass, boolean) to the target's user).`
        : `amcheck: the installed version lacks bt_index_check(regclass, boolean) (amcheck 1.1, PostgreSQL 11+); the index checks are skipped.`,
      'warn',
    );
    if (installedByUs) await dropAmcheck(ctx, c);
    return null;
  }
  return { schema, fn: usable.fn, installedByUs };
}

export async function dropAmcheck(ctx: JobContext<unknown>, c: pg.Client): Promise<void> {
  // Left behind, the extension would be in every later backup and make restores depend on postgresql-contrib.
  await c
    .query(DROP_AMCHECK_SQL)
    .then(() => ctx.log('amcheck: extension removed again'))
    .catch((err) => ctx.log(`amcheck: could not remove the extension (${message(err)}); drop it by hand if it is not wanted`, 'warn'));
}

/** Checks every btree index; progress runs from `from` to `to` percent. */
export async function checkIndexes(ctx: JobContext<{ database: string }>, c: pg.Client, am: Amcheck, label: string, from: number, to: number): Promise<AmcheckReport> {
  const indexes = (await c.query<{ oid: string; index: string; table: string }>(BTREE_INDEXES_SQL)).rows;
  const sql = checkIndexSql(am.schema, am.fn);
  const report: AmcheckReport = { function: am.fn, checked: 0, corrupt: [], unchecked: [] };
  await ctx.log(`amcheck ${label}: ${am.fn} (with heapallindexed) on ${indexes.length} btree index(es) of the user's schemas`);
  for (const [i, ix] of indexes.entries()) {
    ctx.signal.throwIfAborted();
    await ctx.progress(from + ((to - from) * i) / Math.max(1, indexes.length), `${i} of ${indexes.length} indexes · ${ix.index}`);
    try {
      await c.query(sql, [ix.oid]);
      report.checked++;
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const e = err as { code?: string; message?: string };
      // Without a server SQLSTATE (or with a connection class one) the connection is gone, not the index.
      if (!e.code || !/^[0-9A-Z]{5}$/.test(e.code) || e.code.startsWith('08') || e.code.startsWith('57P')) {
        throw new UserError('REPAIR_FAILED', `The connection to "${ctx.payload.database}" was lost while checking ${ix.index}: ${e.message ?? String(err)}`);
      }
      const problem = { index: ix.index, table: ix.table, code: e.code ?? null, error: e.message ?? String(err) };
      // A lock we could not get or a missing privilege says nothing about the index itself.
      if (e.code === '55P03' || e.code === '42501' || e.code === '57014') {
        report.unchecked.push(problem);
        await ctx.log(`amcheck: could not check ${ix.index} (${problem.error})`, 'warn');
      } else {
        report.checked++;
        report.corrupt.push(problem);
        await ctx.log(`amcheck: CORRUPT index ${ix.index} on ${ix.table}: ${problem.error}${e.code ? ` [${e.code}]` : ''}`, 'error');
      }
    }
  }
  const names = report.corrupt.map((x) => x.index).join(', ');
  await ctx.log(
    `amcheck ${label}: ${report.checked} index(es) checked, ${report.corrupt.length ? `${report.corrupt.length} corrupt: ${names}` : 'none corrupt'}${report.unchecked.length ? `, ${report.unchecked.length} could not be checked` : ''}`,
    report.corrupt.length ? 'error' : 'info',
  );
  return report;
}
