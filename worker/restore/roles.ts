// Missing owner roles, created from the saved globals (pg_dumpall --globals-only) only as far as an admin allowed:
// never SUPERUSER, CREATEROLE, REPLICATION, BYPASSRLS or the old password hash unless each was ticked. The statements
// are built here from parsed attributes; no line of the globals file is run as it is.
import { ToolError } from '../../lib/jobs/tool-error';
import { runPsql } from '../pg/psql';
import { tail } from '../pg/run-tool';
import { quoteIdent } from '../pg/sql';
import { readQualifiedName } from './owned-sequences';

export interface RoleGrants {
  superuser: boolean;
  createrole: boolean;
  replication: boolean;
  bypassrls: boolean;
  password: boolean;
}

export interface SavedRole {
  name: string;
  /** Attribute words of its ALTER ROLE ... WITH line (LOGIN, CREATEDB, ...), without PASSWORD and VALID UNTIL. */
  attributes: string[];
  connectionLimit: number | null;
  /** The saved hash (SCRAM or md5), never a plain password: pg_dumpall writes what pg_authid holds. */
  passwordHash: string | null;
}

/** The roles of a globals file: each CREATE ROLE with the attributes of its ALTER ROLE ... WITH line. */
export function parseGlobals(globals: string): Map<string, SavedRole> {
  const roles = new Map<string, SavedRole>();
  for (const line of globals.split('\n')) {
    const create = /^CREATE ROLE /.exec(line);
    if (create) {
      const { parts } = readQualifiedName(line, create[0].length);
      if (parts.length === 1) roles.set(parts[0]!, { name: parts[0]!, attributes: [], connectionLimit: null, passwordHash: null });
      continue;
    }
    const alter = /^ALTER ROLE /.exec(line);
    if (!alter) continue;
    const { parts, end } = readQualifiedName(line, alter[0].length);
    const role = parts.length === 1 ? roles.get(parts[0]!) : undefined;
    const rest = line.slice(end);
    if (!role || !rest.startsWith(' WITH ')) continue; // "ALTER ROLE x SET ..." (settings) are not carried over
    let s = rest.slice(' WITH '.length).replace(/;\s*$/, '');
    const pw = / PASSWORD '((?:[^']|'')*)'/.exec(` ${s}`);
    if (pw) role.passwordHash = pw[1]!.replaceAll("''", "'");
    s = ` ${s}`.replace(/ PASSWORD '(?:[^']|'')*'/, '').replace(/ VALID UNTIL '(?:[^']|'')*'/, '');
    const limit = / CONNECTION LIMIT (-?\d+)/.exec(s);
    if (limit) role.connectionLimit = Number(limit[1]);
    role.attributes = s.replace(/ CONNECTION LIMIT -?\d+/, '').trim().split(/\s+/).filter(Boolean);
  }
  return roles;
}

const guarded: [keyof RoleGrants, string][] = [
  ['superuser', 'SUPERUSER'],
  ['createrole', 'CREATEROLE'],
  ['replication', 'REPLICATION'],
  ['bypassrls', 'BYPASSRLS'],
];

/** The attributes the role will get: the saved ones, with each guarded one only when ticked and saved. */
export function plannedAttributes(role: SavedRole, grants: RoleGrants): string[] {
  const saved = new Set(role.attributes);
  const out: string[] = [];
  for (const [tick, word] of guarded) out.push(grants[tick] && saved.has(word) ? word : `NO${word}`);
  out.push(saved.has('NOINHERIT') ? 'NOINHERIT' : 'INHERIT');
  out.push(saved.has('CREATEDB') ? 'CREATEDB' : 'NOCREATEDB');
  out.push(saved.has('LOGIN') ? 'LOGIN' : 'NOLOGIN');
  if (role.connectionLimit !== null && role.connectionLimit >= 0) out.push(`CONNECTION LIMIT ${role.connectionLimit}`);
  return out;
}

export interface RolePlan {
  name: string;
  attributes: string[];
  /** True when the saved password hash will be set (ticked and saved). */
  password: boolean;
}

export function planRoles(globals: Map<string, SavedRole>, names: string[], grants: RoleGrants): RolePlan[] {
  return names.flatMap((n) => {
    const r = globals.get(n);
    return r ? [{ name: n, attributes: plannedAttributes(r, grants), password: grants.password && !!r.passwordHash }] : [];
  });
}

/** One CREATE ROLE a role, from the plan; the hash is a literal in the statement (run through stdin, never argv). */
export function createRolesSql(globals: Map<string, SavedRole>, plans: RolePlan[]): string {
  return plans
    .map((p) => {
      const hash = p.password ? globals.get(p.name)?.passwordHash : null;
      return `CREATE ROLE ${quoteIdent(p.name)} WITH ${p.attributes.join(' ')}${hash ? ` PASSWORD '${hash.replaceAll("'", "''")}'` : ''};`;
    })
    .join('\n') + '\n';
}

/**
 * Runs the CREATE ROLE statements with psql in the maintenance database; the statements go through stdin, so a
 * password hash is never in argv, and psql's output reaches the job row with any hash masked.
 */
export async function createRoles(psql: string, globals: Map<string, SavedRole>, plans: RolePlan[], run: { env: Record<string, string>; signal: AbortSignal }): Promise<void> {
  // Quiet, stopping at the first failing statement, in the maintenance database; the statements from stdin.
  const r = await runPsql({ exe: psql, env: run.env, database: 'postgres', quiet: true, input: createRolesSql(globals, plans), signal: run.signal });
  if (r.exitCode !== 0) {
    const out = `${r.stdout}${r.stderrTail}`.replace(/PASSWORD '[^']*'/g, "PASSWORD '…'");
    throw new ToolError('ROLES_MISSING', `Creating the roles ${plans.map((x) => x.name).join(', ')} failed.`, tail(out));
  }
}
