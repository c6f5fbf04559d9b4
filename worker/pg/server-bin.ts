// The PostgreSQL server programs (postgres, pg_ctl) of one major version on this worker host, for a point-in-time
// recovery: Debian's /usr/lib/postgresql/<major>/bin, or a folder named by LIFEBOAT_PG_SERVER_BIN_<major>. The
// version is asked of the program itself (postgres --version), so a folder holding another major is not taken.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { libEnv } from './pg-ctl';
import { runTool } from './run-tool';

const SYSTEM_ROOT = '/usr/lib/postgresql';

/** The folders looked in for `major`, in order (for the message when none fits). */
export function serverBinCandidates(major: number, env: NodeJS.ProcessEnv = process.env): string[] {
  const own = env[`LIFEBOAT_PG_SERVER_BIN_${major}`];
  return [...(own ? [own] : []), path.join(SYSTEM_ROOT, String(major), 'bin')];
}

/** "postgres (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)" -> 15; null when it is not such a line. */
export function majorOfVersionLine(line: string): number | null {
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(line);
  return m ? Number(m[1]) : null;
}

/** The first candidate folder whose postgres and pg_ctl are there and whose postgres is of `major`; null when none. */
export async function findServerBinDir(major: number, signal: AbortSignal): Promise<{ binDir: string | null; looked: string[] }> {
  const looked = serverBinCandidates(major);
  for (const dir of looked) {
    if (!existsSync(path.join(dir, 'postgres')) || !existsSync(path.join(dir, 'pg_ctl'))) continue;
    // --version is answered before postgres refuses to run as root, so no runuser is needed.
    const r = await runTool({ exe: path.join(dir, 'postgres'), args: ['--version'], env: libEnv(dir), signal, stdin: 'ignore', stdout: 'buffer' });
    if (r.exitCode === 0 && majorOfVersionLine(r.stdout) === major) return { binDir: dir, looked };
  }
  return { binDir: null, looked };
}
