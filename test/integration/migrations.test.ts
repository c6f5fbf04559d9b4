// Proves prisma/migrations builds exactly the database schema.prisma describes, and that migrate() guards its history.
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster.js';
import { migrate, MigrationError, migrationsDir } from '../../scripts/lib/migrate.js';

// ---------------------------------------------------------------- the DMMF (only the parts compared here)

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isUnique: boolean;
  isId: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  isUpdatedAt: boolean;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

interface DmmfModel {
  name: string;
  dbName: string | null;
  primaryKey: { name: string | null; fields: string[] } | null;
  fields: DmmfField[];
}

interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName: string | null }[];
}

interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string;
  algorithm?: string;
  fields: { name: string; sortOrder?: 'asc' | 'desc' }[];
}

interface Datamodel {
  enums: DmmfEnum[];
  models: DmmfModel[];
  indexes: DmmfIndex[];
}

const require = createRequire(import.meta.url);
const { get_dmmf } = require('@prisma/prisma-schema-wasm') as { get_dmmf(params: string): string };

const schemaPath = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));
const datamodel = (JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: readFileSync(schemaPath, 'utf8') }))) as { datamodel: Datamodel })
  .datamodel;

// ---------------------------------------------------------------- what the database holds

interface DbColumn {
  name: string;
  type: string; // format_type(), e.g. "timestamp(3) with time zone", "text[]", "job_status"
  notNull: boolean;
  defaultExpr: string | null;
  // The default evaluated by PostgreSQL (skipped for nextval, which would consume a value).
  defaultValue?: unknown;
  serialSequence: string | null;
  identity: string;
  generated: string;
  datetimePrecision: number | null;
}

interface DbIndex {
  table: string;
  name: string;
  primary: boolean;
  unique: boolean;
  method: string;
  partial: boolean;
  columns: { name: string | null; desc: boolean }[];
}

interface DbForeignKey {
  table: string;
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}

interface DbSnapshot {
  relations: Map<string, string>; // name -> relkind
  columns: Map<string, DbColumn[]>; // table -> columns in attnum order
  indexes: DbIndex[];
  foreignKeys: DbForeignKey[];
  enums: Map<string, string[]>;
}

const FK_ACTIONS: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

async function introspect(client: pg.ClientBase): Promise<DbSnapshot> {
  const relations = new Map(
    (
      await client.query<{ name: string; kind: string }>(
        `SELECT c.relname::text AS name, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
      )
    ).rows.map((r) => [r.name, r.kind]),
  );

  const colRows = (
    await client.query<{
      table: string;
      name: string;
      type: string;
      not_null: boolean;
      default_expr: string | null;
      serial_sequence: string | null;
      identity: string;
      generated: string;
      datetime_precision: number | null;
    }>(
      `SELECT c.relname::text AS table, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
              a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default_expr,
              pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) AS serial_sequence,
              a.attidentity::text AS identity, a.attgenerated::text AS generated,
              col.datetime_precision::int AS datetime_precision
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         LEFT JOIN information_schema.columns col
                ON col.table_schema = n.nspname AND col.table_name = c.relname AND col.column_name = a.attname
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum`,
    )
  ).rows;
  const columns = new Map<string, DbColumn[]>();
  for (const r of colRows) {
    const col: DbColumn = {
      name: r.name,
      type: r.type,
      notNull: r.not_null,
      defaultExpr: r.default_expr,
      serialSequence: r.serial_sequence,
      identity: r.identity,
      generated: r.generated,
      datetimePrecision: r.datetime_precision,
    };
    if (r.default_expr !== null && !/nextval\(/i.test(r.default_expr)) {
      col.defaultValue = (await client.query<{ v: unknown }>(`SELECT (${r.default_expr}) AS v`)).rows[0]?.v;
    }
    const list = columns.get(r.table) ?? [];
    list.push(col);
    columns.set(r.table, list);
  }

  const indexes = (
    await client.query<{ table: string; name: string; primary: boolean; unique: boolean; method: string; partial: boolean; cols: (string | null)[]; descs: boolean[] }>(
      `SELECT t.relname::text AS table, i.relname::text AS name, x.indisprimary AS primary, x.indisunique AS unique,
              am.amname::text AS method, x.indpred IS NOT NULL AS partial,
              ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                      LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.ord) AS cols,
              ARRAY(SELECT (o.opt & 1) = 1 FROM unnest(x.indoption::int2[]) WITH ORDINALITY o(opt, ord) ORDER BY o.ord) AS descs
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         JOIN pg_am am ON am.oid = i.relam
        WHERE n.nspname = 'public'
        ORDER BY t.relname, i.relname`,
    )
  ).rows.map((r) => ({
    table: r.table,
    name: r.name,
    primary: r.primary,
    unique: r.unique,
    method: r.method,
    partial: r.partial,
    columns: r.cols.map((name, i) => ({ name, desc: r.descs[i] ?? false })),
  }));

  const foreignKeys = (
    await client.query<{ table: string; name: string; cols: string[]; ref_table: string; ref_cols: string[]; on_delete: string; on_update: string }>(
      `SELECT t.relname::text AS table, con.conname::text AS name, r.relname::text AS ref_table,
              ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS cols,
              ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_cols,
              con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update
         FROM pg_constraint con
         JOIN pg_class t ON t.oid = con.conrelid
         JOIN pg_class r ON r.oid = con.confrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE con.contype = 'f' AND n.nspname = 'public'
        ORDER BY t.relname, con.conname`,
    )
  ).rows.map((r) => ({
    table: r.table,
    name: r.name,
    columns: r.cols,
    refTable: r.ref_table,
    refColumns: r.ref_cols,
    onDelete: FK_ACTIONS[r.on_delete] ?? r.on_delete,
    onUpdate: FK_ACTIONS[r.on_update] ?? r.on_update,
  }));

  const enums = new Map(
    (
      await client.query<{ name: string; labels: string[] }>(
        `SELECT t.typname::text AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
           FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = 'public' GROUP BY t.typname`,
      )
    ).rows.map((r) => [r.name, r.labels]),
  );

  return { relations, columns, indexes, foreignKeys, enums };
}

// ---------------------------------------------------------------- comparing the two

const MIGRATIONS_TABLE = '_prisma_migrations';
const CLIENT_SIDE_DEFAULTS = new Set(['uuid', 'cuid', 'nanoid', 'ulid']);
const ON_DELETE: Record<string, string> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

const tableOf = (m: DmmfModel): string => m.dbName ?? m.name;
const columnOf = (f: DmmfField): string => f.dbName ?? f.name;
const show = (v: unknown): string => JSON.stringify(v) ?? String(v);
const showColumns = (cols: { name: string | null; desc: boolean }[]): string =>
  `(${cols.map((c) => `${c.name ?? '<expression>'}${c.desc ? ' DESC' : ''}`).join(', ')})`;
const indexKind = (i: DbIndex): string => (i.primary ? 'primary key' : i.unique ? 'unique index' : 'index');

// Prisma's default constraint names: <table>_<columns>_<suffix>, cut so the whole name fits PostgreSQL's 63 bytes.
function defaultName(table: string, cols: string[], suffix: string): string {
  const base = suffix === 'pkey' ? table : [table, ...cols].join('_');
  return `${base.slice(0, 63 - suffix.length - 1)}_${suffix}`;
}

/** The PostgreSQL type Prisma's migrations give a field, as format_type() prints it (precision checked apart). */
function expectedType(field: DmmfField, enums: DmmfEnum[]): string {
  const [native, args = []] = field.nativeType ?? [undefined, []];
  const arg = args.length ? `(${args.join(',')})` : '';
  let base: string | undefined;
  if (field.kind === 'enum') {
    const e = enums.find((x) => x.name === field.type);
    base = e ? (e.dbName ?? e.name) : `<unknown enum ${field.type}>`;
  } else {
    const byNative: Record<string, string> = {
      Uuid: 'uuid',
      Text: 'text',
      VarChar: `character varying${arg}`,
      Char: `character${arg}`,
      Xml: 'xml',
      Inet: 'inet',
      Citext: 'citext',
      Bit: `bit${arg}`,
      VarBit: `bit varying${arg}`,
      Integer: 'integer',
      SmallInt: 'smallint',
      Oid: 'oid',
      BigInt: 'bigint',
      DoublePrecision: 'double precision',
      Real: 'real',
      Decimal: `numeric${arg}`,
      Money: 'money',
      Boolean: 'boolean',
      Timestamp: 'timestamp without time zone',
      Timestamptz: 'timestamp with time zone',
      Date: 'date',
      Time: 'time without time zone',
      Timetz: 'time with time zone',
      Json: 'json',
      JsonB: 'jsonb',
      ByteA: 'bytea',
    };
    const byType: Record<string, string> = {
      String: 'text',
      Int: 'integer',
      BigInt: 'bigint',
      Float: 'double precision',
      Decimal: 'numeric(65,30)',
      Boolean: 'boolean',
      DateTime: 'timestamp without time zone',
      Json: 'jsonb',
      Bytes: 'bytea',
    };
    base = native !== undefined ? byNative[native] : byType[field.type];
    if (base === undefined) base = `<no mapping for ${field.type}${native ? ` @db.${native}` : ''} in this test>`;
  }
  return field.isList ? `${base}[]` : base;
}

// format_type() puts a timestamp's or time's precision inside the name; it is compared on its own instead.
const withoutPrecision = (type: string): string => type.replace(/^(timestamp|time)\(\d+\)/, '$1');

function expectedPrecision(field: DmmfField): number | undefined {
  if (field.type !== 'DateTime' || field.isList) return undefined;
  const [native, args = []] = field.nativeType ?? [undefined, []];
  if (native === undefined) return 3;
  if (native === 'Date') return 0;
  return args[0] !== undefined ? Number(args[0]) : 6;
}

// Literal defaults compared as values, so '{}'::jsonb, 5432 and ARRAY[]::text[] need no string matching.
function canonical(value: unknown, field: DmmfField, side: 'schema' | 'db'): unknown {
  if (field.isList) {
    // PostgreSQL hands arrays of enums back as text ('{a,b}'), pg has no parser for them.
    if (side === 'db' && typeof value === 'string') {
      const inner = value.replace(/^\{|\}$/g, '');
      value = inner === '' ? [] : inner.split(',');
    }
    return Array.isArray(value) ? value.map((v) => canonical(v, { ...field, isList: false }, side)) : value;
  }
  switch (field.type) {
    case 'Json':
      return side === 'schema' && typeof value === 'string' ? JSON.parse(value) : value;
    case 'BigInt':
    case 'Decimal':
    case 'Float':
    case 'Int':
      return Number(value);
    case 'DateTime':
      return new Date(value as string | Date).getTime();
    default:
      return value;
  }
}

function checkDefault(field: DmmfField, col: DbColumn, where: string, out: string[]): void {
  const d = field.default;
  const actual = col.defaultExpr;
  const named = d !== null && typeof d === 'object' && !Array.isArray(d) ? (d as { name: string; args: unknown[] }) : undefined;
  if (!field.hasDefaultValue || (named && CLIENT_SIDE_DEFAULTS.has(named.name))) {
    const why = field.hasDefaultValue ? `(@default(${named?.name}()) is generated by Prisma Client)` : '(no @default)';
    if (actual !== null) out.push(`${where}: default ${why}: expected none, actual ${show(actual)}`);
    return;
  }
  if (named?.name === 'now') {
    if (actual === null || !/^CURRENT_TIMESTAMP(\(\d\))?(::timestamp.*)?$/i.test(actual)) {
      out.push(`${where}: default now(): expected "CURRENT_TIMESTAMP", actual ${show(actual)}`);
    }
    return;
  }
  if (named?.name === 'autoincrement') {
    if (actual === null || !/^nextval\('.+'::regclass\)$/.test(actual) || col.serialSequence === null) {
      out.push(
        `${where}: default autoincrement(): expected nextval() of a sequence owned by the column, actual ${show(actual)} (owned sequence ${show(col.serialSequence)})`,
      );
    }
    return;
  }
  if (named?.name === 'dbgenerated') {
    const want = String(named.args[0] ?? '').replace(/\s+/g, ' ');
    if ((actual ?? '').replace(/\s+/g, ' ') !== want) out.push(`${where}: default dbgenerated: expected ${show(want)}, actual ${show(actual)}`);
    return;
  }
  if (named) {
    out.push(`${where}: default ${named.name}() is not understood by this test; actual ${show(actual)}`);
    return;
  }
  const want = canonical(d, field, 'schema');
  const got = actual === null ? null : canonical(col.defaultValue, field, 'db');
  if (show(want) !== show(got)) out.push(`${where}: default: expected ${show(want)}, actual ${show(got)} (SQL ${show(actual)})`);
}

interface ComparisonResult {
  mismatches: string[];
  models: number;
  fields: number;
  indexes: number;
  foreignKeys: number;
  enums: number;
}

function compareSchema(dm: Datamodel, db: DbSnapshot): ComparisonResult {
  const out: string[] = [];
  const result: ComparisonResult = { mismatches: out, models: 0, fields: 0, indexes: 0, foreignKeys: 0, enums: 0 };

  // Enums: same type name, same labels, same order; and no other enum types.
  for (const e of dm.enums) {
    const name = e.dbName ?? e.name;
    const want = e.values.map((v) => v.dbName ?? v.name);
    const got = db.enums.get(name);
    if (!got) out.push(`enum ${e.name}: type "${name}" is missing`);
    else if (show(got) !== show(want)) out.push(`enum ${e.name} ("${name}"): values: expected ${show(want)}, actual ${show(got)}`);
    else result.enums++;
  }
  const enumNames = new Set(dm.enums.map((e) => e.dbName ?? e.name));
  for (const name of db.enums.keys()) if (!enumNames.has(name)) out.push(`enum type "${name}" is in the database but not in schema.prisma`);

  // Tables: one per model, plus the migrations table; nothing else.
  const tables = new Set([...dm.models.map(tableOf), MIGRATIONS_TABLE]);
  for (const [name, kind] of db.relations) {
    if (!tables.has(name)) out.push(`table "${name}" (relkind ${kind}) is in the database but no model maps to it`);
  }
  if (!db.relations.has(MIGRATIONS_TABLE)) out.push(`table "${MIGRATIONS_TABLE}" is missing`);

  const modelByName = new Map(dm.models.map((m) => [m.name, m]));
  const matchedIndexes = new Set<DbIndex>();
  const matchedFks = new Set<DbForeignKey>();

  for (const model of dm.models) {
    const table = tableOf(model);
    const cols = db.columns.get(table);
    if (!cols) {
      out.push(`${model.name}: table "${table}" is missing`);
      continue;
    }
    result.models++;
    const byName = new Map(cols.map((c) => [c.name, c]));
    const scalars = model.fields.filter((f) => f.kind !== 'object');

    // Columns: type, precision, nullability, default.
    for (const field of scalars) {
      const column = columnOf(field);
      const where = `${model.name}.${field.name} (${table}.${column})`;
      if (field.kind === 'unsupported') {
        out.push(`${where}: Unsupported(...) fields are not understood by this test`);
        continue;
      }
      const col = byName.get(column);
      if (!col) {
        out.push(`${where}: column is missing`);
        continue;
      }
      result.fields++;
      const wantType = expectedType(field, dm.enums);
      if (withoutPrecision(col.type) !== wantType) out.push(`${where}: type: expected ${show(wantType)}, actual ${show(col.type)}`);
      const wantPrecision = expectedPrecision(field);
      if (wantPrecision !== undefined && col.datetimePrecision !== wantPrecision) {
        out.push(`${where}: precision: expected ${wantPrecision}, actual ${show(col.datetimePrecision)}`);
      }
      // Prisma never puts NOT NULL on a list column (an empty list and NULL both read as []).
      const wantNotNull = field.isRequired && !field.isList;
      if (col.notNull !== wantNotNull) {
        out.push(`${where}: nullability: expected ${wantNotNull ? 'NOT NULL' : 'NULL allowed'}, actual ${col.notNull ? 'NOT NULL' : 'NULL allowed'}`);
      }
      if (col.identity || col.generated) {
        out.push(`${where}: expected a plain column, actual identity=${show(col.identity)} generated=${show(col.generated)}`);
      }
      checkDefault(field, col, where, out);
    }
    const declared = new Set(scalars.map(columnOf));
    for (const c of cols) if (!declared.has(c.name)) out.push(`${model.name}: column ${table}.${c.name} (${c.type}) is not declared in the model`);

    // Primary key, unique and plain indexes, by columns and sort order.
    const fieldColumn = (name: string): string => {
      const f = model.fields.find((x) => x.name === name);
      return f ? columnOf(f) : `<unknown field ${name}>`;
    };
    const wantIndexes = dm.indexes.filter((i) => i.model === model.name);
    if (!wantIndexes.some((i) => i.type === 'id')) out.push(`${model.name}: schema.prisma declares no @id / @@id`);
    for (const idx of wantIndexes) {
      const kind = idx.type === 'id' ? 'primary key' : idx.type === 'unique' ? 'unique index' : 'index';
      const want = idx.fields.map((f) => ({ name: fieldColumn(f.name), desc: f.sortOrder === 'desc' }));
      const colNames = want.map((c) => c.name);
      const wantName = idx.dbName ?? defaultName(table, colNames, idx.type === 'id' ? 'pkey' : idx.type === 'unique' ? 'key' : 'idx');
      const wantMethod = (idx.algorithm ?? 'btree').toLowerCase();
      const label = `${model.name} ${kind} ${showColumns(want)}`;
      const isKind = (i: DbIndex): boolean =>
        idx.type === 'id' ? i.primary : idx.type === 'unique' ? i.unique && !i.primary : !i.unique && !i.primary;
      const found = db.indexes.find(
        (i) => i.table === table && !matchedIndexes.has(i) && isKind(i) && !i.partial && show(i.columns) === show(want),
      );
      if (!found) {
        // An index of that name that differs is reported here, once, rather than again as undeclared below.
        const sameName = db.indexes.find((i) => i.table === table && i.name === wantName && !matchedIndexes.has(i));
        if (sameName) matchedIndexes.add(sameName);
        const actual = sameName
          ? `${sameName.name}: ${indexKind(sameName)} ${showColumns(sameName.columns)}${sameName.partial ? ' partial' : ''}`
          : `no ${kind} on these columns`;
        out.push(`${label}: expected ${wantName}: ${kind} ${showColumns(want)}, actual ${actual}`);
        continue;
      }
      matchedIndexes.add(found);
      result.indexes++;
      if (found.name !== wantName) out.push(`${label}: name: expected ${show(wantName)}, actual ${show(found.name)}`);
      if (found.method !== wantMethod) out.push(`${label}: method: expected ${wantMethod}, actual ${found.method}`);
    }
    for (const i of db.indexes) {
      if (i.table === table && !matchedIndexes.has(i) && !(i.partial && sqlOnlyIndexes[i.name] === table)) {
        out.push(
          `${model.name}: index ${i.name} (${indexKind(i)} ${showColumns(i.columns)}${i.partial ? ' partial' : ''}) is not declared in the model`,
        );
      }
    }

    // Foreign keys: one per relation field that holds the fields.
    for (const field of model.fields) {
      if (field.kind !== 'object' || !field.relationFromFields?.length) continue;
      const where = `${model.name}.${field.name} (relation to ${field.type})`;
      const target = modelByName.get(field.type);
      if (!target) {
        out.push(`${where}: model ${field.type} is unknown`);
        continue;
      }
      const columns = field.relationFromFields.map(fieldColumn);
      const refColumns = (field.relationToFields ?? []).map((n) => {
        const f = target.fields.find((x) => x.name === n);
        return f ? columnOf(f) : `<unknown field ${n}>`;
      });
      // Prisma's referential actions when none is written: SetNull for optional relations, Restrict for required ones.
      const onDelete = ON_DELETE[field.relationOnDelete ?? (field.isRequired ? 'Restrict' : 'SetNull')] ?? field.relationOnDelete;
      const onUpdate = ON_DELETE[field.relationOnUpdate ?? 'Cascade'] ?? field.relationOnUpdate;
      const want = { columns, refTable: tableOf(target), refColumns, onDelete, onUpdate };
      const fk = db.foreignKeys.find((k) => k.table === table && !matchedFks.has(k) && show(k.columns) === show(columns));
      if (!fk) {
        out.push(`${where}: foreign key: expected ${show(want)}, actual none on ${table}${show(columns)}`);
        continue;
      }
      matchedFks.add(fk);
      result.foreignKeys++;
      const got = { columns: fk.columns, refTable: fk.refTable, refColumns: fk.refColumns, onDelete: fk.onDelete, onUpdate: fk.onUpdate };
      for (const key of Object.keys(want) as (keyof typeof want)[]) {
        if (show(want[key]) !== show(got[key])) {
          out.push(`${where}: foreign key ${fk.name} ${key === 'onDelete' ? 'ON DELETE' : key === 'onUpdate' ? 'ON UPDATE' : key}: expected ${show(want[key])}, actual ${show(got[key])}`);
        }
      }
    }
    for (const k of db.foreignKeys) {
      if (k.table === table && !matchedFks.has(k)) {
        out.push(`${model.name}: foreign key ${k.name} (${show(k.columns)} -> ${k.refTable}${show(k.refColumns)}) is not declared in the model`);
      }
    }
  }
  return result;
}

// ---------------------------------------------------------------- helpers

const clusters: RunningCluster[] = [];
const tempDirs: string[] = [];
let cluster: RunningCluster;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(name: string): Promise<string> {
  await withClient(cluster.url(), (c) => c.query(`CREATE DATABASE "${name}"`));
  return cluster.url(name);
}

function copyMigrations(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-migrations-'));
  tempDirs.push(dir);
  cpSync(migrationsDir, dir, { recursive: true });
  return dir;
}

const migrationNames = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

// Everything is removed here, not inside the tests, so a failed assertion never leaves a postmaster behind.
afterAll(async () => {
  for (const c of clusters) await c.remove().catch(() => {});
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

beforeAll(async () => {
  cluster = await createThrowawayCluster();
  clusters.push(cluster);
}, 60_000);

// ---------------------------------------------------------------- tests


// Partial indexes schema.prisma cannot express, kept in SQL on purpose (name -> table). Each must exist.
const sqlOnlyIndexes: Record<string, string> = {
  // One queued or running backup per target: the database-level lock behind BACKUP_ALREADY_RUNNING.
  jobs_one_active_backup_per_target: 'jobs',
  // The same for base backups (BASE_BACKUP_ALREADY_RUNNING).
  jobs_one_active_base_backup_per_target: 'jobs',
};

describe('migrations', { timeout: 30_000 }, () => {
  const names = migrationNames(migrationsDir);
  let mainUrl: string;
  let snapshot: DbSnapshot;

  it('applies every migration to an empty database', async () => {
    expect(names.length).toBeGreaterThan(0);
    mainUrl = await createDatabase('lifeboat_main');
    const first = await migrate(mainUrl);
    expect(first).toEqual({ applied: names, total: names.length });
  });

  it('builds exactly the database schema.prisma describes', async () => {
    snapshot = await withClient(mainUrl, introspect);
    const result = compareSchema(datamodel, snapshot);
    for (const [name, table] of Object.entries(sqlOnlyIndexes)) {
      expect(snapshot.indexes.some((i) => i.name === name && i.table === table && i.partial && i.unique), `SQL-only index ${name} on ${table}`).toBe(true);
    }
    expect(result.mismatches, `schema.prisma vs migrations:\n${result.mismatches.join('\n')}`).toEqual([]);
    // Non-vacuous: every model, field, index, relation and enum was actually looked at.
    expect(datamodel.models.length).toBeGreaterThan(5);
    expect(result.models).toBe(datamodel.models.length);
    expect(result.fields).toBe(datamodel.models.flatMap((m) => m.fields.filter((f) => f.kind !== 'object')).length);
    expect(result.indexes).toBe(datamodel.indexes.length);
    expect(result.foreignKeys).toBe(datamodel.models.flatMap((m) => m.fields.filter((f) => f.relationFromFields?.length)).length);
    expect(result.foreignKeys).toBeGreaterThan(0);
    expect(result.enums).toBe(datamodel.enums.length);
  });

  it('reports a mismatch for each kind of difference in schema.prisma (the comparator can fail)', () => {
    // lines: how many mismatches the change must cause (1 unless said), so nothing is reported twice or in passing.
    const mutations: { what: string; change: (dm: Datamodel) => void; expect: RegExp; lines?: number }[] = [
      { what: 'nullability', change: (dm) => (field(dm, 'User', 'email').isRequired = false), expect: /^User\.email .*nullability: expected NULL allowed, actual NOT NULL/ },
      { what: 'type', change: (dm) => (field(dm, 'Job', 'progress').type = 'Int'), expect: /^Job\.progress .*type: expected "integer", actual "double precision"/ },
      { what: 'uuid type', change: (dm) => (field(dm, 'Job', 'bossJobId').nativeType = null), expect: /^Job\.bossJobId .*type: expected "text", actual "uuid"/ },
      { what: 'list', change: (dm) => (field(dm, 'Job', 'partialPaths').isList = false), expect: /^Job\.partialPaths .*type: expected "text", actual "text\[\]"/, lines: 2 },
      { what: 'precision', change: (dm) => (field(dm, 'Job', 'createdAt').nativeType = ['Timestamptz', ['6']]), expect: /^Job\.createdAt .*precision: expected 6, actual 3/ },
      { what: 'literal default', change: (dm) => (field(dm, 'Target', 'port').default = 5433), expect: /^Target\.port .*default: expected 5433, actual 5432/ },
      { what: 'json default', change: (dm) => (field(dm, 'Job', 'payload').default = '[]'), expect: /^Job\.payload .*default: expected \[\], actual \{\}/ },
      { what: 'missing default', change: (dm) => Object.assign(field(dm, 'User', 'role'), { hasDefaultValue: false, default: undefined }), expect: /^User\.role .*default \(no @default\): expected none/ },
      { what: 'uuid() default', change: (dm) => (field(dm, 'User', 'createdAt').default = { name: 'uuid', args: [4] }), expect: /^User\.createdAt .*generated by Prisma Client\): expected none, actual "CURRENT_TIMESTAMP"/ },
      { what: 'enum order', change: (dm) => dm.enums.find((e) => e.name === 'Role')?.values.reverse(), expect: /^enum Role \("role"\): values: expected \["admin","operator","viewer"\]/ },
      { what: 'on delete', change: (dm) => (field(dm, 'AuditLog', 'actor').relationOnDelete = 'Cascade'), expect: /^AuditLog\.actor .*ON DELETE: expected "CASCADE", actual "RESTRICT"/ },
      { what: 'fk target', change: (dm) => (field(dm, 'Job', 'worker').relationToFields = ['host']), expect: /^Job\.worker .*refColumns: expected \["host"\], actual \["id"\]/ },
      { what: 'index sort order', change: (dm) => delete index(dm, 'Worker', 'lastSeenAt').fields[0]?.sortOrder, expect: /^Worker index \(last_seen_at\): expected workers_last_seen_at_idx: index \(last_seen_at\), actual workers_last_seen_at_idx: index \(last_seen_at DESC\)$/ },
      { what: 'unique', change: (dm) => (index(dm, 'User', 'email').type = 'normal'), expect: /^User index \(email\): expected users_email_idx: index \(email\), actual no index on these columns/, lines: 2 },
      { what: 'undeclared index', change: (dm) => dm.indexes.splice(dm.indexes.indexOf(index(dm, 'Job', 'status')), 1), expect: /^Job: index jobs_status_idx .* is not declared/ },
      { what: 'missing column', change: (dm) => model(dm, 'Setting').fields.push({ ...field(dm, 'Setting', 'key'), name: 'ghost', isId: false }), expect: /^Setting\.ghost \(settings\.ghost\): column is missing/ },
      { what: 'undeclared column', change: (dm) => (model(dm, 'Setting').fields = model(dm, 'Setting').fields.filter((f) => f.name !== 'value')), expect: /^Setting: column settings\.value \(jsonb\) is not declared/ },
      { what: 'missing table', change: (dm) => (model(dm, 'Setting').dbName = 'settingz'), expect: /^Setting: table "settingz" is missing$/, lines: 2 },
      { what: 'undeclared table', change: (dm) => (dm.models = dm.models.filter((m) => m.name !== 'AuthThrottle')), expect: /^table "auth_throttle" .* no model maps to it/ },
    ];
    expect(compareSchema(datamodel, snapshot).mismatches).toEqual([]);
    for (const m of mutations) {
      const dm = structuredClone(datamodel);
      m.change(dm);
      const found = compareSchema(dm, snapshot).mismatches;
      expect(found.some((line) => m.expect.test(line)), `${m.what}: ${m.expect} not among:\n${found.join('\n')}`).toBe(true);
      expect(found, m.what).toHaveLength(m.lines ?? 1);
    }
  });

  it('reports a mismatch for each kind of difference in the database (introspection sees changes)', async () => {
    await withClient(mainUrl, async (c) => {
      await c.query('BEGIN');
      try {
        await c.query(`ALTER TABLE "users" ALTER COLUMN "name" DROP NOT NULL`);
        await c.query(`ALTER TABLE "targets" ALTER COLUMN "port" SET DEFAULT 1`);
        await c.query(`ALTER TABLE "settings" ADD COLUMN "extra" INTEGER`);
        await c.query(`DROP INDEX "jobs_status_idx"`);
        await c.query(`ALTER TABLE "audit_log" DROP CONSTRAINT "audit_log_actor_id_fkey"`);
        await c.query(`CREATE TABLE "stray" ("id" INTEGER)`);
        const found = compareSchema(datamodel, await introspect(c)).mismatches;
        const expected = [
          /^User\.name \(users\.name\): nullability: expected NOT NULL, actual NULL allowed$/,
          /^Target\.port .*default: expected 5432, actual 1/,
          /^Setting: column settings\.extra \(integer\) is not declared/,
          /^Job index \(status\): expected jobs_status_idx/,
          /^AuditLog\.actor .*foreign key: expected .*actual none/,
          /^table "stray" /,
        ];
        for (const re of expected) expect(found.some((line) => re.test(line)), `${re} not among:\n${found.join('\n')}`).toBe(true);
        expect(found).toHaveLength(expected.length);
      } finally {
        await c.query('ROLLBACK');
      }
      expect(compareSchema(datamodel, await introspect(c)).mismatches).toEqual([]);
    });
  });

  it('applies nothing the second time and reports the same total', async () => {
    expect(await migrate(mainUrl)).toEqual({ applied: [], total: names.length });
  });

  it('records each migration like Prisma Migrate: checksum of the file, finished, one step', async () => {
    const rows = await withClient(mainUrl, async (c) =>
      (
        await c.query<{ id: string; migration_name: string; checksum: string; started_at: Date; finished_at: Date | null; applied_steps_count: number; rolled_back_at: Date | null; logs: string | null }>(
          'SELECT * FROM "_prisma_migrations" ORDER BY migration_name',
        )
      ).rows,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    for (const row of rows) {
      const sql = readFileSync(path.join(migrationsDir, row.migration_name, 'migration.sql'));
      expect(row.checksum, row.migration_name).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at, row.migration_name).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.applied_steps_count, row.migration_name).toBe(1);
      expect(row.rolled_back_at).toBeNull();
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('refuses to run when an applied migration was changed', async () => {
    const dir = copyMigrations();
    const url = await createDatabase('lifeboat_changed');
    await migrate(url, { dir });
    const edited = names[0]!;
    appendFileSync(path.join(dir, edited, 'migration.sql'), '\n-- edited after it was applied\n');
    const err = await rejection(migrate(url, { dir }));
    expect(err).toBeInstanceOf(MigrationError);
    expect(err.message).toContain(edited);
    expect(err.message).toMatch(/changed/);
    // The database still records the original file.
    const original = createHash('sha256').update(readFileSync(path.join(migrationsDir, edited, 'migration.sql'))).digest('hex');
    const recorded = await withClient(url, async (c) =>
      (await c.query<{ checksum: string }>('SELECT checksum FROM "_prisma_migrations" WHERE migration_name = $1', [edited])).rows,
    );
    expect(recorded).toEqual([{ checksum: original }]);
  });

  it('rolls back a migration that fails, reports it, and records nothing for it', async () => {
    const dir = copyMigrations();
    const broken = '99991231000000_broken';
    mkdirSync(path.join(dir, broken));
    writeFileSync(
      path.join(dir, broken, 'migration.sql'),
      'CREATE TABLE "broken_partial" ("id" INTEGER);\nINSERT INTO "no_such_table" VALUES (1);\n',
    );
    const url = await createDatabase('lifeboat_failing');
    const err = await rejection(migrate(url, { dir }));
    expect(err).toBeInstanceOf(MigrationError);
    expect(err.message).toContain(broken);
    expect(err.message).toMatch(/no_such_table/);
    const state = await withClient(url, async (c) => ({
      table: (await c.query<{ t: string | null }>(`SELECT to_regclass('public.broken_partial')::text AS t`)).rows[0]?.t,
      recorded: (await c.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name')).rows.map(
        (r) => r.migration_name,
      ),
    }));
    expect(state.table).toBeNull();
    // The good migrations before it stay applied; the broken one left no row, not even a failed one.
    expect(state.recorded).toEqual(names);
    rmSync(path.join(dir, broken), { recursive: true });
    expect(await migrate(url, { dir })).toEqual({ applied: [], total: names.length });
  });

  it('keeps audit_log append-only: INSERT works, UPDATE, DELETE and TRUNCATE fail', async () => {
    await withClient(mainUrl, async (c) => {
      const inserted = await c.query<{ id: string }>(
        `INSERT INTO "audit_log" ("actor_email", "action", "params") VALUES ('a@example.test', 'test.append', '{"n":1}') RETURNING "id"`,
      );
      const id = inserted.rows[0]!.id;
      for (const sql of [
        `UPDATE "audit_log" SET "action" = 'tampered' WHERE "id" = ${id}`,
        `DELETE FROM "audit_log" WHERE "id" = ${id}`,
        `TRUNCATE "audit_log"`,
      ]) {
        const err = await rejection(c.query(sql));
        expect(err.message, sql).toMatch(/audit_log is append-only/);
        expect((err as Error & { code?: string }).code, sql).toBe('42501');
      }
      const rows = (await c.query<{ action: string; params: unknown }>('SELECT "action", "params" FROM "audit_log"')).rows;
      expect(rows).toEqual([{ action: 'test.append', params: { n: 1 } }]);
    });
  });
});

function model(dm: Datamodel, name: string): DmmfModel {
  const m = dm.models.find((x) => x.name === name);
  if (!m) throw new Error(`no model ${name} in schema.prisma`);
  return m;
}

function field(dm: Datamodel, modelName: string, name: string): DmmfField {
  const f = model(dm, modelName).fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${modelName}.${name} in schema.prisma`);
  return f;
}

function index(dm: Datamodel, modelName: string, firstField: string): DmmfIndex {
  const i = dm.indexes.find((x) => x.model === modelName && x.type !== 'id' && x.fields[0]?.name === firstField && x.fields.length === 1);
  if (!i) throw new Error(`no single-field index on ${modelName}.${firstField} in schema.prisma`);
  return i;
}
