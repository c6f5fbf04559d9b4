// worker/recover/compare-rows.ts: the keyset merge (paging boundaries, rows added since the backup inside and beyond
// the ranges, key orders JavaScript does not share, previews, the key cap, cancel), the SQL builders, parents-first
// ordering, CSV and SQL literals, and the scratch restore's pg_restore argv.
import { describe, expect, it } from 'vitest';
import {
  compareRows,
  csvField,
  insertSql,
  pageSql,
  parentsFirst,
  rowsByKeysSql,
  commentText,
  safeFileName,
  scratchRestoreArgs,
  sqlLiteral,
  useList,
  type KeyedRow,
  type ScratchStep,
  type RowSources,
  type TableShape,
} from '../../../../worker/recover/compare-rows';
import { UserError } from '../../../../lib/errors';

/** A "database" ordering that JavaScript's string order does not share: numbers by value, composite keys left to right. */
function dbOrder(a: string[], b: string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    const c = Number.isNaN(x) || Number.isNaN(y) ? (a[i]! < b[i]! ? -1 : a[i]! > b[i]! ? 1 : 0) : x - y;
    if (c !== 0) return c;
  }
  return 0;
}

const row = (key: (string | number)[], ...rest: string[]): KeyedRow => ({ key: key.map(String), row: JSON.stringify([...key.map(String), ...rest]) });

/** In-memory sources over two tables, recording every call so the tests can see what was read. */
function memory(backup: KeyedRow[], production: KeyedRow[]) {
  const b = [...backup].sort((x, y) => dbOrder(x.key, y.key));
  const p = [...production].sort((x, y) => dbOrder(x.key, y.key));
  const calls = { backup: [] as { after: string[] | null; limit: number; got: number }[], production: [] as { after: string[] | null; upTo: string[]; limit: number; got: KeyedRow[] }[] };
  const src: RowSources = {
    async backupPage(after, limit) {
      const got = b.filter((r) => !after || dbOrder(r.key, after) > 0).slice(0, limit);
      calls.backup.push({ after, limit, got: got.length });
      return got;
    },
    async productionRange(after, upTo, limit) {
      const got = p.filter((r) => (!after || dbOrder(r.key, after) > 0) && dbOrder(r.key, upTo) <= 0).slice(0, limit);
      calls.production.push({ after, upTo, limit, got });
      return got;
    },
  };
  return { src, calls };
}

const cols = ['id', 'name'];
const users = (ids: number[], name = (id: number) => `user ${id}`) => ids.map((id) => row([id], name(id)));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('compareRows', () => {
  it('finds nothing when production has every row unchanged', async () => {
    const { src } = memory(users(range(1, 25)), users(range(1, 25)));
    const out = await compareRows(src, { table: 'core.users', columns: cols, pageSize: 10 });
    expect(out).toEqual({ backupRows: 25, inBoth: 25, missing: { count: 0, preview: [], keys: [] }, changed: { count: 0, preview: [] } });
  });

  it('finds missing and changed rows the same way for every page size, in the database key order', async () => {
    const backup = users(range(1, 40));
    const gone = [1, 2, 9, 10, 11, 20, 39, 40];
    const edited = [3, 12, 30];
    const production = users(range(1, 40).filter((id) => !gone.includes(id)), (id) => (edited.includes(id) ? `user ${id} (edited)` : `user ${id}`));
    for (const pageSize of [1, 2, 3, 7, 10, 11, 39, 40, 41, 1000]) {
      const { src } = memory(backup, production);
      const out = await compareRows(src, { table: 'core.users', columns: cols, pageSize });
      expect(out.backupRows, `page size ${pageSize}`).toBe(40);
      expect(out.inBoth).toBe(32);
      // Numeric order (9 before 10), not JavaScript's string order ("10" before "9").
      expect(out.missing.keys).toEqual(gone.map((id) => [String(id)]));
      expect(out.missing.preview).toEqual(gone.map((id) => ({ id: String(id), name: `user ${id}` })));
      expect(out.changed.count).toBe(3);
      expect(out.changed.preview).toEqual(edited.map((id) => ({ key: [String(id)], backup: { id: String(id), name: `user ${id}` }, production: { id: String(id), name: `user ${id} (edited)` } })));
    }
  });

  it('passes over rows added since the backup, inside a range (more than a page of them) and beyond the last backup key', async () => {
    const backup = users([1, 100, 200]);
    // 150 new rows between 1 and 100, production lost 100, and rows after 200 that must never be read.
    const production = [...users([1, 200]), ...users(range(2, 99)), ...users(range(101, 152)), ...users(range(201, 5000))];
    const { src, calls } = memory(backup, production);
    const out = await compareRows(src, { table: 't', columns: cols, pageSize: 10 });
    expect(out.missing.keys).toEqual([['100']]);
    expect(out.inBoth).toBe(2);
    expect(out.changed.count).toBe(0);
    // Production is read only up to the backup's last key: nothing past 200 was fetched.
    expect(calls.production.flatMap((c) => c.got).every((r) => Number(r.key[0]) <= 200)).toBe(true);
    // Each read is at most a page.
    expect(calls.production.every((c) => c.got.length <= 10)).toBe(true);
  });

  it('reads the backup a page at a time, each page after the previous page\'s last key', async () => {
    const { src, calls } = memory(users(range(1, 25)), users(range(1, 25)));
    await compareRows(src, { table: 't', columns: cols, pageSize: 10 });
    expect(calls.backup.map((c) => [c.after, c.got])).toEqual([
      [null, 10],
      [['10'], 10],
      [['20'], 5],
    ]);
    // A short page ends the table: no empty read after it.
    expect(calls.backup.every((c) => c.limit === 10)).toBe(true);
    // Production ranges continue where the previous backup page ended.
    expect(calls.production.map((c) => [c.after, c.upTo])).toEqual([
      [null, ['10']],
      [['10'], ['20']],
      [['20'], ['25']],
    ]);
  });

  it('matches composite keys by every column', async () => {
    const backup = [row(['a', 1], 'x'), row(['a', 2], 'x'), row(['b', 1], 'x'), row(['b', 2], 'x')];
    const production = [row(['a', 1], 'x'), row(['b', 1], 'y'), row(['b', 2], 'x'), row(['a', 3], 'new')];
    const { src } = memory(backup, production);
    const out = await compareRows(src, { table: 't', columns: ['k1', 'k2', 'v'], pageSize: 2 });
    expect(out.missing.keys).toEqual([['a', '2']]);
    expect(out.changed.preview).toEqual([{ key: ['b', '1'], backup: { k1: 'b', k2: '1', v: 'x' }, production: { k1: 'b', k2: '1', v: 'y' } }]);
  });

  it('keeps every missing key but only the first 50 rows as preview', async () => {
    const { src } = memory(users(range(1, 300)), users(range(1, 300).filter((id) => id % 3 !== 0)));
    const out = await compareRows(src, { table: 't', columns: cols, pageSize: 64 });
    expect(out.missing.count).toBe(100);
    expect(out.missing.keys).toHaveLength(100);
    expect(out.missing.preview).toHaveLength(50);
    expect(out.missing.preview.at(-1)).toEqual({ id: '150', name: 'user 150' });
  });

  it('handles an empty backup table and an empty production table', async () => {
    expect((await compareRows(memory([], users([1, 2])).src, { table: 't', columns: cols })).backupRows).toBe(0);
    const out = await compareRows(memory(users([1, 2, 3]), []).src, { table: 't', columns: cols, pageSize: 2 });
    expect(out.missing.keys).toEqual([['1'], ['2'], ['3']]);
  });

  it('refuses more missing rows than the key limit with RECOVERY_TOO_LARGE naming the table', async () => {
    const { src } = memory(users(range(1, 12)), []);
    const err = await compareRows(src, { table: 'core.users', columns: cols, pageSize: 5, keyLimit: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('RECOVERY_TOO_LARGE');
    expect((err as UserError).message).toMatch(/^More than 10 rows of core\.users are missing from production/);
    // Exactly at the limit is fine.
    expect((await compareRows(memory(users(range(1, 10)), []).src, { table: 't', columns: cols, pageSize: 5, keyLimit: 10 })).missing.count).toBe(10);
  });

  it('stops between pages when the job is cancelled, and reports progress after each page', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const { src } = memory(users(range(1, 50)), users(range(1, 50)));
    const err = await compareRows(src, {
      table: 't',
      columns: cols,
      pageSize: 10,
      signal: controller.signal,
      onPage: (n) => {
        seen.push(n);
        if (n === 20) controller.abort(new Error('cancelled'));
      },
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe('cancelled');
    expect(seen).toEqual([10, 20]);
  });
});

const users_: TableShape = {
  schema: 'core',
  name: 'users',
  key: [{ name: 'id', type: 'bigint' }],
  columns: [
    { name: 'id', type: 'bigint', generated: false },
    { name: 'full name', type: 'text', generated: false },
    { name: 'total', type: 'numeric', generated: true },
  ],
};
const orders: TableShape = {
  schema: 'shop',
  name: 'orders',
  key: [
    { name: 'region', type: 'text' },
    { name: 'n', type: 'integer' },
  ],
  columns: [
    { name: 'region', type: 'text', generated: false },
    { name: 'n', type: 'integer', generated: false },
    { name: 'tags', type: 'text[]', generated: false },
  ],
};

describe('SQL builders', () => {
  it('pages by a single key with typed parameters, the limit last', () => {
    expect(pageSql(users_, { after: false, upTo: false })).toBe(
      `SELECT ARRAY[t."id"::text]::text[] AS k, to_json(ARRAY[t."id"::text, t."full name"::text, t."total"::text]::text[])::text AS r FROM "core"."users" t ORDER BY t."id" LIMIT $1`,
    );
    expect(pageSql(users_, { after: true, upTo: true })).toMatch(/ WHERE t\."id" > \$1::bigint AND t\."id" <= \$2::bigint ORDER BY t\."id" LIMIT \$3$/);
  });

  it('pages by a composite key with a row comparison (lexicographic, like ORDER BY)', () => {
    expect(pageSql(orders, { after: true, upTo: false })).toMatch(/ WHERE \(t\."region", t\."n"\) > \(\$1::text, \$2::integer\) ORDER BY t\."region", t\."n" LIMIT \$3$/);
    expect(pageSql(orders, { after: false, upTo: true })).toMatch(/ WHERE \(t\."region", t\."n"\) <= \(\$1::text, \$2::integer\) ORDER BY/);
  });

  it('fetches rows by a JSON array of keys, insertable columns only, in key order', () => {
    expect(rowsByKeysSql(orders)).toBe(
      `SELECT to_json(ARRAY[t."region"::text, t."n"::text, t."tags"::text]::text[])::text AS r FROM "shop"."orders" t JOIN json_array_elements($1::json) AS e(v) ON t."region" = (e.v->>0)::text AND t."n" = (e.v->>1)::integer ORDER BY t."region", t."n"`,
    );
    expect(rowsByKeysSql(users_)).not.toContain('total');
  });

  it('inserts with the full column list (generated columns left out), overriding identity values', () => {
    expect(insertSql(users_)).toBe(
      `INSERT INTO "core"."users" ("id", "full name") OVERRIDING SYSTEM VALUE SELECT (e.v->>0)::bigint, (e.v->>1)::text FROM json_array_elements($1::json) AS e(v)`,
    );
  });

  it('writes SQL literals and CSV fields as psql and COPY read them', () => {
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral("O'Brien \\ x")).toBe("'O''Brien \\ x'");
    expect(csvField(null)).toBe('');
    expect(csvField('')).toBe('""');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
  });
});

describe('parentsFirst', () => {
  it('puts parents before children and keeps the given order otherwise', () => {
    expect(parentsFirst(['sessions', 'users', 'notes'], [['sessions', 'users']])).toEqual({ order: ['users', 'sessions', 'notes'], cyclic: [] });
    expect(parentsFirst(['c', 'b', 'a'], [['c', 'b'], ['b', 'a']])).toEqual({ order: ['a', 'b', 'c'], cyclic: [] });
  });

  it('ignores self-references and tables outside the choice, and lists a cycle last', () => {
    expect(parentsFirst(['employees'], [['employees', 'employees']])).toEqual({ order: ['employees'], cyclic: [] });
    expect(parentsFirst(['x'], [['x', 'elsewhere']])).toEqual({ order: ['x'], cyclic: [] });
    expect(parentsFirst(['a', 'b', 'c'], [['a', 'b'], ['b', 'a']])).toEqual({ order: ['c', 'a', 'b'], cyclic: ['a', 'b'] });
  });
});

describe('scratchRestoreArgs', () => {
  it('restores every definition before data: pre-data in one transaction, without owners or privileges', () => {
    const args = scratchRestoreArgs('/s/x.dump', "db's copy", { kind: 'definitions' });
    expect(args).toEqual([
      "--dbname=dbname='db\\'s copy'",
      '--verbose',
      '--exit-on-error',
      '--no-password',
      '--no-owner',
      '--no-privileges',
      '--no-comments',
      '--no-security-labels',
      '--no-tablespaces',
      '--section=pre-data',
      '--single-transaction',
      '/s/x.dump',
    ]);
  });

  it("restores a table's rows (a partitioned table's: its partitions') by their TABLE DATA entries, from a list file", () => {
    const step: ScratchStep = { kind: 'rows', entries: [3465, 3466, 3467], listFile: '/tmp/x/0.list' };
    const args = scratchRestoreArgs('/s/x.dump', 'd', step);
    expect(args.slice(-3)).toEqual(['--data-only', '--use-list=/tmp/x/0.list', '/s/x.dump']);
    expect(args.some((a) => a.startsWith('--table') || a.startsWith('--schema'))).toBe(false);
    expect(args).not.toContain('--section=pre-data');
    expect(useList(step)).toBe('3465;\n3466;\n3467;\n');
    expect(useList({ kind: 'definitions' })).toBe('');
  });
});

describe('names in export files', () => {
  it.each([
    ['evil\nDROP TABLE canary;', 'evil\\nDROP TABLE canary;'],
    ['cr\rlf\r\n', 'cr\\rlf\\r\\n'],
    ['tab\there', 'tab\\there'],
    ['bell\u0007 nel\u0085 ls\u2028 ps\u2029 esc\u001b', 'bell\\u0007 nel\\u0085 ls\\u2028 ps\\u2029 esc\\u001b'],
    ['"quoted" \'single\' 日本 ü ✓', '"quoted" \'single\' 日本 ü ✓'],
  ])('keeps a comment on one line: %j', (name, expected) => {
    const c = commentText(name);
    expect(c).toBe(expected);
    expect(c).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
  });

  it.each([
    ['eitherway-missing-rows-core.users.csv', 'eitherway-missing-rows-core.users.csv'],
    ['naïve "shop"\nDROP-missing-rows.sql', 'na_ve_shop_DROP-missing-rows.sql'],
    ['../../etc/passwd', '__.._etc_passwd'],
    ['-rf-missing-rows.sql', '_rf-missing-rows.sql'],
    ['日本-missing-rows.sql', '_-missing-rows.sql'],
  ])('makes a safe file name of %j', (name, expected) => {
    expect(safeFileName(name)).toBe(expected);
  });

  it('cuts a long file name', () => {
    expect(safeFileName('x'.repeat(400))).toHaveLength(150);
  });
});
