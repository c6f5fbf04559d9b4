// worker/restore/database-properties.ts: the statements that give a restored database its recorded properties.
import { describe, expect, it } from 'vitest';
import { describeProperties, propertiesSql, splitList, type DatabaseProperties } from '../../../../worker/restore/database-properties';

const props: DatabaseProperties = {
  name: 'shop',
  owner: 'app owner',
  aclIsDefault: false,
  acl: [
    { grantee: 'PUBLIC', grantor: 'app owner', privilege: 'TEMPORARY', grantable: false },
    { grantee: 'reader', grantor: 'app owner', privilege: 'CONNECT', grantable: true },
    { grantee: 'gone', grantor: 'app owner', privilege: 'CONNECT', grantable: false },
  ],
  settings: [
    { role: null, name: 'search_path', value: 'core, "my schema", public' },
    { role: null, name: 'work_mem', value: "8MB" },
    { role: 'reader', name: 'statement_timeout', value: '5s' },
  ],
  comment: "the shop's",
  encoding: 'UTF8',
  collate: 'C',
  ctype: 'C',
  connectionLimit: 50,
};

describe('database properties', () => {
  it('splits list settings as PostgreSQL stores them', () => {
    expect(splitList('core, "my schema", public')).toEqual(['core', 'my schema', 'public']);
    expect(splitList('"a ""q"""')).toEqual(['a "q"']);
  });

  it('owner, ACL from scratch, settings, role settings, comment, limit; missing roles skipped and named', () => {
    const { sql, skipped } = propertiesSql('new "db"', props, (r) => r !== 'gone');
    expect(sql).toEqual([
      'ALTER DATABASE "new ""db""" OWNER TO "app owner"',
      'REVOKE ALL ON DATABASE "new ""db""" FROM PUBLIC',
      'GRANT TEMPORARY ON DATABASE "new ""db""" TO PUBLIC',
      'GRANT CONNECT ON DATABASE "new ""db""" TO "reader" WITH GRANT OPTION',
      `ALTER DATABASE "new ""db""" SET "search_path" TO 'core', 'my schema', 'public'`,
      `ALTER DATABASE "new ""db""" SET "work_mem" TO '8MB'`,
      `ALTER ROLE "reader" IN DATABASE "new ""db""" SET "statement_timeout" TO '5s'`,
      `COMMENT ON DATABASE "new ""db""" IS 'the shop''s'`,
      'ALTER DATABASE "new ""db""" CONNECTION LIMIT 50',
    ]);
    expect(skipped).toEqual(['CONNECT for gone (no such role here)']);
  });

  it('default privileges are left as a new database has them', () => {
    const { sql } = propertiesSql('d', { ...props, aclIsDefault: true, acl: [] }, () => true);
    expect(sql.some((x) => /REVOKE|GRANT/.test(x))).toBe(false);
  });

  it('says so when a backup did not record them', () => {
    expect(describeProperties(null)).toBe('database properties not recorded in this backup');
  });
});
