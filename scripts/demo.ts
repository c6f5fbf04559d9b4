// `npm run demo`: Lifeboat on its own private PostgreSQL in the data folder: install what is missing, migrate,
// seed, build, start web and worker, print the URL and logins; Ctrl-C stops everything and keeps the data.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { findServerBinDir, startCluster, type RunningCluster } from './lib/cluster';
import { migrate } from './lib/migrate';
import { installQueueSchema } from './lib/queue-schema';
import { ensureBuild, freePort, root, startWeb, startWorker, stopChild, waitForHealth, type Child, type ConsoleEnv } from './lib/stack';

const say = (line: string) => console.log(`[demo] ${line}`);

// install: PostgreSQL 15 server and client tools and zstd from Debian when absent (as root), else the one command to run.
async function ensurePostgres(): Promise<void> {
  const haveServer = (() => {
    try {
      findServerBinDir();
      return true;
    } catch {
      return false;
    }
  })();
  const haveClient = existsSync('/usr/lib/postgresql/15/bin/pg_dump') || (await execa('pg_dump', ['--version'], { reject: false })).exitCode === 0;
  const haveZstd = (await execa('zstd', ['--version'], { reject: false })).exitCode === 0;
  if (haveServer && haveClient && haveZstd) return;
  const cmd = 'apt-get install -y postgresql-15 postgresql-client-15 zstd';
  if (process.getuid?.() !== 0) {
    console.error(`PostgreSQL 15 is not installed. Install it, then run the demo again:\n  sudo ${cmd}`);
    process.exit(1);
  }
  say('installing PostgreSQL 15 (server and client tools) and zstd from Debian');
  await execa('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  await execa('apt-get', ['install', '-y', '-qq', 'postgresql-15', 'postgresql-client-15', 'zstd'], { stdio: 'inherit', env: { DEBIAN_FRONTEND: 'noninteractive' } });
}

interface Secrets {
  NEXTAUTH_SECRET: string;
  LIFEBOAT_MASTER_KEY: string;
  LIFEBOAT_PG_PASSWORD: string;
  LIFEBOAT_PG_PORT: string;
  DEMO_ADMIN_PASSWORD: string;
  DEMO_OPERATOR_PASSWORD: string;
  DEMO_VIEWER_PASSWORD: string;
}

// secrets: generated at the first run, kept in the data folder, readable only by its owner.
async function loadSecrets(dataDir: string): Promise<Secrets> {
  const file = join(dataDir, 'secrets.env');
  const existing: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m) existing[m[1]!] = m[2]!;
    }
  }
  const b64 = (n: number) => randomBytes(n).toString('base64');
  const word = () => randomBytes(9).toString('base64url');
  const secrets: Secrets = {
    NEXTAUTH_SECRET: existing.NEXTAUTH_SECRET ?? b64(32),
    LIFEBOAT_MASTER_KEY: existing.LIFEBOAT_MASTER_KEY ?? b64(32),
    LIFEBOAT_PG_PASSWORD: existing.LIFEBOAT_PG_PASSWORD ?? randomBytes(18).toString('hex'),
    LIFEBOAT_PG_PORT: existing.LIFEBOAT_PG_PORT ?? String(await freePort(54329)),
    DEMO_ADMIN_PASSWORD: existing.DEMO_ADMIN_PASSWORD ?? `admin-${word()}`,
    DEMO_OPERATOR_PASSWORD: existing.DEMO_OPERATOR_PASSWORD ?? `operator-${word()}`,
    DEMO_VIEWER_PASSWORD: existing.DEMO_VIEWER_PASSWORD ?? `viewer-${word()}`,
  };
  const text = `# Lifeboat demo secrets, generated at the first run. Keep this file private.\n${Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
  return secrets;
}

async function ensureDatabase(cluster: RunningCluster, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: cluster.url('postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

const dataDir = resolve(process.env.LIFEBOAT_DATA_DIR ?? join(root, '.lifeboat'));
let cluster: RunningCluster | undefined;
// A Ctrl-C while the cluster is still starting must wait for it, then stop it.
let clusterStarting: Promise<RunningCluster> | undefined;
let web: Child | undefined;
let worker: Child | undefined;
let stopping = false;

async function shutdown(why: string, code: number) {
  if (stopping) return;
  stopping = true;
  say(`${why}: stopping the web console, the worker and PostgreSQL…`);
  await Promise.all([stopChild(web), stopChild(worker, 20_000)]);
  cluster ??= await clusterStarting?.catch(() => undefined);
  await cluster?.stop('fast').catch((err) => say(`PostgreSQL did not stop cleanly: ${err.message}`));
  say(`stopped. Your data is kept in ${dataDir}; run the demo again to continue.`);
  process.exit(code);
}

/**
 * Where the demo's cluster lives: in the data folder, unless the demo runs as root and the postgres OS user (which
 * PostgreSQL runs as) cannot pass through the folders above it, as in a clone under `mktemp -d` (mode 0700). Then
 * it lives in /var/lib/lifeboat/demo-<hash of the data folder>/, the same folder on every run, and the demo says so;
 * no folder of yours has its mode changed.
 */
async function clusterHome(): Promise<string> {
  if (process.getuid?.() !== 0) return dataDir;
  const reach = await execa('runuser', ['-u', 'postgres', '--', 'test', '-x', dataDir], { reject: false, cwd: '/' });
  if (reach.exitCode === 0) return dataDir;
  const home = join('/var/lib/lifeboat', `demo-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  await mkdir('/var/lib/lifeboat', { recursive: true, mode: 0o711 });
  await chmod('/var/lib/lifeboat', 0o711);
  await mkdir(home, { recursive: true, mode: 0o711 });
  await chmod(home, 0o711);
  say(`the postgres OS user cannot enter ${dataDir} (a folder above it is closed to others), so the cluster lives in ${home}`);
  return home;
}

async function main() {
  process.on('SIGINT', () => void shutdown('Ctrl-C', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));

  await ensurePostgres();

  // data folder: the postgres OS user must be able to pass through it to its cluster folder.
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  await chmod(dataDir, 0o711);
  await mkdir(join(dataDir, 'backups'), { recursive: true, mode: 0o700 });
  const secrets = await loadSecrets(dataDir);

  const pgHome = await clusterHome();
  say(`starting the private PostgreSQL in ${join(pgHome, 'pg')}`);
  clusterStarting = startCluster({
    dataDir: join(pgHome, 'pg'),
    port: Number(secrets.LIFEBOAT_PG_PORT),
    password: secrets.LIFEBOAT_PG_PASSWORD,
    logFile: join(pgHome, 'postgres.log'),
  });
  cluster = await clusterStarting;
  if (stopping) return;
  await ensureDatabase(cluster, 'lifeboat');
  const databaseUrl = cluster.url('lifeboat');

  say('applying migrations');
  const { applied } = await migrate(databaseUrl, { log: (l) => say(l) });
  await installQueueSchema(databaseUrl);
  if (!applied.length) say('database schema is up to date');

  // seed: users and the sample database; existing ones are kept.
  await ensureBuild(say); // also generates the Prisma client the seed needs
  // Imported only now: the seed loads the generated client, which a clone run without scripts/demo.sh may not have yet.
  const { seedDemoDatabase, seedDemoTarget, seedUsers } = await import('./lib/seed');
  const logins = await seedUsers(databaseUrl, [
    { email: 'admin@lifeboat.local', name: 'Demo Admin', role: 'admin', password: secrets.DEMO_ADMIN_PASSWORD },
    { email: 'operator@lifeboat.local', name: 'Demo Operator', role: 'operator', password: secrets.DEMO_OPERATOR_PASSWORD },
    { email: 'viewer@lifeboat.local', name: 'Demo Viewer', role: 'viewer', password: secrets.DEMO_VIEWER_PASSWORD },
  ]);
  const demoDb = await seedDemoDatabase(cluster.url('postgres'), 'eitherway');
  if (demoDb.created) say('created the sample database "eitherway" (core.users, core.sessions)');

  const host = process.env.LIFEBOAT_HOST ?? '127.0.0.1';
  const port = await freePort(Number(process.env.LIFEBOAT_PORT ?? 3000));
  const url = `http://${host}:${port}`;
  const env: ConsoleEnv = {
    ...(process.env as Record<string, string>),
    DATABASE_URL: databaseUrl,
    NEXTAUTH_SECRET: secrets.NEXTAUTH_SECRET,
    NEXTAUTH_URL: url,
    LIFEBOAT_MASTER_KEY: secrets.LIFEBOAT_MASTER_KEY,
    LIFEBOAT_DATA_DIR: dataDir,
  };

  // The lib reads these from the environment: register the sample target and, at the first start, back it up.
  Object.assign(process.env, { DATABASE_URL: databaseUrl, LIFEBOAT_MASTER_KEY: secrets.LIFEBOAT_MASTER_KEY });
  const demoTarget = await seedDemoTarget({
    port: cluster.port,
    password: secrets.LIFEBOAT_PG_PASSWORD,
    backupsDir: join(dataDir, 'backups'),
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
  });
  if (demoTarget.created) say('registered "eitherway" as a target with the runbook schedule (daily 02:00, kept 30 days)');

  if (stopping) return;
  say('starting the web console and the worker');
  web = startWeb(env, port, (l) => console.log(`[web] ${l}`));
  worker = startWorker(env, (l) => console.log(`[worker] ${l}`));
  for (const [name, child] of [['web console', web], ['worker', worker]] as const) {
    void child.then((r) => {
      if (!stopping) void shutdown(`the ${name} exited unexpectedly (code ${r.exitCode ?? r.signal})`, 1);
    });
  }
  await waitForHealth(url, web);
  if (demoTarget.created) {
    const { startBackup } = await import('../lib/backups/start-backup');
    const { systemActor } = await import('../lib/audit/write-audit');
    const { enqueueJob } = await import('../lib/jobs/enqueue-job');
    await enqueueJob({ ...systemActor, role: 'admin' }, 'test-connection', { targetId: demoTarget.targetId }, { targetId: demoTarget.targetId });
    const job = await startBackup({ ...systemActor, role: 'admin' }, demoTarget.targetId);
    say(`first backup of "eitherway" started (job ${job.id}), so the history and chart are not empty`);
  }

  console.log(`
  Lifeboat is running at ${url}

  Sign in as:
${logins.map((l) => `    ${l.role.padEnd(9)} ${l.email.padEnd(26)} ${l.created ? l.password : `${l.password} (unless you changed it)`}`).join('\n')}

  Console database: ${databaseUrl.replace(/:[^:@/]+@/, ':****@')}
  Sample database:  eitherway on 127.0.0.1:${cluster.port}
  Data folder:      ${dataDir} (secrets in secrets.env, mode 0600)

  Press Ctrl-C to stop; the data is kept for the next run.
`);
}

main().catch(async (err) => {
  console.error(`[demo] failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown('failed', 1);
});
