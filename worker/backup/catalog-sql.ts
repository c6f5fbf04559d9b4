// The catalog queries a backup reads in its snapshot, as builders apart from the code that runs them (as
// compare-rows.ts does): what a dump's progress counts, and the database properties a pg_dump without --create leaves out.
import { fingerprintSql } from '../../lib/backups/table-fingerprint';
import { quoteIdent } from '../pg/sql';
import type { DatabaseProperties } from '../restore/database-properties';

/** Tables, partitioned tables and materialized views outside the system schemas: the denominator of dump progress. */
export const tableCountSql = `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r','p','m') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'`;

/** A key table's row count and content fingerprint; `table` is "schema.name" (or a bare name) as the target lists it. */
export function keyTableFingerprintSql(table: string): string {
  return fingerprintSql(table.split('.').map(quoteIdent).join('.'));
}

/** The connected database's own row: owner, default-ACL flag, comment, encoding, locale, connection limit. */
export const databaseRowSql = `SELECT d.datname AS name, pg_get_userbyid(d.datdba) AS owner, d.datacl IS NULL AS acl_is_default,
       shobj_description(d.oid, 'pg_database') AS comment, pg_encoding_to_char(d.encoding) AS encoding,
       d.datcollate::text AS collate, d.datctype::text AS ctype, d.datconnlimit AS connection_limit
  FROM pg_database d WHERE d.datname = current_database()`;

/** The connected database's privileges, one row a grant (aclexplode), in a stable order. */
export const databaseAclSql = `SELECT * FROM (
    SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee, pg_get_userbyid(a.grantor) AS grantor,
           a.privilege_type AS privilege, a.is_grantable AS grantable
    FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database()) x
  ORDER BY grantee COLLATE "C", privilege`;

/** ALTER DATABASE / ALTER ROLE ... IN DATABASE settings of the connected database, in their stored order. */
export const databaseSettingsSql = `SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END AS role, c.cfg
  FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) WITH ORDINALITY AS c(cfg, n)
  WHERE d.datname = current_database() ORDER BY s.setrole, c.n`;

export type DatabaseRow = { name: string; owner: string; acl_is_default: boolean; comment: string | null; encoding: string; collate: string; ctype: string; connection_limit: number };
export type AclRow = DatabaseProperties['acl'][number];
export type SettingRow = { role: string | null; cfg: string };

/** The three queries' rows as the manifest's `databaseProperties`; a setting is "name=value" (value may hold '='). */
export function parseDatabaseProperties(d: DatabaseRow, acl: AclRow[], settings: SettingRow[]): DatabaseProperties {
  return {
    name: d.name,
    owner: d.owner,
    aclIsDefault: d.acl_is_default,
    acl: acl.map((a) => ({ grantee: a.grantee, grantor: a.grantor, privilege: a.privilege, grantable: a.grantable })),
    settings: settings.map((r) => {
      const at = r.cfg.indexOf('=');
      return { role: r.role, name: at < 0 ? r.cfg : r.cfg.slice(0, at), value: at < 0 ? '' : r.cfg.slice(at + 1) };
    }),
    comment: d.comment,
    encoding: d.encoding,
    collate: d.collate,
    ctype: d.ctype,
    connectionLimit: d.connection_limit,
  };
}
