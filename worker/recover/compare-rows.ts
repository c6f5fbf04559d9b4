// Recovering deleted rows: the scratch restore's pg_restore argv, the SQL that pages, fetches and re-inserts rows by
// primary key, and the keyset merge that pairs a backup's rows with production's (pure, so it is unit-tested).
import { UserError } from '../../lib/errors';
import { restoreIntoArgs } from '../pg/pg-restore';
import { quoteIdent, quoteQualified } from '../pg/sql';

export interface KeyColumn {
  name: string;
  /** format_type() of production's column: the cast for key values sent back as parameters. */
  type: string;
}

export interface CopyColumn {
  name: string;
  type: string;
  /** GENERATED ALWAYS AS (...) STORED: compared, never inserted. */
  generated: boolean;
}

/** One table as the comparison sees it: its primary key and the columns both copies have (production's order). */
export interface TableShape {
  schema: string;
  name: string;
  key: KeyColumn[];
  columns: CopyColumn[];
}

/** schema.name, each part quoted (the one copy in worker/pg/sql.ts). */
export const qualified = quoteQualified;

// ---------------------------------------------------------------- pg_restore for the scratch copy

/** Definitions first; then rows, as the archive's TABLE DATA entries of one table (or of a partitioned table's partitions). */
export type ScratchStep = { kind: 'definitions' } | { kind: 'rows'; entries: number[]; listFile: string };

/**
 * pg_restore argv for the scratch copy, in two kinds of run: every definition of the archive without constraints
 * and indexes, then the rows of one chosen table. (pg_restore --table alone creates neither the table's schema nor
 * its types, and restores no indexes.) A rows run reads the entries to restore from its list file (useList).
 */
export function scratchRestoreArgs(archive: string, database: string, step: ScratchStep): string[] {
  return [
    // The scratch copy is the worker's own: the archive's roles need not exist here (--no-owner, --no-privileges).
    ...restoreIntoArgs(database, { withoutOwners: true }),
    // Comments on extensions need their owner, and the scratch copy needs no comments, labels or tablespaces.
    '--no-comments',
    '--no-security-labels',
    '--no-tablespaces',
    ...(step.kind === 'definitions'
      ? [
          // --section=pre-data: schemas, types, functions, tables (partitions attached) and sequences; no rows, and
          // none of the post-data constraints (foreign keys, triggers) that would make loading single tables fail.
          '--section=pre-data',
          // One transaction: either every definition is there or none.
          '--single-transaction',
        ]
      : [
          '--data-only',
          // --use-list: exactly these TABLE DATA entries, by dump id; names are never matched (pg_restore --list
          // prints a newline in a name as a space, and --table would miss a partitioned table's partitions).
          `--use-list=${step.listFile}`,
        ]),
    archive,
  ];
}

/** The list file of a rows run (pg_restore reads only the dump id before each ';'). */
export function useList(step: ScratchStep): string {
  return step.kind === 'rows' ? step.entries.map((id) => `${id};\n`).join('') : '';
}

// ---------------------------------------------------------------- SQL builders (kept apart from the code that runs them)

/** `col` or `(a, b)`: the key as one comparable value (row comparison is lexicographic, like ORDER BY a, b). */
function tuple(items: string[]): string {
  return items.length === 1 ? items[0]! : `(${items.join(', ')})`;
}

/** Every column's text form in one JSON array: lossless (no float or bigint rounding in JavaScript), and comparable as text. */
function rowText(columns: { name: string }[], alias = 't'): string {
  return `to_json(ARRAY[${columns.map((c) => `${alias}.${quoteIdent(c.name)}::text`).join(', ')}]::text[])::text`;
}

/**
 * A keyset page: rows whose key is after `after` (exclusive) and, when given, up to `upTo` (inclusive), in key
 * order. Parameters: the `after` key values, then the `upTo` key values, then the limit. The primary key's index
 * answers it in both databases, so each page costs its own rows, not a scan of the table.
 */
export function pageSql(t: TableShape, opts: { after: boolean; upTo: boolean }): string {
  const keys = t.key.map((k) => `t.${quoteIdent(k.name)}`);
  let n = 0;
  const params = () => tuple(t.key.map((k) => `$${++n}::${k.type}`));
  const where: string[] = [];
  if (opts.after) where.push(`${tuple(keys)} > ${params()}`);
  if (opts.upTo) where.push(`${tuple(keys)} <= ${params()}`);
  return (
    `SELECT ARRAY[${keys.map((k) => `${k}::text`).join(', ')}]::text[] AS k, ${rowText(t.columns)} AS r` +
    ` FROM ${qualified(t.schema, t.name)} t` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${keys.join(', ')} LIMIT $${++n}`
  );
}

/** The insertable columns' text forms of the rows whose keys are in $1 (a JSON array of key-text arrays), in key order. */
export function rowsByKeysSql(t: TableShape): string {
  const on = t.key.map((k, i) => `t.${quoteIdent(k.name)} = (e.v->>${i})::${k.type}`).join(' AND ');
  return (
    `SELECT ${rowText(insertColumns(t))} AS r FROM ${qualified(t.schema, t.name)} t` +
    ` JOIN json_array_elements($1::json) AS e(v) ON ${on}` +
    ` ORDER BY ${t.key.map((k) => `t.${quoteIdent(k.name)}`).join(', ')}`
  );
}

export function insertColumns(t: TableShape): CopyColumn[] {
  return t.columns.filter((c) => !c.generated);
}

/**
 * INSERT of rows given as $1, a JSON array of arrays of column texts (rowsByKeysSql's output), with the full column
 * list. OVERRIDING SYSTEM VALUE keeps the original values of GENERATED ALWAYS identity columns.
 */
export function insertSql(t: TableShape): string {
  const cols = insertColumns(t);
  return (
    `INSERT INTO ${qualified(t.schema, t.name)} (${cols.map((c) => quoteIdent(c.name)).join(', ')}) OVERRIDING SYSTEM VALUE` +
    ` SELECT ${cols.map((c, i) => `(e.v->>${i})::${c.type}`).join(', ')} FROM json_array_elements($1::json) AS e(v)`
  );
}

/** A SQL literal for a column's text form (NULL stays NULL); the INSERT's column gives it its type. */
export function sqlLiteral(v: string | null): string {
  return v === null ? 'NULL' : `'${v.replaceAll("'", "''")}'`;
}

/**
 * Text for a one-line `--` comment of a SQL file: a newline (or any other line break or control character) in a
 * name would end the comment and run the rest of the name in `psql -f`, so each is written as an escape (`\n`).
 */
export function commentText(s: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return s.replace(/[\p{Cc}\u2028\u2029]/gu, (c) => named[c] ?? `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

/** A download's file name: ASCII letters, digits, '.', '-' and '_' only, not starting with a dot or dash, at most 150 characters. */
export function safeFileName(name: string): string {
  const cleaned = name.replace(/[^\w.-]+/g, '_').replace(/^[.-]+/, '_');
  return cleaned.length > 150 ? cleaned.slice(0, 150) : cleaned;
}

/** One CSV field as COPY ... CSV writes it: NULL empty and unquoted, an empty string quoted. */
export function csvField(v: string | null): string {
  if (v === null) return '';
  if (v === '' || /[",\r\n]/.test(v) || v !== v.trim()) return `"${v.replaceAll('"', '""')}"`;
  return v;
}

// ---------------------------------------------------------------- foreign-key order

/**
 * Tables ordered parents first. `edges` are [child, parent] pairs among the chosen tables; self-references are
 * ignored. Ties keep the given order; a cycle's members follow in their given order (the insert then relies on
 * deferrable constraints, or fails and rolls back).
 */
export function parentsFirst<T extends string>(tables: T[], edges: [T, T][]): { order: T[]; cyclic: T[] } {
  const parents = new Map<T, Set<T>>(tables.map((t) => [t, new Set<T>()]));
  for (const [child, parent] of edges) if (child !== parent && parents.has(child) && parents.has(parent)) parents.get(child)!.add(parent);
  const order: T[] = [];
  const placed = new Set<T>();
  for (;;) {
    const next = tables.find((t) => !placed.has(t) && [...parents.get(t)!].every((p) => placed.has(p)));
    if (!next) break;
    order.push(next);
    placed.add(next);
  }
  const cyclic = tables.filter((t) => !placed.has(t));
  return { order: [...order, ...cyclic], cyclic };
}

// ---------------------------------------------------------------- the merge

export interface KeyedRow {
  /** The primary key's column values in their text form. */
  key: string[];
  /** The row's text (a JSON array of column texts); equal texts mean equal rows. */
  row: string;
}

/** Reads one table's rows in primary-key order, a page at a time; the database does every ordering comparison. */
export interface RowSources {
  /** The backup's rows after `after` (null: from the start), at most `limit`. */
  backupPage(after: string[] | null, limit: number): Promise<KeyedRow[]>;
  /** Production's rows after `after` (null: from the start) and up to `upTo` inclusive, at most `limit`. */
  productionRange(after: string[] | null, upTo: string[], limit: number): Promise<KeyedRow[]>;
}

export interface CompareOptions {
  /** "schema.table", for messages. */
  table: string;
  /** Column names, in the order of the row texts (for the previews). */
  columns: string[];
  pageSize?: number;
  previewLimit?: number;
  /** Missing rows whose keys are kept for the re-insert; more than this is refused. */
  keyLimit?: number;
  signal?: AbortSignal;
  onPage?: (backupRowsSoFar: number) => Promise<void> | void;
}

export type PreviewRow = Record<string, string | null>;

export interface CompareOutcome {
  backupRows: number;
  /** Backup rows whose key production also has (same or changed). */
  inBoth: number;
  missing: { count: number; preview: PreviewRow[]; keys: string[][] };
  changed: { count: number; preview: { key: string[]; backup: PreviewRow; production: PreviewRow }[] };
}

export const PAGE_SIZE = 1000;
export const PREVIEW_LIMIT = 50;
export const KEY_LIMIT = 100_000;

const keyId = (key: string[]) => JSON.stringify(key);

export function toPreviewRow(columns: string[], row: string): PreviewRow {
  const values = JSON.parse(row) as (string | null)[];
  return Object.fromEntries(columns.map((c, i) => [c, values[i] ?? null]));
}

/**
 * Pairs the backup's rows with production's by primary key. The backup is read a page at a time in key order; for
 * each page, production is read over the same key range (after the previous page's last key, up to this page's
 * last key), itself in pages. Keys are only ever tested for equality here: the ordering comparisons happen in
 * PostgreSQL with the columns' own types and collations, so the merge is right for any key type. Memory holds one
 * backup page and one production page, plus the previews and the missing rows' keys.
 */
export async function compareRows(src: RowSources, opts: CompareOptions): Promise<CompareOutcome> {
  const pageSize = opts.pageSize ?? PAGE_SIZE;
  const previewLimit = opts.previewLimit ?? PREVIEW_LIMIT;
  const keyLimit = opts.keyLimit ?? KEY_LIMIT;
  const out: CompareOutcome = { backupRows: 0, inBoth: 0, missing: { count: 0, preview: [], keys: [] }, changed: { count: 0, preview: [] } };
  let after: string[] | null = null;
  for (;;) {
    opts.signal?.throwIfAborted();
    const page = await src.backupPage(after, pageSize);
    if (page.length === 0) break;
    const upTo = page[page.length - 1]!.key;
    const waiting = new Map(page.map((r) => [keyId(r.key), r]));

    // production over the same key range; rows the backup lacks (inserted since) are passed over.
    let cursor = after;
    for (;;) {
      opts.signal?.throwIfAborted();
      const rows = await src.productionRange(cursor, upTo, pageSize);
      for (const p of rows) {
        const id = keyId(p.key);
        const b = waiting.get(id);
        if (!b) continue;
        waiting.delete(id);
        out.inBoth++;
        if (b.row !== p.row) {
          out.changed.count++;
          if (out.changed.preview.length < previewLimit) {
            out.changed.preview.push({ key: b.key, backup: toPreviewRow(opts.columns, b.row), production: toPreviewRow(opts.columns, p.row) });
          }
        }
      }
      // A short page, or one ending at the range's last key, leaves nothing more in the range.
      const last = rows[rows.length - 1];
      if (!last || rows.length < pageSize || keyId(last.key) === keyId(upTo)) break;
      cursor = last.key;
    }

    // what production did not have in that range is missing (in key order, as the page came).
    for (const b of page) {
      if (!waiting.has(keyId(b.key))) continue;
      out.missing.count++;
      if (out.missing.count > keyLimit) {
        throw new UserError(
          'RECOVERY_TOO_LARGE',
          `More than ${keyLimit.toLocaleString('en-US')} rows of ${opts.table} are missing from production; row recovery handles up to ${keyLimit.toLocaleString('en-US')} a table.`,
        );
      }
      out.missing.keys.push(b.key);
      if (out.missing.preview.length < previewLimit) out.missing.preview.push(toPreviewRow(opts.columns, b.row));
    }
    out.backupRows += page.length;
    await opts.onPage?.(out.backupRows);
    if (page.length < pageSize) break;
    after = upTo;
  }
  return out;
}
