// pg_dumpall --globals-only: roles and tablespaces, which a per-database dump does not contain. Argv builder and
// runner; a backup user that cannot read role passwords (not a superuser) gets the roles without them.
import { requireSuccess, runTool } from './run-tool';

export function pgDumpallGlobalsArgs(noRolePasswords: boolean): string[] {
  return [
    // --globals-only: roles and tablespaces, which a per-database dump does not contain.
    '--globals-only',
    // --no-password: never prompt; the password comes from the passfile or the run fails at once.
    '--no-password',
    // --no-role-passwords: needed when the backup user cannot read pg_authid (not a superuser).
    ...(noRolePasswords ? ['--no-role-passwords'] : []),
  ];
}

export interface Globals {
  sql: string;
  /** False when the user could not read pg_authid and the roles were dumped without passwords. */
  rolePasswords: boolean;
}

/** Dumps the globals; on "permission denied" tries once more without role passwords. BACKUP_TOOL_FAILED otherwise. */
export async function dumpGlobals(o: { exe: string; env: Record<string, string>; signal: AbortSignal; onLine?: (line: string) => void }): Promise<Globals> {
  const run = (noRolePasswords: boolean) => runTool({ exe: o.exe, args: pgDumpallGlobalsArgs(noRolePasswords), env: o.env, signal: o.signal, onLine: o.onLine, maxBuffer: 256 * 1024 * 1024 });
  let r = await run(false);
  let rolePasswords = true;
  if (r.exitCode !== 0 && /permission denied/.test(r.stderrTail)) {
    rolePasswords = false;
    r = await run(true);
  }
  requireSuccess(r, 'pg_dumpall --globals-only', 'BACKUP_TOOL_FAILED');
  return { sql: r.stdout, rolePasswords };
}
