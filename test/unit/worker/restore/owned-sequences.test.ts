// worker/restore/owned-sequences.ts on a real pre-data script (pg_restore 15 of a database with a bigserial, an
// identity column, a partitioned table with a serial, and a quoted schema and table with a space in the column name).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePreData, readQualifiedName, tableExtras } from '../../../../worker/restore/owned-sequences';

const script = readFileSync(path.join(import.meta.dirname, 'fixtures', 'pre-data.sql'), 'utf8');
const entries = parsePreData(script);

describe('readQualifiedName', () => {
  it('reads quoted and bare parts', () => {
    expect(readQualifiedName('"odd schema"."t ""q"""."my id";').parts).toEqual(['odd schema', 't "q"', 'my id']);
    expect(readQualifiedName('core.u.id;').parts).toEqual(['core', 'u', 'id']);
  });
});

describe('tableExtras', () => {
  it('a bigserial table: its sequence, OWNED BY and the column default', () => {
    const x = tableExtras(entries, ['core.u']);
    expect(x.partitions).toEqual([]);
    expect(x.sequences).toEqual(['core.u_id_seq']);
    expect(x.statements).toEqual(['ALTER SEQUENCE core.u_id_seq OWNED BY core.u.id;', "ALTER TABLE ONLY core.u ALTER COLUMN id SET DEFAULT nextval('core.u_id_seq'::regclass);"]);
  });

  it('an identity column: its sequence (the identity comes back with it), no extra statement', () => {
    expect(tableExtras(entries, ['core.idt'])).toEqual({ partitions: [], sequences: ['core.idt_id_seq'], statements: [] });
  });

  it('a partitioned table: its partitions, its sequence and default, and the ATTACH statements', () => {
    const x = tableExtras(entries, ['core.o']);
    expect(x.partitions).toEqual(['core.o_p1', 'core.o_p2']);
    expect(x.sequences).toEqual(['core.o_id_seq']);
    expect(x.statements.filter((s) => s.includes('ATTACH PARTITION')).map((s) => s.split('\n')[0])).toEqual([
      "ALTER TABLE ONLY core.o ATTACH PARTITION core.o_p1 FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');",
      "ALTER TABLE ONLY core.o ATTACH PARTITION core.o_p2 FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');",
    ]);
    expect(x.statements.some((s) => s.startsWith('ALTER TABLE ONLY core.o ALTER COLUMN id SET DEFAULT'))).toBe(true);
  });

  it('quoted names with quotes and spaces', () => {
    const x = tableExtras(entries, ['odd schema.t "q"']);
    expect(x.sequences).toEqual(['odd schema.t "q"_my id_seq']);
    expect(x.statements[0]).toBe('ALTER SEQUENCE "odd schema"."t ""q""_my id_seq" OWNED BY "odd schema"."t ""q"""."my id";');
    expect(x.statements[1]!.split('\n')[0]).toBe('ALTER TABLE ONLY "odd schema"."t ""q""" ALTER COLUMN "my id" SET DEFAULT nextval(\'"odd schema"."t ""q""_my id_seq"\'::regclass);');
  });

  it('keeps no psql meta-command or comment in any entry (the script ends with \\unrestrict)', () => {
    expect(script).toMatch(/^\\unrestrict /m);
    expect(entries.filter((e) => /^(\\|--)/m.test(e.sql)).map((e) => e.tag)).toEqual([]);
    expect(entries.at(-1)!.sql).toBe(`ALTER TABLE ONLY "odd schema"."t ""q""" ALTER COLUMN "my id" SET DEFAULT nextval('"odd schema"."t ""q""_my id_seq"'::regclass);`);
  });

  it('a table that owns nothing adds nothing', () => {
    expect(tableExtras(entries, ['core.nope'])).toEqual({ partitions: [], sequences: [], statements: [] });
  });
});
