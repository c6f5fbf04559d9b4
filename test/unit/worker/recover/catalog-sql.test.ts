// worker/recover/catalog-sql.ts: the catalog SQL of row recovery per server version, the scratch database's CREATE
// DATABASE with production's locale (quotes in names and locales), scratch names and their age, and the per-table
// statements with names that need quoting.
import { describe, expect, it } from 'vitest';
import {
  analyzeSql,
  columnMaxSql,
  columnsSql,
  countSql,
  createScratchSql,
  databaseLocaleSql,
  keyIndexSql,
  scratchMadeAt,
  SCRATCH_NAME_PATTERN,
  sequenceStateSql,
} from '../../../../worker/recover/catalog-sql';

describe('columnsSql', () => {
  it('reads attgenerated from PostgreSQL 12 on, and calls no column generated before', () => {
    expect(columnsSql(120000)).toContain("a.attgenerated <> '' AS generated");
    expect(columnsSql(170002)).toContain("a.attgenerated <> '' AS generated");
    expect(columnsSql(110022)).toContain('false AS generated');
    expect(columnsSql(110022)).not.toContain('attgenerated');
  });
  it('skips dropped and system columns, in column order, with the collation', () => {
    const sql = columnsSql(160000);
    expect(sql).toContain('a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum');
    expect(sql).toContain('co.collname AS collation');
    expect(sql).toContain('a.attrelid = $1::oid');
  });
});

describe('databaseLocaleSql', () => {
  it('asks each version only for the columns it has', () => {
    expect(databaseLocaleSql(140010)).toContain("'c' AS provider, NULL::text AS locale");
    expect(databaseLocaleSql(150004)).toContain('datlocprovider::text AS provider, daticulocale AS locale');
    expect(databaseLocaleSql(170000)).toContain('datlocprovider::text AS provider, datlocale AS locale');
    expect(databaseLocaleSql(170000)).toMatch(/WHERE datname = \$1$/);
  });
});

describe('createScratchSql', () => {
  const libc = { enc: 'UTF8', datcollate: 'en_US.UTF-8', datctype: 'en_US.UTF-8', provider: 'c', locale: null };
  it('copies encoding and libc locale from template0', () => {
    expect(createScratchSql('shop_recover_20261207t181500z', libc)).toBe(
      `CREATE DATABASE "shop_recover_20261207t181500z" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8'`,
    );
  });
  it('quotes a name with double quotes and a locale with single quotes', () => {
    const sql = createScratchSql('we"ird', { ...libc, datcollate: "it's" });
    expect(sql).toContain('CREATE DATABASE "we""ird" TEMPLATE');
    expect(sql).toContain("LC_COLLATE 'it''s'");
  });
  it('adds the ICU or builtin locale when production uses one', () => {
    expect(createScratchSql('x', { ...libc, provider: 'i', locale: 'en-US' })).toMatch(/ LOCALE_PROVIDER icu ICU_LOCALE 'en-US'$/);
    expect(createScratchSql('x', { ...libc, provider: 'b', locale: 'C.UTF-8' })).toMatch(/ LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'$/);
    // A provider without a locale (an old catalog row) falls back to the libc settings alone.
    expect(createScratchSql('x', { ...libc, provider: 'i', locale: null })).not.toContain('LOCALE_PROVIDER');
  });
});

describe('scratch names', () => {
  it('reads when a scratch copy was made from its name', () => {
    expect(scratchMadeAt('shop_recover_20261205t101112z')).toBe(Date.UTC(2026, 11, 5, 10, 11, 12));
    expect(scratchMadeAt('a_b_recover_20260101t000000z')).toBe(Date.UTC(2026, 0, 1));
  });
  it('ignores names that only look like one', () => {
    expect(scratchMadeAt('shop')).toBeNull();
    expect(scratchMadeAt('shop_restore_20261205t101112z')).toBeNull();
    expect(scratchMadeAt('shop_recover_20261205t101112z_old')).toBeNull();
    expect(SCRATCH_NAME_PATTERN.test('shop_recover_2026120t101112z')).toBe(false);
  });
});

describe('per-table statements', () => {
  it('quote schema, table and column names', () => {
    expect(keyIndexSql('my schema', 'Or"ders', ['id', 'Line No'])).toBe('CREATE INDEX ON "my schema"."Or""ders" ("id", "Line No")');
    expect(analyzeSql('public', 'users')).toBe('ANALYZE "public"."users"');
    expect(countSql('public', 'users')).toBe('SELECT count(*) AS n FROM "public"."users"');
    expect(columnMaxSql('public', 'users', 'i"d')).toBe('SELECT max("i""d")::text AS m FROM "public"."users"');
  });
  it('reads a sequence by its regclass text as the catalog printed it', () => {
    expect(sequenceStateSql('"My Seq"')).toBe('SELECT last_value::text AS last_value, is_called FROM "My Seq"');
  });
});
