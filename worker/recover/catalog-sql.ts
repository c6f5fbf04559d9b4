// Recovering deleted rows: the catalog SQL (tables, columns, keys, foreign keys, owned sequences, the scratch
// database's locale) as builders, kept apart from the code that runs them so each is unit-tested.
import { quoteIdent } from '../pg/sql';
import { qualified } from './compare-rows';

/** Session settings that make every column's text form the same in both databases (row texts are compared across them). */
export const SESSION_SETTINGS_SQL =
  "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; SET bytea_output = 'hex'";

export const SERVER_VERSION_SQL = "SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS ver";

/** $1 schema, $2 name: the oid of an ordinary or partitioned table. */
export const TABLE_OID_SQL = `SELECT c.oid::int8::text AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`;

/** $1 table oid: its live columns in order, with format_type(), whether generated (PostgreSQL 12+) and collation. */
export function columnsSql(versionNum: number): string {
  // attgenerated arrived in PostgreSQL 12; before it no column is generated.
  const generated = versionNum >= 120000 ? "a.attgenerated <> ''" : 'false';
  return `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, ${generated} AS generated, co.collname AS collation
       FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation
       WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`;
}

/** $1 table oid: the primary key's column names in key order. */
export const PRIMARY_KEY_SQL = `SELECT a.attname AS name FROM pg_constraint con
       CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
       WHERE con.conrelid = $1::oid AND con.contype = 'p' ORDER BY k.ord`;

/**
 * $1 schema, $2 name as pg_restore --list prints them (a newline or carriage return as a space): every table whose
 * real name reads like that.
 */
export const TABLES_READING_AS_SQL = `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND translate(n.nspname, E'\\n\\r', '  ') = $1 AND translate(c.relname, E'\\n\\r', '  ') = $2`;

/** $1 an array of table oids: [child, parent] foreign keys among them. */
export const FOREIGN_KEYS_SQL = `SELECT conrelid::int8::text AS child, confrelid::int8::text AS parent FROM pg_constraint
     WHERE contype = 'f' AND conrelid = ANY($1::oid[]) AND confrelid = ANY($1::oid[])`;

/** $1 database name: its encoding, collation, ctype, locale provider and ICU/builtin locale, as far as the version has them. */
export function databaseLocaleSql(versionNum: number): string {
  // datlocprovider and daticulocale arrived in 15; 17 renamed daticulocale to datlocale.
  const provider = versionNum >= 150000 ? 'datlocprovider::text' : "'c'";
  const locale = versionNum >= 170000 ? 'datlocale' : versionNum >= 150000 ? 'daticulocale' : 'NULL::text';
  return `SELECT pg_encoding_to_char(encoding) AS enc, datcollate, datctype, ${provider} AS provider, ${locale} AS locale FROM pg_database WHERE datname = $1`;
}

export interface DatabaseLocale {
  enc: string;
  datcollate: string;
  datctype: string;
  provider: string;
  locale: string | null;
}

const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** CREATE DATABASE with production's encoding and locale, so text keys sort the same way in both copies. */
export function createScratchSql(name: string, d: DatabaseLocale): string {
  let sql = `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0 ENCODING ${literal(d.enc)} LC_COLLATE ${literal(d.datcollate)} LC_CTYPE ${literal(d.datctype)}`;
  if (d.provider === 'i' && d.locale) sql += ` LOCALE_PROVIDER icu ICU_LOCALE ${literal(d.locale)}`;
  if (d.provider === 'b' && d.locale) sql += ` LOCALE_PROVIDER builtin BUILTIN_LOCALE ${literal(d.locale)}`;
  return sql;
}

/** Names of scratch copies; the stamp is when the comparison started. */
export const SCRATCH_NAME_PATTERN = /_recover_(\d{4})(\d{2})(\d{2})t(\d{2})(\d{2})(\d{2})z$/;

export const SCRATCH_DATABASES_SQL = "SELECT datname FROM pg_database WHERE datname ~ '_recover_[0-9]{8}t[0-9]{6}z$'";

/** When a scratch copy was made, from its name; null for a name that is not one. */
export function scratchMadeAt(name: string): number | null {
  const m = SCRATCH_NAME_PATTERN.exec(name);
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** An index on the key: the scratch copy has none (post-data is skipped), and one makes each page an index range. */
export function keyIndexSql(schema: string, name: string, key: string[]): string {
  return `CREATE INDEX ON ${qualified(schema, name)} (${key.map((k) => quoteIdent(k)).join(', ')})`;
}

export function analyzeSql(schema: string, name: string): string {
  return `ANALYZE ${qualified(schema, name)}`;
}

export function countSql(schema: string, name: string): string {
  return `SELECT count(*) AS n FROM ${qualified(schema, name)}`;
}

/** $1 table oid: the sequences it owns (serial or identity), with the owning column and the increment. */
export const OWNED_SEQUENCES_SQL = `SELECT s.oid::regclass::text AS seq, a.attname AS col, q.seqincrement::text AS inc
       FROM pg_depend d
       JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
       JOIN pg_sequence q ON q.seqrelid = s.oid
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
       WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = $1::oid AND d.deptype IN ('a', 'i')`;

export function columnMaxSql(schema: string, name: string, column: string): string {
  return `SELECT max(${quoteIdent(column)})::text AS m FROM ${qualified(schema, name)}`;
}

/** `sequence` is regclass text (already quoted where it needs to be, as ::regclass::text prints it). */
export function sequenceStateSql(sequence: string): string {
  return `SELECT last_value::text AS last_value, is_called FROM ${sequence}`;
}

/** $1 regclass text, $2 the value the sequence last handed out. */
export const SETVAL_SQL = 'SELECT setval($1::regclass, $2::bigint, true)';
