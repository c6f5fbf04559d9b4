// Database-level properties that pg_dump does not carry (owner, privileges, ALTER DATABASE/ROLE ... SET, comment,
// connection limit), recorded in the backup's manifest and applied to a restored database before it takes its name.
import type pg from 'pg';
import { quoteIdent } from '../pg/sql';

export interface DatabaseProperties {
  name: string;
  owner: string;
  aclIsDefault: boolean;
  acl: { grantee: string; grantor: string; privilege: 'CONNECT' | 'TEMPORARY' | 'CREATE'; grantable: boolean }[];
  settings: { role: string | null; name: string; value: string }[];
  comment: string | null;
  encoding: string;
  collate: string;
  ctype: string;
  connectionLimit: number;
}

export const NOT_RECORDED = 'database properties not recorded in this backup';

export function propertiesOf(manifest: unknown): DatabaseProperties | null {
  const p = (manifest as { databaseProperties?: DatabaseProperties } | null)?.databaseProperties;
  return p && typeof p.owner === 'string' && Array.isArray(p.acl) && Array.isArray(p.settings) ? p : null;
}

const literal = (v: string) => `'${v.replaceAll("'", "''")}'`;
const grantee = (g: string) => (g === 'PUBLIC' ? 'PUBLIC' : quoteIdent(g));

// Settings whose value is a list of names (PostgreSQL's GUC_LIST_QUOTE): each element is quoted on its own, as
// pg_dumpall does, or "a, b" would come back as one element.
const listSettings = new Set(['search_path', 'temp_tablespaces', 'session_preload_libraries', 'shared_preload_libraries', 'local_preload_libraries']);

/** Splits a stored list value ("core, \"my schema\", public") into its elements. */
export function splitList(v: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < v.length) {
    while (v[i] === ' ' || v[i] === ',') i++;
    if (i >= v.length) break;
    if (v[i] === '"') {
      let s = '';
      i++;
      while (i < v.length && !(v[i] === '"' && v[i + 1] !== '"')) s += v[i] === '"' ? (i++, '"') : v[i], i++;
      i++;
      out.push(s);
    } else {
      const j = v.indexOf(',', i);
      out.push(v.slice(i, j < 0 ? v.length : j).trim());
      i = j < 0 ? v.length : j;
    }
  }
  return out;
}

export function settingValue(name: string, value: string): string {
  return listSettings.has(name) ? splitList(value).map(literal).join(', ') : literal(value);
}

/** The statements that give `db` the recorded properties; roles that do not exist on this server are skipped. */
export function propertiesSql(db: string, p: DatabaseProperties, roleExists: (r: string) => boolean): { sql: string[]; skipped: string[] } {
  const d = quoteIdent(db);
  const sql: string[] = [];
  const skipped: string[] = [];
  if (roleExists(p.owner)) sql.push(`ALTER DATABASE ${d} OWNER TO ${quoteIdent(p.owner)}`);
  else skipped.push(`owner ${p.owner} (no such role here)`);
  if (!p.aclIsDefault) {
    // A new database has the default privileges (PUBLIC may CONNECT and TEMPORARY); the recorded list replaces them.
    sql.push(`REVOKE ALL ON DATABASE ${d} FROM PUBLIC`);
    for (const a of p.acl) {
      if (a.grantee !== 'PUBLIC' && !roleExists(a.grantee)) {
        skipped.push(`${a.privilege} for ${a.grantee} (no such role here)`);
        continue;
      }
      sql.push(`GRANT ${a.privilege} ON DATABASE ${d} TO ${grantee(a.grantee)}${a.grantable ? ' WITH GRANT OPTION' : ''}`);
    }
  }
  for (const s of p.settings) {
    if (s.role !== null && !roleExists(s.role)) {
      skipped.push(`setting ${s.name} for ${s.role} (no such role here)`);
      continue;
    }
    sql.push(`${s.role === null ? `ALTER DATABASE ${d}` : `ALTER ROLE ${quoteIdent(s.role)} IN DATABASE ${d}`} SET ${quoteIdent(s.name)} TO ${settingValue(s.name, s.value)}`);
  }
  sql.push(`COMMENT ON DATABASE ${d} IS ${p.comment === null ? 'NULL' : literal(p.comment)}`);
  sql.push(`ALTER DATABASE ${d} CONNECTION LIMIT ${Number.isInteger(p.connectionLimit) ? p.connectionLimit : -1}`);
  return { sql, skipped };
}

/** Applies the properties on a maintenance connection; returns what was applied and what was skipped (for the log). */
export async function applyDatabaseProperties(admin: pg.Client, db: string, p: DatabaseProperties) {
  const names = [p.owner, ...p.acl.map((a) => a.grantee), ...p.settings.flatMap((s) => (s.role ? [s.role] : []))].filter((r) => r !== 'PUBLIC');
  const existing = new Set((await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [names])).rows.map((r) => r.rolname));
  const { sql, skipped } = propertiesSql(db, p, (r) => existing.has(r));
  for (const s of sql) await admin.query(s);
  return { applied: sql.length, skipped };
}

/** One line for the preflight and the log. */
export function describeProperties(p: DatabaseProperties | null): string {
  if (!p) return NOT_RECORDED;
  const acl = p.aclIsDefault ? 'default privileges' : `privileges: ${p.acl.map((a) => `${a.privilege} to ${a.grantee}`).join(', ') || 'none'}`;
  return [
    `owner ${p.owner}`,
    acl,
    p.settings.length ? `settings: ${p.settings.map((s) => `${s.role ? `${s.role} in db: ` : ''}${s.name}=${s.value}`).join(', ')}` : 'no settings',
    p.comment !== null ? `comment "${p.comment}"` : 'no comment',
    p.connectionLimit >= 0 ? `connection limit ${p.connectionLimit}` : 'no connection limit',
  ].join('; ');
}
