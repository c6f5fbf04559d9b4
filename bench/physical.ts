// npm run bench:physical: physical base backups of one cluster of about 1.3 GB of mixed data (the application-like
// database of bench/generate.ts, compressible, plus a table of random bytea, incompressible), three ways,
// alternating: the runbook's `pg_basebackup --format=tar --gzip --checkpoint=fast`, Lifeboat's default base backup
// job (server-side zstd, stored, read back and verified against backup_manifest), and pgBackRest's full backup
// (compress-type=zst, process-max=2, start-fast=y) of the same cluster. Each variant: median and range of wall time,
// CPU seconds of the tools (for the job: the worker with its children) and of the server (its backends, where
// server-side compression runs), and the size of what it stored. Last line:
//   bench:physical speedup=X size_ratio=Y vs_pgbackrest=Z
//   speedup: runbook wall / Lifeboat wall (goal >= 5); size_ratio: Lifeboat size / runbook size (goal <= 1.0);
//   vs_pgbackrest: pgBackRest wall / Lifeboat wall (goal >= 1.0). Medians over the rounds.
// Settings: BENCH_REPS (5), BENCH_APP_SCALE (0.65: about 830 MB of tables and indexes), BENCH_RANDOM_MB (450 at the
// default scale, scaled with it): about 1.3 GB of data files in all.
// pgBackRest runs with archive-check=n: the cluster has no archive_command, so its backup holds the data files
// only, where the other two also carry the WAL of the backup's range (a few segments).
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { pgCtlStart } from '../worker/pg/pg-ctl';
import { createAppDatabase } from './generate';
import { cpuSeconds, createDb, postmasterPid, say, settle, runMain, showStats, startBench, stats } from './harness';

const reps = Number(process.env.BENCH_REPS ?? 5);
const appScale = Number(process.env.BENCH_APP_SCALE ?? 0.65);
const randomMb = Number(process.env.BENCH_RANDOM_MB ?? Math.round((450 * appScale) / 0.65));
const isRoot = process.getuid?.() === 0;
const never = new AbortController().signal;

interface Sample {
  wall: number;
  size: number;
  /** CPU seconds: the tools (runbook, pgBackRest: this process's children; job: the worker with its children), the server's backends. */
  cpuTools: number;
  cpuServer: number;
  /** Job only: seconds in each step (take, store, verify and record). */
  steps?: { take: number; store: number; verify: number };
  /** Job only: the stored files and their sizes, MB. */
  files?: string;
}

const variants = ['runbook', 'lifeboat', 'pgbackrest'] as const;
type Variant = (typeof variants)[number];
const labels: Record<Variant, string> = {
  runbook: 'pg_basebackup -Ft --gzip -c fast (runbook)',
  lifeboat: 'Lifeboat default base backup job (verified)',
  pgbackrest: 'pgBackRest 2.45 full, zst, process-max=2',
};

function postgresIds(): { uid: number; gid: number } | undefined {
  if (!isRoot) return undefined;
  const m = /^postgres:[^:]*:(\d+):(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'));
  if (!m) throw new Error('running as root but there is no postgres OS user');
  return { uid: Number(m[1]), gid: Number(m[2]) };
}
const ids = postgresIds();
function mkdirOwned(p: string) {
  mkdirSync(p, { recursive: true, mode: 0o755 });
  if (ids) chownSync(p, ids.uid, ids.gid);
  return p;
}
/** As the postgres OS user, who owns the cluster's files (pgBackRest reads them directly). */
function asPostgres(exe: string, args: string[]) {
  // In a session of its own, as the worker is (autogroup scheduling shares a busy machine's CPU between sessions).
  return execa(isRoot ? 'runuser' : exe, isRoot ? ['-u', 'postgres', '--', exe, ...args] : args, { cwd: '/', reject: false, detached: true });
}

/** Bytes in the regular files under dir (a file gone between listing and stat, as a running server's temp files may be, counts 0). */
async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += await stat(join(e.parentPath, e.name)).then((s) => s.size, () => 0);
  }
  return n;
}

/** The incompressible part: random bytes in 256 KiB values (TOAST's pglz gives up on them, so they stay as they are). */
async function createRandomTable(url: string, mb: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE blobs (id int PRIMARY KEY, data bytea NOT NULL)');
    const rows = Math.round(mb * 4);
    for (let i = 0; i < rows; i += 8) {
      const n = Math.min(8, rows - i);
      const values = Array.from({ length: n }, (_, k) => `($${2 * k + 1}, $${2 * k + 2})`).join(', ');
      await client.query(`INSERT INTO blobs VALUES ${values}`, Array.from({ length: n }, (_, k) => [i + k, randomBytes(256 * 1024)]).flat());
    }
  } finally {
    await client.end();
  }
}

async function main() {
  const bench = await startBench();
  const { work, data } = bench;
  try {
    // The cluster again, with a unix socket (pgBackRest reaches a local server only through one) and the WAL
    // settings a base backup needs, stated (they are PostgreSQL's defaults); the rest as startBench made it.
    const sock = mkdirOwned(join(work, 'sock'));
    await data.stop();
    const started = await pgCtlStart(
      data.binDir,
      {
        dataDir: data.dataDir,
        logFile: `${data.dataDir}.log`,
        settings: {
          port: String(data.port),
          listen_addresses: '127.0.0.1',
          unix_socket_directories: sock,
          fsync: 'off',
          synchronous_commit: 'off',
          full_page_writes: 'off',
          shared_buffers: '1GB',
          max_wal_size: '4GB',
          wal_level: 'replica',
          max_wal_senders: '10',
        },
        timeoutSeconds: 60,
      },
      never,
    );
    if (started.exitCode !== 0) throw new Error(`restart of the data cluster failed: ${started.output}`);

    say(`creating bench_app (application-like, scale ${appScale}) and ${randomMb} MB of random bytea`);
    await createDb(data, 'bench_app');
    await createAppDatabase(data.url('bench_app'), appScale);
    await createRandomTable(data.url('bench_app'), randomMb);
    // A checkpoint now, so the first round's does not write out the load for it.
    const admin = new pg.Client({ connectionString: data.url('postgres') });
    await admin.connect();
    await admin.query('CHECKPOINT');
    await admin.end();
    // The data a base backup copies: the data directory without pg_wal (the load's WAL, recycled later, is not backed up).
    const walBytes = await dirBytes(join(data.dataDir, 'pg_wal'));
    const clusterBytes = (await dirBytes(data.dataDir)) - walBytes;
    say(`cluster ${(clusterBytes / 1e6).toFixed(0)} MB of data files, ${(walBytes / 1e6).toFixed(0)} MB in pg_wal (${data.dataDir}, PostgreSQL ${data.major})`);
    const server = postmasterPid(data);

    // pgBackRest: its configuration and repository in the work folder, owned by postgres; one stanza.
    const repo = mkdirOwned(join(work, 'pgbr-repo'));
    const conf = join(work, 'pgbackrest.conf');
    writeFileSync(
      conf,
      [
        '[global]',
        `repo1-path=${repo}`,
        'repo1-retention-full=1000', // no expiry during the run (and no warning that retention is unset)
        'compress-type=zst',
        'process-max=2',
        'start-fast=y',
        'archive-check=n',
        'log-level-console=warn',
        'log-level-stderr=warn',
        'log-level-file=off',
        `lock-path=${mkdirOwned(join(work, 'pgbr-lock'))}`,
        `spool-path=${mkdirOwned(join(work, 'pgbr-spool'))}`,
        '[bench]',
        `pg1-path=${data.dataDir}`,
        `pg1-port=${data.port}`,
        `pg1-socket-path=${sock}`,
        `pg1-user=${data.superuser}`,
        '',
      ].join('\n'),
    );
    chmodSync(conf, 0o644);
    const pgbr = (args: string[]) => asPostgres('pgbackrest', [`--config=${conf}`, '--stanza=bench', ...args]);
    const sc = await pgbr(['stanza-create']);
    if (sc.exitCode !== 0) throw new Error(`pgbackrest stanza-create failed: ${sc.stderr}${sc.stdout}`);

    // Lifeboat: a console, a worker, a storage folder, the target.
    const lb = await bench.startConsole();
    const { db, storage, actor } = lb;
    const { createTarget } = await import('../lib/targets/manage-targets');
    const { startBaseBackup } = await import('../lib/backups/start-base-backup');
    const target = await createTarget(actor, { name: 'bench_physical', host: '127.0.0.1', port: data.port, dbUser: data.superuser, password: data.password ?? null, sslMode: 'disable', database: 'postgres', keyTables: [], checkStatements: [], workerPool: 'default', storageId: storage.id }, null);
    const targetId = target.id as string;
    mkdirSync(join(work, 'runbook'));

    const runJob = async (): Promise<Sample> => {
      const cpu0 = [cpuSeconds(lb.workerPid), cpuSeconds(server)];
      const job = await startBaseBackup(actor, targetId, {});
      const row = await lb.waitJob(job.id);
      await settle();
      const cpu1 = [cpuSeconds(lb.workerPid), cpuSeconds(server)];
      const b = await db.backupLog.findFirst({ where: { jobId: job.id } });
      const lines = await db.jobLog.findMany({ where: { jobId: job.id, line: { startsWith: 'step: ' } }, orderBy: { id: 'asc' } });
      const at = (step: string) => lines.find((l) => l.line === `step: ${step}`)?.at.getTime() ?? NaN;
      const [take, store, verify, end] = [at('taking the base backup'), at('storing'), at('verifying against backup_manifest'), row.finishedAt!.getTime()];
      // Job time: from the worker picking it up to done (plan, pg_basebackup, store, read back and verify, manifest, row).
      return {
        wall: (row.finishedAt!.getTime() - row.startedAt!.getTime()) / 1000,
        size: Number(b!.backupSize),
        cpuTools: cpu1[0]! - cpu0[0]!,
        cpuServer: cpu1[1]! - cpu0[1]!,
        steps: { take: (store - take) / 1000, store: (verify - store) / 1000, verify: (end - verify) / 1000 },
        files: ((row.result as { files?: { name: string; size: number }[] } | null)?.files ?? []).map((f) => `${f.name} ${(f.size / 1e6).toFixed(1)}`).join(', '),
      };
    };
    const runTool = async (variant: 'runbook' | 'pgbackrest', i: number): Promise<Sample> => {
      const dir = join(work, 'runbook', `r${i}`);
      const repoBefore = variant === 'pgbackrest' ? await dirBytes(repo) : 0;
      const cpu0 = [cpuSeconds(process.pid), cpuSeconds(server)];
      const own0 = process.cpuUsage();
      const t = process.hrtime.bigint();
      if (variant === 'runbook') {
        // The runbook's line, its flags verbatim (WAL streamed into pg_wal.tar.gz, pg_basebackup's default).
        await execa(join(data.binDir, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(data.port), '-U', data.superuser, '-D', dir, '--format=tar', '--gzip', '--checkpoint=fast'], { detached: true, env: data.password ? { PGPASSWORD: data.password } : {} });
      } else {
        const res = await pgbr(['--type=full', 'backup']);
        if (res.exitCode !== 0) throw new Error(`pgbackrest backup failed (exit ${res.exitCode}): ${res.stderr}${res.stdout}`);
      }
      const wall = Number(process.hrtime.bigint() - t) / 1e9;
      await settle();
      const self = process.cpuUsage(own0);
      const cpu1 = [cpuSeconds(process.pid), cpuSeconds(server)];
      let size: number;
      if (variant === 'runbook') {
        size = await dirBytes(dir);
        await rm(dir, { recursive: true });
      } else {
        // The repository's size of this backup as pgBackRest records it; the folder's growth as a cross-check.
        const info = JSON.parse((await pgbr(['--output=json', 'info'])).stdout) as { backup: { info: { repository: { size: number } } }[] }[];
        size = info[0]!.backup.at(-1)!.info.repository.size;
        const growth = (await dirBytes(repo)) - repoBefore;
        if (Math.abs(growth - size) > 0.05 * size) say(`pgBackRest: repository grew ${(growth / 1e6).toFixed(1)} MB, its info says ${(size / 1e6).toFixed(1)} MB`);
      }
      // The children only: this process's own CPU meanwhile is the bench waiting, not the tools.
      return { wall, size, cpuTools: cpu1[0]! - cpu0[0]! - (self.user + self.system) / 1e6, cpuServer: cpu1[1]! - cpu0[1]! };
    };

    // Alternate the variants so drift (cache, clocks, other load) hits each alike.
    const r: Record<Variant, Sample[]> = { runbook: [], lifeboat: [], pgbackrest: [] };
    for (let i = 0; i < reps; i++) {
      for (const variant of i % 2 === 0 ? variants : [...variants].reverse()) {
        const s = variant === 'lifeboat' ? await runJob() : await runTool(variant, i);
        r[variant].push(s);
        const steps = s.steps ? `; take ${s.steps.take.toFixed(2)} s, store ${s.steps.store.toFixed(2)} s, verify+record ${s.steps.verify.toFixed(2)} s; files MB: ${s.files}` : '';
        say(`${variant.padEnd(10)} run ${i + 1}: ${s.wall.toFixed(2)} s, ${(s.size / 1e6).toFixed(1)} MB, cpu s: tools ${s.cpuTools.toFixed(2)}, server ${s.cpuServer.toFixed(2)}${steps}`);
      }
    }

    console.log('');
    console.log(`${reps} alternating rounds on a ${(clusterBytes / 1e6).toFixed(0)} MB cluster; wall s and cpu s as median (min-max); "tools" = pg_basebackup / pgBackRest (for the job: the worker with its children), "server" = the PostgreSQL backends (server-side compression runs there)`);
    console.log('variant                                       wall s               size MB   MB/s   cpu tools          cpu server');
    const med: Record<Variant, { w: number; s: number }> = {} as Record<Variant, { w: number; s: number }>;
    for (const v of variants) {
      const w = stats(r[v].map((x) => x.wall));
      const s = stats(r[v].map((x) => x.size)).median;
      console.log(`${labels[v].padEnd(45)} ${showStats(w).padEnd(20)} ${(s / 1e6).toFixed(1).padStart(8)} ${(clusterBytes / 1e6 / w.median).toFixed(1).padStart(6)}   ${showStats(stats(r[v].map((x) => x.cpuTools))).padEnd(18)} ${showStats(stats(r[v].map((x) => x.cpuServer)))}`);
      med[v] = { w: w.median, s };
    }
    const steps = r.lifeboat.map((x) => x.steps!);
    console.log(`Lifeboat job steps, s: take ${showStats(stats(steps.map((x) => x.take)))}, store ${showStats(stats(steps.map((x) => x.store)))}, verify+record ${showStats(stats(steps.map((x) => x.verify)))}`);
    console.log(`bench:physical speedup=${(med.runbook.w / med.lifeboat.w).toFixed(2)} size_ratio=${(med.lifeboat.s / med.runbook.s).toFixed(3)} vs_pgbackrest=${(med.pgbackrest.w / med.lifeboat.w).toFixed(2)}`);
  } finally {
    await bench.stop();
  }
}

runMain(main);
