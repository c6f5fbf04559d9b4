// Finds PostgreSQL client tools of every installed major and picks, per server, one at least as new as the server.
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UserError } from '../../lib/errors';
import { runTool } from './run-tool';

/** Discovery is cached and shared by every job, so no job's cancel may cut it short. */
const never = new AbortController().signal;

export const toolNames = ['pg_dump', 'pg_dumpall', 'pg_restore', 'psql', 'pg_basebackup'] as const;
export type ToolName = (typeof toolNames)[number];

export interface ToolSet {
  major: number;
  version: string;
  binDir: string;
  path: (tool: ToolName) => string;
}

/** Candidate folders: configured ones, /usr/lib/postgresql/<major>/bin, pg_config --bindir, PATH. */
async function candidateDirs(extra: string[]): Promise<string[]> {
  const dirs = [...extra];
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) for (const m of readdirSync(root)) dirs.push(join(root, m, 'bin'));
  const cfg = await runTool({ exe: 'pg_config', args: ['--bindir'], signal: never });
  if (cfg.exitCode === 0 && cfg.stdout.trim()) dirs.push(cfg.stdout.trim());
  for (const p of (process.env.PATH ?? '').split(delimiter)) if (p) dirs.push(p);
  return [...new Set(dirs)];
}

const cache = new Map<string, Promise<ToolSet[]>>();

/** Every distinct pg_dump found, newest major first (Debian's /usr/bin wrappers resolve to a real bin dir). */
export function discoverTools(extraDirs: string[] = configuredDirs()): Promise<ToolSet[]> {
  const key = extraDirs.join('\0');
  if (!cache.has(key)) cache.set(key, discover(extraDirs));
  return cache.get(key)!;
}

export function configuredDirs(): string[] {
  return (process.env.LIFEBOAT_PG_BIN_DIRS ?? '').split(delimiter).filter(Boolean);
}

async function discover(extraDirs: string[]): Promise<ToolSet[]> {
  const byMajor = new Map<number, ToolSet>();
  for (const dir of await candidateDirs(extraDirs)) {
    const exe = join(dir, 'pg_dump');
    if (!existsSync(exe)) continue;
    const res = await runTool({ exe, args: ['--version'], signal: never });
    const m = /(\d+)(?:\.(\d+))?/.exec(res.stdout);
    if (res.exitCode !== 0 || !m) continue;
    const major = Number(m[1]);
    // /usr/bin/pg_dump on Debian is a wrapper; prefer the versioned bin dir when both report the same major.
    if (byMajor.has(major) && !dir.startsWith('/usr/lib/postgresql')) continue;
    byMajor.set(major, {
      major,
      version: res.stdout.trim().replace(/^pg_dump \(PostgreSQL\) /, ''),
      binDir: dir,
      path: (tool) => join(dir, tool),
    });
  }
  return [...byMajor.values()].sort((a, b) => b.major - a.major);
}

/** The tool set for a server of `serverMajor`: the oldest installed major that is >= the server's. */
export async function toolsFor(serverMajor: number, serverVersion: string): Promise<ToolSet> {
  const all = await discoverTools();
  const fit = all.filter((t) => t.major >= serverMajor).sort((a, b) => a.major - b.major)[0];
  if (fit) return fit;
  const newest = all[0];
  throw new UserError(
    'TOOL_TOO_OLD',
    newest
      ? `The server is PostgreSQL ${serverMajor} (${serverVersion}); the newest pg_dump found is ${newest.major} (${newest.binDir}). pg_dump cannot dump a server newer than itself.`
      : `The server is PostgreSQL ${serverMajor}; no pg_dump was found on the worker host.`,
    `Install postgresql-client-${serverMajor} on the worker host (or add its bin folder to LIFEBOAT_PG_BIN_DIRS).`,
  );
}

export function parseServerVersionNum(num: string | number): { major: number } {
  const n = Number(num);
  return { major: n >= 100000 ? Math.floor(n / 10000) : Math.floor(n / 100) };
}

