// worker/backup/catalog-sql.ts and manifest.ts: key-table fingerprints quote hostile names, database settings are
// split at the first '=', and the manifest's restore-by-hand lines never name the production database as a target.
import { describe, expect, it } from 'vitest';
import { keyTableFingerprintSql, parseDatabaseProperties } from '../../../../worker/backup/catalog-sql';
import { restoreCommands } from '../../../../worker/backup/manifest';
import { defaultDumpSettings } from '../../../../worker/pg/pg-dump';

describe('keyTableFingerprintSql', () => {
  it('quotes schema and table on their own, doubling quotes', () => {
    expect(keyTableFingerprintSql('public.orders')).toMatch(/ FROM "public"\."orders" t$/);
    expect(keyTableFingerprintSql('we"ird.x; DROP TABLE y')).toMatch(/ FROM "we""ird"\."x; DROP TABLE y" t$/);
    expect(keyTableFingerprintSql('bare')).toMatch(/ FROM "bare" t$/);
  });
});

describe('parseDatabaseProperties', () => {
  it('maps the rows; a setting is name=value with the value keeping its own = signs', () => {
    const p = parseDatabaseProperties(
      { name: 'app', owner: 'app_owner', acl_is_default: false, comment: 'the app', encoding: 'UTF8', collate: 'C', ctype: 'C', connection_limit: 20 },
      [{ grantee: 'PUBLIC', grantor: 'app_owner', privilege: 'CONNECT', grantable: false }],
      [
        { role: null, cfg: 'search_path=core, public' },
        { role: 'reporter', cfg: 'app.filter=a=b' },
        { role: null, cfg: 'odd' },
      ],
    );
    expect(p).toEqual({
      name: 'app',
      owner: 'app_owner',
      aclIsDefault: false,
      acl: [{ grantee: 'PUBLIC', grantor: 'app_owner', privilege: 'CONNECT', grantable: false }],
      settings: [
        { role: null, name: 'search_path', value: 'core, public' },
        { role: 'reporter', name: 'app.filter', value: 'a=b' },
        { role: null, name: 'odd', value: '' },
      ],
      comment: 'the app',
      encoding: 'UTF8',
      collate: 'C',
      ctype: 'C',
      connectionLimit: 20,
    });
  });
});

describe('restoreCommands', () => {
  it('creates a new database and restores into it in one && line; the production name only in the warning', () => {
    const lines = restoreCommands(defaultDumpSettings, "a'b.dump.zst", 'prod', { host: 'db.example', port: 5433, user: 'backup' });
    expect(lines.at(-1)).toBe(`createdb -h 'db.example' -p 5433 -U 'backup' --no-password --template=template0 <new_database> && zstd -d -c 'a'\\''b.dump.zst' | pg_restore -h 'db.example' -p 5433 -U 'backup' --dbname=<new_database> --no-password`);
    expect(lines.filter((l) => !l.startsWith('#')).join('\n')).not.toMatch(/prod/);
  });
  it('a custom archive is restored with parallel jobs from the file', () => {
    const lines = restoreCommands({ ...defaultDumpSettings, format: 'custom' }, 'x.dump', 'prod', { host: 'h', port: 5432, user: 'u' });
    expect(lines.at(-1)).toMatch(/--dbname=<new_database> --no-password --jobs=4 'x\.dump'$/);
  });
});
