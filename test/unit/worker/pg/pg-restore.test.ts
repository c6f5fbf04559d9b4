// worker/pg/pg-restore.ts (TOC parsing, progress lines, argv) and worker/restore/database-ops.ts (names within 63 bytes,
// the copy pattern drop-copy trusts). Fixtures are real pg_restore 15 output.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scratchRestoreArgs } from '../../../../worker/recover/compare-rows';
import { dbConninfo, parseRestoreLine, parseToc, pgRestoreArgs, restoreIntoArgs } from '../../../../worker/pg/pg-restore';
import { partitionsUnder, tableChoices } from '../../../../lib/recoveries/table-choices';
import { copyPattern, fitName, quoteIdent, stamp } from '../../../../worker/restore/database-ops';

const header = (dumpedBy = '15.20 (Debian 15.20-0+deb12u1)') => `;
; Archive created at 2026-11-25 09:17:37 UTC
;     dbname: eitherway
;     TOC Entries: 28
;     Compression: -1
;     Dump Version: 1.14-0
;     Format: CUSTOM
;     Integer: 4 bytes
;     Offset: 8 bytes
;     Dumped from database version: 15.20 (Debian 15.20-0+deb12u1)
;     Dumped by pg_dump version: ${dumpedBy}
;
;
; Selected TOC Entries:
;
`;

// pg_restore --list of the demo database with core.users owned by app_owner, an extension (no owner: the line ends in
// a space), a table whose name has a space and a materialized view.
const LIST = `${header()}7; 2615 16385 SCHEMA - core postgres
2; 3079 16414 EXTENSION - pgcrypto 
3420; 0 0 COMMENT - EXTENSION pgcrypto 
223; 1255 16413 FUNCTION core analyze_query_performance() postgres
218; 1259 16387 TABLE core users app_owner
222; 1259 16459 MATERIALIZED VIEW core mv postgres
219; 1259 16398 TABLE core sessions postgres
217; 1259 16386 SEQUENCE core users_id_seq app_owner
3421; 0 0 SEQUENCE OWNED BY core users_id_seq app_owner
220; 1259 16452 TABLE public my table postgres
3253; 2604 16390 DEFAULT core users id app_owner
3410; 0 16398 TABLE DATA core sessions postgres
3409; 0 16387 TABLE DATA core users app_owner
3411; 0 16452 TABLE DATA public my table postgres
3422; 0 0 SEQUENCE SET core users_id_seq app_owner
3262; 2606 16406 CONSTRAINT core sessions sessions_pkey postgres
3258; 2606 16397 CONSTRAINT core users users_email_key app_owner
3260; 2606 16395 CONSTRAINT core users users_pkey app_owner
3263; 1259 16412 INDEX core sessions_user_id_idx postgres
3264; 2606 16407 FK CONSTRAINT core sessions sessions_user_id_fkey postgres
3413; 0 16459 MATERIALIZED VIEW DATA core mv postgres
`;

describe('parseToc', () => {
  const toc = parseToc(LIST);

  it('reads the header: format, server and pg_dump versions, pg_dump major', () => {
    expect(toc.format).toBe('CUSTOM');
    expect(toc.dumpedFrom).toBe('15.20 (Debian 15.20-0+deb12u1)');
    expect(toc.dumpedBy).toBe('15.20 (Debian 15.20-0+deb12u1)');
    expect(toc.dumpedByMajor).toBe(15);
  });

  it.each([
    ['17.2 (Debian 17.2-1.pgdg120+1)', 17],
    ['9.6.24', 9],
    ['16beta2', 16],
  ])('takes the major of pg_dump %s', (version, major) => {
    expect(parseToc(header(version)).dumpedByMajor).toBe(major);
  });

  it('leaves the header fields undefined for output without them', () => {
    const t = parseToc('7; 2615 16385 SCHEMA - core postgres\n');
    expect(t).toMatchObject({ format: undefined, dumpedBy: undefined, dumpedByMajor: undefined, dumpedFrom: undefined, schemas: ['core'] });
  });

  it('parses every entry with its kind, schema, name and owner (multi-word kinds included)', () => {
    expect(toc.entries).toHaveLength(21);
    expect(toc.entries).toContainEqual({ id: 218, desc: 'TABLE', schema: 'core', name: 'users', owner: 'app_owner' });
    expect(toc.entries).toContainEqual({ id: 3409, desc: 'TABLE DATA', schema: 'core', name: 'users', owner: 'app_owner' });
    expect(toc.entries).toContainEqual({ id: 3421, desc: 'SEQUENCE OWNED BY', schema: 'core', name: 'users_id_seq', owner: 'app_owner' });
    expect(toc.entries).toContainEqual({ id: 3264, desc: 'FK CONSTRAINT', schema: 'core', name: 'sessions sessions_user_id_fkey', owner: 'postgres' });
    expect(toc.entries).toContainEqual({ id: 3413, desc: 'MATERIALIZED VIEW DATA', schema: 'core', name: 'mv', owner: 'postgres' });
    expect(toc.entries).toContainEqual({ id: 222, desc: 'MATERIALIZED VIEW', schema: 'core', name: 'mv', owner: 'postgres' });
    expect(toc.entries).toContainEqual({ id: 220, desc: 'TABLE', schema: 'public', name: 'my table', owner: 'postgres' });
    expect(toc.entries).toContainEqual({ id: 2, desc: 'EXTENSION', schema: '-', name: 'pgcrypto', owner: '' });
  });

  it('lists tables as schema.name (not views or their data), schemas, and owners without the empty extension owner', () => {
    expect(toc.tables).toEqual(['core.users', 'core.sessions', 'public.my table']);
    expect(toc.schemas).toEqual(['core']);
    expect([...toc.owners].sort()).toEqual(['app_owner', 'postgres']);
  });

  it('keeps a schema whose name has a space together (pg_restore --list does not quote names)', () => {
    const t = parseToc(`${header()}8; 2615 16455 SCHEMA - odd schema postgres
221; 1259 16456 TABLE odd schema t postgres
3412; 0 16456 TABLE DATA odd schema t postgres
`);
    expect(t.schemas).toEqual(['odd schema']);
    expect(t.tables).toEqual(['odd schema.t']);
  });

  it('ignores comment lines, blank lines and anything that is not an entry', () => {
    const t = parseToc(`${header()}\n; a comment\nnot an entry\n7; 2615 16385 SCHEMA - core postgres\n`);
    expect(t.entries).toEqual([{ id: 7, desc: 'SCHEMA', schema: '-', name: 'core', owner: 'postgres' }]);
  });
});

// pg_restore 15 --list and --list --verbose of a pg_dump 15 archive of fixtures/partitioned.sql.
const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

describe('parseToc of an archive with partitioned tables (real pg_restore 15 output)', () => {
  const plain = fixture('partitioned.list');
  const toc = parseToc(plain, fixture('partitioned-verbose.list'));

  it('lists real tables only: ordinary, partitioned parents and partitions; no ATTACH, data, view or foreign table entries', () => {
    expect(toc.tables).toEqual([
      'ACL.t',
      'ATTACH.DATA',
      'DATA.t',
      'shop.events',
      'shop.events_a',
      'shop.events_a_low',
      // pg_restore --list prints the newline of "line\nbreak" as a space.
      'shop.line break',
      'shop.odd "name" x.y',
      'shop.orders',
      'shop.orders_p2024_01',
      'shop.orders_p2024_02',
      'shop.orders_rest',
      'shop.standalone',
      'we ird.DATA t',
      'we ird.DATA t p1',
    ]);
    expect(toc.tables.filter((t) => /ATTACH|DATA\.|^TABLE/.test(t) && t !== 'ATTACH.DATA' && t !== 'DATA.t')).toEqual([]);
  });

  it('names each partition with its parent, from the ATTACH entries and their dependencies', () => {
    expect(toc.partitions).toEqual([
      { parent: 'shop.events', child: 'shop.events_a' },
      { parent: 'shop.events_a', child: 'shop.events_a_low' },
      { parent: 'shop.orders', child: 'shop.orders_p2024_01' },
      { parent: 'shop.orders', child: 'shop.orders_p2024_02' },
      { parent: 'shop.orders', child: 'shop.orders_rest' },
      { parent: 'we ird.DATA t', child: 'we ird.DATA t p1' },
    ]);
    expect(partitionsUnder(toc.partitions, 'shop.orders')).toEqual(['shop.orders_p2024_01', 'shop.orders_p2024_02', 'shop.orders_rest']);
    expect(partitionsUnder(toc.partitions, 'shop.events')).toEqual(['shop.events_a', 'shop.events_a_low']);
    expect(partitionsUnder(toc.partitions, 'shop.standalone')).toEqual([]);
  });

  it('offers the row comparison each partitioned table once, with its leaf partitions counted, and no partition', () => {
    expect(tableChoices(toc.tables, toc.partitions)).toEqual([
      { table: 'ACL.t', partitions: 0 },
      { table: 'ATTACH.DATA', partitions: 0 },
      { table: 'DATA.t', partitions: 0 },
      { table: 'shop.events', partitions: 1 },
      { table: 'shop.line break', partitions: 0 },
      { table: 'shop.odd "name" x.y', partitions: 0 },
      { table: 'shop.orders', partitions: 3 },
      { table: 'shop.standalone', partitions: 0 },
      { table: 'we ird.DATA t', partitions: 1 },
    ]);
  });

  it('reads every kind whose words could be mistaken for a schema or a table by the catalog of the entry', () => {
    const find = (id: number) => toc.entries.find((e) => e.id === id);
    expect(find(3279)).toEqual({ id: 3279, desc: 'TABLE ATTACH', schema: 'shop', name: 'orders_p2024_01', owner: 'postgres' });
    expect(find(3284)).toEqual({ id: 3284, desc: 'TABLE ATTACH', schema: 'we ird', name: 'DATA t p1', owner: 'postgres' });
    expect(find(3318)).toEqual({ id: 3318, desc: 'INDEX ATTACH', schema: 'shop', name: 'events_a_low_pkey', owner: 'postgres' });
    expect(find(234)).toEqual({ id: 234, desc: 'TABLE', schema: 'ATTACH', name: 'DATA', owner: 'postgres' });
    expect(find(233)).toEqual({ id: 233, desc: 'TABLE', schema: 'DATA', name: 't', owner: 'postgres' });
    expect(find(3474)).toEqual({ id: 3474, desc: 'TABLE DATA', schema: 'ATTACH', name: 'DATA', owner: 'postgres' });
    expect(find(3473)).toEqual({ id: 3473, desc: 'TABLE DATA', schema: 'DATA', name: 't', owner: 'postgres' });
    expect(find(3289)).toEqual({ id: 3289, desc: 'DEFAULT', schema: 'ACL', name: 't id', owner: 'postgres' });
    expect(find(239)).toEqual({ id: 239, desc: 'FOREIGN TABLE', schema: 'shop', name: 'ft', owner: 'postgres' });
    expect(find(3488)).toEqual({ id: 3488, desc: 'SEQUENCE SET', schema: 'ACL', name: 't_id_seq', owner: 'postgres' });
    expect(find(3477)).toEqual({ id: 3477, desc: 'MATERIALIZED VIEW DATA', schema: 'shop', name: 'mv', owner: 'postgres' });
    expect(find(3470)).toEqual({ id: 3470, desc: 'TABLE DATA', schema: 'shop', name: 'odd "name" x.y', owner: 'postgres' });
    expect(toc.schemas).toEqual(['ACL', 'ATTACH', 'DATA', 'shop', 'we ird']);
  });

  it('keeps the entries of the plain listing: the verbose one only adds dependencies', () => {
    expect(toc.entries).toEqual(parseToc(plain).entries);
    expect(toc.entries.some((e) => e.desc === 'DATABASE' || e.desc === 'ENCODING')).toBe(false);
    expect(toc.owners).toEqual(['postgres']);
    // Without dependencies the parents are unknown, but the tables are still right.
    expect(parseToc(plain).partitions).toEqual([]);
    expect(parseToc(plain).tables).toEqual(toc.tables);
  });
});

describe('parseRestoreLine', () => {
  it.each([
    ['pg_restore: processing data for table "core.users"', { object: 'core.users' }],
    ['pg_restore: creating TABLE "core.users"', { object: 'TABLE core.users' }],
    ['pg_restore: creating FK CONSTRAINT "core.sessions sessions_user_id_fkey"', { object: 'FK CONSTRAINT core.sessions sessions_user_id_fkey' }],
    ['pg_restore: creating SEQUENCE OWNED BY "core.users_id_seq"', { object: 'SEQUENCE OWNED BY core.users_id_seq' }],
    ['pg_restore: creating MATERIALIZED VIEW DATA "core.mv"', { object: 'MATERIALIZED VIEW DATA core.mv' }],
    ['pg_restore: processing item 7 SCHEMA core', { done: true }],
    ['pg_restore: finished item 3409 TABLE DATA users', { done: true }],
    ['pg_restore: launching item 3410 TABLE DATA sessions', {}],
    ['pg_restore: executing SEQUENCE SET users_id_seq', {}],
    ['pg_restore: connecting to database for restore', {}],
    ['pg_restore: entering main parallel loop', {}],
    ['', {}],
  ])('%s', (line, expected) => {
    expect(parseRestoreLine(line)).toEqual(expected);
  });
});

describe('pgRestoreArgs', () => {
  const sel = { jobs: 4, schemas: [] as string[], tables: [] as string[], section: 'all' as const };

  it('builds the whole-database command: conninfo, jobs, verbose, stop at the first error, never a password prompt, archive last', () => {
    expect(pgRestoreArgs('/store/a.dump', 'eitherway_copy', sel)).toEqual([
      "--dbname=dbname='eitherway_copy'",
      '--jobs=4',
      '--verbose',
      '--exit-on-error',
      '--no-password',
      '/store/a.dump',
    ]);
  });

  it.each([
    [`it's`, `dbname='it\\'s'`],
    ['back\\slash', `dbname='back\\\\slash'`],
    ['with space', `dbname='with space'`],
    ['a=b', `dbname='a=b'`],
    [`it's a "copy" \\ x=1`, `dbname='it\\'s a "copy" \\\\ x=1'`],
    ['postgres://host/db', `dbname='postgres://host/db'`],
  ])('quotes the database name %s as one conninfo value', (name, conninfo) => {
    expect(dbConninfo(name)).toBe(conninfo);
    expect(pgRestoreArgs('/a', name, sel)[0]).toBe(`--dbname=${conninfo}`);
    // libpq's reading of a single-quoted value gives the name back.
    const value = /^dbname='((?:[^'\\]|\\.)*)'$/.exec(conninfo)![1]!.replace(/\\(.)/g, '$1');
    expect(value).toBe(name);
  });

  it('runs at least one job', () => {
    expect(pgRestoreArgs('/a', 'd', { ...sel, jobs: 0 })).toContain('--jobs=1');
  });

  it('maps sections and schema selection to their flags', () => {
    expect(pgRestoreArgs('/a', 'd', { ...sel, section: 'schema' })).toContain('--schema-only');
    expect(pgRestoreArgs('/a', 'd', { ...sel, section: 'data' })).toContain('--data-only');
    const all = pgRestoreArgs('/a', 'd', sel);
    expect(all).not.toContain('--schema-only');
    expect(all).not.toContain('--data-only');
    const two = pgRestoreArgs('/a', 'd', { ...sel, schemas: ['core', 'audit'] });
    expect(two.filter((a) => a.startsWith('--schema='))).toEqual(['--schema=core', '--schema=audit']);
    expect(two.at(-1)).toBe('/a');
  });
});

describe('restoreIntoArgs', () => {
  it('builds the flags every restore into a database starts with; jobs and owners only when asked', () => {
    expect(restoreIntoArgs('d')).toEqual(["--dbname=dbname='d'", '--verbose', '--exit-on-error', '--no-password']);
    expect(restoreIntoArgs('d', { jobs: 0, withoutOwners: true })).toEqual([
      "--dbname=dbname='d'",
      '--jobs=1',
      '--verbose',
      '--exit-on-error',
      '--no-password',
      '--no-owner',
      '--no-privileges',
    ]);
  });

  it('is where both the restore and the scratch copy take their common flags from', () => {
    const sel = { jobs: 2, schemas: [] as string[], tables: [] as string[], section: 'all' as const, withoutOwners: true };
    expect(pgRestoreArgs('/a', 'd', sel).slice(0, 7)).toEqual(restoreIntoArgs('d', { jobs: 2, withoutOwners: true }));
    expect(scratchRestoreArgs('/a', 'd', { kind: 'definitions' }).slice(0, 6)).toEqual(restoreIntoArgs('d', { withoutOwners: true }));
  });
});

describe('database-ops names', () => {
  const S = '20260304t050607z';
  const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s; // a lone surrogate becomes U+FFFD

  it('stamps in UTC, lower case, to the second', () => {
    expect(stamp(new Date('2026-03-04T05:06:07.890Z'))).toBe(S);
    expect(stamp()).toMatch(/^\d{8}t\d{6}z$/);
  });

  it('keeps a short name whole', () => {
    expect(fitName('eitherway', `_drill_${S}`)).toBe(`eitherway_drill_${S}`);
  });

  it('cuts a long ASCII base so the name is exactly 63 bytes', () => {
    const n = fitName('a'.repeat(70), `_restore_${S}`);
    expect(Buffer.byteLength(n)).toBe(63);
    expect(n).toBe(`${'a'.repeat(38)}_restore_${S}`);
  });

  it.each([
    ['2-byte characters', 'é'.repeat(40), `_restore_${S}`, `${'é'.repeat(19)}_restore_${S}`],
    ['3-byte characters', '日本語'.repeat(10), `_drill_${S}`, `${'日本語'.repeat(4)}日_drill_${S}`],
    ['4-byte characters', '😀'.repeat(20), `_before_restore_${S}`, `${'😀'.repeat(7)}_before_restore_${S}`],
    ['4-byte characters after ASCII', `ab${'😀'.repeat(20)}`, `_rolled_back_${S}`, `ab${'😀'.repeat(8)}_rolled_back_${S}`],
  ])('cuts %s on a character boundary within 63 bytes', (_what, base, suffix, expected) => {
    const n = fitName(base, suffix);
    expect(Buffer.byteLength(n)).toBeLessThanOrEqual(63);
    expect(wellFormed(n)).toBe(true);
    expect(n).toBe(expected);
  });

  it('always gives a well-formed name of at most 63 bytes that keeps the longest whole-character prefix', () => {
    const bases = ['x', 'é', '日', '😀', 'a😀', 'ab😀', 'abc😀', 'é😀'].map((u) => u.repeat(40));
    const suffixes = ['_drill_', '_restore_', '_rolled_back_', '_before_restore_'].map((k) => `${k}${S}`);
    for (const base of bases) {
      for (const suffix of suffixes) {
        const n = fitName(base, suffix);
        const kept = n.slice(0, n.length - suffix.length);
        expect(n.endsWith(suffix)).toBe(true);
        expect(wellFormed(n), JSON.stringify({ base: base.slice(0, 4), suffix })).toBe(true);
        expect(Buffer.byteLength(n)).toBeLessThanOrEqual(63);
        expect(base.startsWith(kept)).toBe(true);
        // One more whole character would not fit.
        const next = Array.from(base.slice(kept.length))[0]!;
        expect(Buffer.byteLength(kept + next + suffix)).toBeGreaterThan(63);
      }
    }
  });

  it('quotes identifiers by doubling double quotes', () => {
    expect(quoteIdent('plain')).toBe('"plain"');
    expect(quoteIdent('a "b" c')).toBe('"a ""b"" c"');
  });
});

describe('copyPattern', () => {
  it.each(['drill', 'restore', 'rolled_back', 'before_restore'])('matches a copy named with _%s_ and a stamp', (kind) => {
    expect(copyPattern.test(`eitherway_${kind}_20260304t050607z`)).toBe(true);
    expect(copyPattern.test(fitName('x'.repeat(60), `_${kind}_${stamp()}`))).toBe(true);
  });

  it.each([
    'eitherway',
    'eitherway_restored',
    'eitherway_restore',
    'eitherway_restore_2026',
    'eitherway_before_restore_20260304T050607Z',
    'eitherway_drill_20260304t050607z_old',
    'eitherway_backup_20260304t050607z',
    'drill_20260304t050607z',
  ])('does not match %s', (name) => {
    expect(copyPattern.test(name)).toBe(false);
  });
});
