// worker/repair/repair-sql.ts: the repair's statements: session limits in SQL and in PGOPTIONS, amcheck's call on a
// schema that needs quoting, REINDEX of a database whose name needs quoting, and the index list's scope.
import { describe, expect, it } from 'vitest';
import { psqlArgs } from '../../../../worker/pg/psql';
import { AMCHECK_FUNCTIONS_SQL, BTREE_INDEXES_SQL, checkIndexSql, reindexSql, sessionLimitsOptions, sessionLimitsSql, VACUUM_SQL } from '../../../../worker/repair/repair-sql';

describe('session limits', () => {
  it('turn statement_timeout off and bound each lock wait', () => {
    expect(sessionLimitsSql(60)).toBe("SET statement_timeout = 0; SET lock_timeout = '60s'");
    expect(sessionLimitsOptions(2)).toBe('-c statement_timeout=0 -c lock_timeout=2s');
  });
});

describe('maintenance statements', () => {
  it('REINDEX names the database quoted, VERBOSE for progress', () => {
    expect(reindexSql('shop')).toBe('REINDEX (VERBOSE) DATABASE "shop"');
    expect(reindexSql('my "big" db')).toBe('REINDEX (VERBOSE) DATABASE "my ""big"" db"');
  });
  it('VACUUM rewrites and analyzes, VERBOSE for progress', () => {
    expect(VACUUM_SQL).toBe('VACUUM (FULL, ANALYZE, VERBOSE)');
  });
});

describe('amcheck', () => {
  it('calls the check function in its schema, with heapallindexed', () => {
    expect(checkIndexSql('public', 'bt_index_check')).toBe('SELECT "public".bt_index_check($1::oid::regclass, true)');
    expect(checkIndexSql('ext"s', 'bt_index_parent_check')).toBe('SELECT "ext""s".bt_index_parent_check($1::oid::regclass, true)');
  });
  it("lists valid btree indexes of the user's schemas only", () => {
    expect(BTREE_INDEXES_SQL).toContain("am.amname = 'btree'");
    expect(BTREE_INDEXES_SQL).toContain('i.indisvalid AND i.indisready');
    expect(BTREE_INDEXES_SQL).toContain("n.nspname NOT IN ('pg_catalog', 'information_schema')");
    expect(BTREE_INDEXES_SQL).toContain("c.relpersistence <> 't'");
  });
  it('orders the preferred function first and says whether it may be executed', () => {
    expect(AMCHECK_FUNCTIONS_SQL).toContain("has_function_privilege(p.oid, 'EXECUTE') AS can");
    expect(AMCHECK_FUNCTIONS_SQL).toContain('ORDER BY p.fn = $2 DESC, p.rank');
  });
});

describe("psqlArgs for a repair's statement", () => {
  it('runs it alone with -c (outside a transaction block), no psqlrc, no password prompt, stopping at the first error', () => {
    expect(psqlArgs({ command: reindexSql('shop') })).toEqual(['-X', '-w', '-v', 'ON_ERROR_STOP=1', '-c', 'REINDEX (VERBOSE) DATABASE "shop"']);
    expect(psqlArgs({ command: VACUUM_SQL })).toEqual(['-X', '-w', '-v', 'ON_ERROR_STOP=1', '-c', 'VACUUM (FULL, ANALYZE, VERBOSE)']);
  });
  it('never puts the database, host or user in argv (they come from the environment)', () => {
    const args = psqlArgs({ command: reindexSql('a=b host=evil') });
    expect(args.filter((a) => a.startsWith('-d') || a.startsWith('--dbname') || a.startsWith('-h') || a.startsWith('-U'))).toEqual([]);
    expect(args.at(-1)).toBe('REINDEX (VERBOSE) DATABASE "a=b host=evil"');
  });
});
