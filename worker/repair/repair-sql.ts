// Guided repair: the SQL it runs (session limits, the database's facts, amcheck's discovery and checks, the
// maintenance statements), as builders kept apart from the code that runs them.
import { quoteIdent } from '../pg/sql';

export type AmcheckFunction = 'bt_index_parent_check' | 'bt_index_check';

/** No statement_timeout (the job's expiry bounds the work), and every lock wait bounded by lock_timeout. */
export function sessionLimitsSql(lockTimeoutSeconds: number): string {
  return `SET statement_timeout = 0; SET lock_timeout = '${Math.floor(lockTimeoutSeconds)}s'`;
}

/** The same limits for psql's session, through PGOPTIONS. */
export function sessionLimitsOptions(lockTimeoutSeconds: number): string {
  return `-c statement_timeout=0 -c lock_timeout=${Math.floor(lockTimeoutSeconds)}s`;
}

/** The server's version, this backend's pid, standby or not, the user's rights on the database, and what it holds. */
export const DATABASE_FACTS_SQL = `SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS ver, pg_backend_pid() AS pid,
                pg_is_in_recovery() AS standby, r.rolsuper AS su, pg_has_role(d.datdba, 'USAGE') AS owner,
                (SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'm') AND relpersistence <> 't') AS tables,
                (SELECT count(*) FROM pg_class WHERE relkind = 'i' AND relpersistence <> 't') AS indexes
         FROM pg_database d, pg_roles r WHERE d.datname = current_database() AND r.rolname = current_user`;

/** Every valid btree index of the user's schemas (system catalogs and TOAST are rebuilt by REINDEX but not checked). */
export const BTREE_INDEXES_SQL = `
  SELECT c.oid::text AS oid, format('%I.%I', n.nspname, c.relname) AS index, format('%I.%I', tn.nspname, t.relname) AS table
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_am am ON am.oid = c.relam
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace tn ON tn.oid = t.relnamespace
  WHERE am.amname = 'btree' AND c.relkind = 'i' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  ORDER BY 2`;

export const AMCHECK_SCHEMA_SQL = "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'";
export const CREATE_AMCHECK_SQL = 'CREATE EXTENSION IF NOT EXISTS amcheck';
export const DROP_AMCHECK_SQL = 'DROP EXTENSION IF EXISTS amcheck';

/**
 * $1 amcheck's schema, $2 the preferred function: the check functions that exist, the preferred first, each with
 * whether the user may execute it.
 */
export const AMCHECK_FUNCTIONS_SQL = `SELECT p.fn, has_function_privilege(p.oid, 'EXECUTE') AS can
       FROM (VALUES (1, 'bt_index_parent_check', to_regprocedure(format('%I.bt_index_parent_check(regclass, boolean)', $1::text))),
                    (2, 'bt_index_check', to_regprocedure(format('%I.bt_index_check(regclass, boolean)', $1::text)))) AS p(rank, fn, oid)
       WHERE p.oid IS NOT NULL ORDER BY p.fn = $2 DESC, p.rank`;

/** $1 the index oid. heapallindexed: every heap tuple must have its index entry, which catches indexes that silently lost rows. */
export function checkIndexSql(schema: string, fn: AmcheckFunction): string {
  return `SELECT ${quoteIdent(schema)}.${fn}($1::oid::regclass, true)`;
}

/** Every index of the database rebuilt from its table, one INFO line each. */
export function reindexSql(database: string): string {
  return `REINDEX (VERBOSE) DATABASE ${quoteIdent(database)}`;
}

/** Every table rewritten and analyzed, one INFO line each. */
export const VACUUM_SQL = 'VACUUM (FULL, ANALYZE, VERBOSE)';

export const CANCEL_BACKEND_SQL = 'SELECT pg_cancel_backend($1)';
