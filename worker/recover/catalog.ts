// Recovering deleted rows: reading tables, keys, foreign keys and owned sequences from the catalogs of production
// and the scratch copy (the SQL is built in catalog-sql.ts), and the shape both copies share.
import type pg from 'pg';
import { UserError } from '../../lib/errors';
import type { TargetConn } from '../pg/connect';
import { connect } from '../pg/connect';
import {
  columnMaxSql,
  columnsSql,
  FOREIGN_KEYS_SQL,
  OWNED_SEQUENCES_SQL,
  PRIMARY_KEY_SQL,
  SERVER_VERSION_SQL,
  SESSION_SETTINGS_SQL,
  sequenceStateSql,
  SETVAL_SQL,
  TABLE_OID_SQL,
  TABLES_READING_AS_SQL,
} from './catalog-sql';
import type { CopyColumn, TableShape } from './compare-rows';

export interface ColumnInfo extends CopyColumn {
  collation: string | null;
}

export interface TableInfo {
  oid: string;
  columns: ColumnInfo[];
  primaryKey: string[];
}

/** A connection whose text output is the same in every database (row texts are compared across two of them). */
export async function session(conn: TargetConn): Promise<pg.Client> {
  const c = await connect(conn);
  try {
    await c.query(SESSION_SETTINGS_SQL);
  } catch (err) {
    await c.end().catch(() => {});
    throw err;
  }
  return c;
}

export async function serverVersionNum(c: pg.Client): Promise<{ num: number; version: string }> {
  const r = (await c.query<{ num: string; ver: string }>(SERVER_VERSION_SQL)).rows[0]!;
  return { num: Number(r.num), version: r.ver };
}

/** A table's columns and primary key, or null when the table is not there. */
export async function describeTable(c: pg.Client, schema: string, name: string, versionNum: number): Promise<TableInfo | null> {
  const t = (await c.query<{ oid: string }>(TABLE_OID_SQL, [schema, name])).rows[0];
  if (!t) return null;
  const columns = (await c.query<ColumnInfo>(columnsSql(versionNum), [t.oid])).rows;
  const primaryKey = (await c.query<{ name: string }>(PRIMARY_KEY_SQL, [t.oid])).rows.map((r) => r.name);
  return { oid: t.oid, columns, primaryKey };
}

/** Production's table with a primary key; the reason otherwise. */
export async function productionTable(c: pg.Client, schema: string, name: string, database: string, versionNum: number): Promise<TableInfo> {
  const label = `${schema}.${name}`;
  const info = await describeTable(c, schema, name, versionNum);
  if (!info) {
    throw new UserError('NOT_FOUND', `Production "${database}" has no table ${label}.`, 'A dropped table is restored whole: use the restore wizard into a new database, then copy it over.');
  }
  if (info.primaryKey.length === 0) {
    throw new UserError('NO_PRIMARY_KEY', `${label} has no primary key in production "${database}", so its rows cannot be matched with the backup's.`);
  }
  return info;
}

/**
 * The table's real schema and name in production. pg_restore --list prints a newline or carriage return in a name as
 * a space, so the archive's label may not be the name itself: an exact match wins, else the one name that reads
 * the same with those characters as spaces.
 */
export async function realName(c: pg.Client, schema: string, name: string, database: string): Promise<{ schema: string; name: string }> {
  const r = await c.query<{ schema: string; name: string }>(TABLES_READING_AS_SQL, [schema, name]);
  const exact = r.rows.find((x) => x.schema === schema && x.name === name);
  if (exact || r.rows.length === 0) return { schema, name };
  if (r.rows.length > 1) {
    throw new UserError('VALIDATION', `Production "${database}" has ${r.rows.length} tables whose names read as ${schema}.${name} (they differ in line breaks).`, 'Rename one of them, or recover these rows by hand from a restored copy.');
  }
  return r.rows[0]!;
}

/** The shape both copies share: production's key and types, the columns both have. */
export function shapeOf(schema: string, name: string, prod: TableInfo, scratch: TableInfo): TableShape {
  const inScratch = new Map(scratch.columns.map((c) => [c.name, c]));
  const label = `${schema}.${name}`;
  for (const k of prod.primaryKey) {
    const s = inScratch.get(k);
    if (!s) throw new UserError('TABLE_CHANGED', `The backup's ${label} has no column "${k}", which is part of production's primary key.`, 'The table changed too much since the backup to match rows by key.');
    const p = prod.columns.find((c) => c.name === k)!;
    // Key ranges are read in both databases; they must sort the key the same way.
    if ((s.collation ?? '') !== (p.collation ?? '')) {
      throw new UserError('TABLE_CHANGED', `The key column ${label}.${k} sorts with collation "${p.collation}" in production but "${s.collation}" in the backup.`, 'The table changed since the backup; compare it by hand from a restored copy.');
    }
  }
  return {
    schema,
    name,
    key: prod.primaryKey.map((k) => ({ name: k, type: prod.columns.find((c) => c.name === k)!.type })),
    columns: prod.columns.filter((c) => inScratch.has(c.name)).map(({ name: n, type, generated }) => ({ name: n, type, generated })),
  };
}

/** [child, parent] pairs of foreign keys among the given tables (by oid), read from production's pg_constraint. */
export async function foreignKeys(c: pg.Client, oids: string[]): Promise<[string, string][]> {
  const r = await c.query<{ child: string; parent: string }>(FOREIGN_KEYS_SQL, [oids]);
  return r.rows.map((x) => [x.child, x.parent]);
}

export interface SequenceMove {
  sequence: string;
  column: string;
  from: string;
  to: string;
}

/** setval to the column's max for each sequence owned by the table (serial or identity) that is behind it. */
export async function catchUpSequences(c: pg.Client, oid: string, schema: string, name: string): Promise<SequenceMove[]> {
  const owned = (await c.query<{ seq: string; col: string; inc: string }>(OWNED_SEQUENCES_SQL, [oid])).rows;
  const moved: SequenceMove[] = [];
  for (const s of owned) {
    if (BigInt(s.inc) <= 0n) continue; // a descending sequence is never "behind" a max
    const max = (await c.query<{ m: string | null }>(columnMaxSql(schema, name, s.col))).rows[0]!.m;
    if (max === null) continue;
    const cur = (await c.query<{ last_value: string; is_called: boolean }>(sequenceStateSql(s.seq))).rows[0]!;
    const next = cur.is_called ? BigInt(cur.last_value) + 1n : BigInt(cur.last_value);
    if (next > BigInt(max)) continue;
    await c.query(SETVAL_SQL, [s.seq, max]);
    moved.push({ sequence: s.seq, column: s.col, from: cur.last_value, to: max });
  }
  return moved;
}
