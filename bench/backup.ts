// npm run bench:backup: the runbook's `pg_dump -Fc -Z9` against the same flags through Lifeboat's job path, and the
// raw `pg_dump -Fc -Z0 | zstd` straight to a file against Lifeboat's default job (the same pipeline, hashed, stored,
// verified), alternating, on pgbench and on an application-like database with realistic entropy. Each variant:
// median and range of wall time over the rounds, and the CPU seconds of the tools, the worker and the server, which
// show what the job itself costs even on a busy machine. The last line is the summary.
import { execa } from 'execa';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultDumpSettings } from '../worker/pg/pg-dump';
import { zstdThreads } from '../worker/pg/pipeline';
import { createAppDatabase, createPgbench } from './generate';
import { cpuSeconds, createDb, dbBytes, postmasterPid, say, settle, runMain, showStats, startBench, stats } from './harness';

const reps = Number(process.env.BENCH_REPS ?? 5);
const appScale = Number(process.env.BENCH_APP_SCALE ?? 0.65); // about 1 GB on disk
const pgbenchScale = Number(process.env.BENCH_PGBENCH_SCALE ?? 50);
const PG_DUMP = '/usr/lib/postgresql/15/bin/pg_dump';

interface Sample {
  wall: number;
  size: number;
  /** CPU seconds: pg_dump and zstd (raw: this process's children; job: the worker with its children), server backends. */
  cpuTools: number;
  cpuServer: number;
  /** Jobs only: seconds from the end of pg_dump (the "verifying" step) to the job's end: what the job adds after the dump. */
  after?: number;
}

const variants = ['raw-z9', 'job-z9', 'raw-zstd', 'default'] as const;
type Variant = (typeof variants)[number];
const { zstdLevel } = defaultDumpSettings;
const threads = zstdThreads(defaultDumpSettings.zstdThreads);
const labels: Record<Variant, string> = {
  'raw-z9': 'pg_dump -Fc -Z9 (runbook, raw)',
  'job-z9': 'same flags through Lifeboat job',
  'raw-zstd': `pg_dump -Fc -Z0 | zstd -${zstdLevel} -T${threads} > file (raw)`,
  default: `Lifeboat default (same, as a job)`,
};

async function main() {
  const bench = await startBench();
  const { work, data } = bench;
  try {
    // data: the two databases to back up.
    say(`creating bench_app (application-like, scale ${appScale}) and bench_pgbench (scale ${pgbenchScale})`);
    await createDb(data, 'bench_app');
    await createAppDatabase(data.url('bench_app'), appScale);
    await createDb(data, 'bench_pgbench');
    await createPgbench(data.url('bench_pgbench'), pgbenchScale);
    const server = postmasterPid(data);

    // console: its own cluster, a worker, a storage folder, one target per database and one schedule per variant.
    const lb = await bench.startConsole();
    const { db, storage, actor } = lb;
    const { createTarget } = await import('../lib/targets/manage-targets');
    const { createSchedule } = await import('../lib/schedules/manage-schedules');
    const { startBackup } = await import('../lib/backups/start-backup');
    await execa('mkdir', ['-p', join(work, 'raw')]);

    const results: Record<string, Record<Variant, Sample[]>> = {};
    for (const database of ['bench_pgbench', 'bench_app']) {
      const target = await createTarget(actor, { name: database, host: '127.0.0.1', port: data.port, dbUser: data.superuser, password: data.password ?? null, sslMode: 'disable', database, keyTables: [], checkStatements: [], workerPool: 'default', storageId: storage.id }, null);
      const runbook = await createSchedule(actor, { targetId: target.id as string, cron: '0 2 * * *', timezone: 'UTC', format: 'custom', compressLevel: 9, zstdLevel, retentionDays: null, retentionCount: null, enabled: false }, null);
      const fallback = await createSchedule(actor, { targetId: target.id as string, cron: '0 3 * * *', timezone: 'UTC', format: 'custom-zstd', compressLevel: 0, zstdLevel, retentionDays: null, retentionCount: null, enabled: false }, null);
      const r: Record<Variant, Sample[]> = (results[database] = { 'raw-z9': [], 'job-z9': [], 'raw-zstd': [], default: [] });

      const runJob = async (scheduleId: string): Promise<Sample> => {
        const cpu0 = [cpuSeconds(lb.workerPid), cpuSeconds(server)];
        const job = await startBackup(actor, target.id as string, { scheduleId });
        const row = await lb.waitJob(job.id);
        await settle();
        const cpu1 = [cpuSeconds(lb.workerPid), cpuSeconds(server)];
        const b = await db.backupLog.findFirst({ where: { jobId: job.id } });
        const verifying = await db.jobLog.findFirst({ where: { jobId: job.id, line: { endsWith: ': verifying' } } });
        // Job path time: from the worker picking it up to done (snapshot, dump, fsync, verify, globals, manifest).
        return {
          wall: (row.finishedAt!.getTime() - row.startedAt!.getTime()) / 1000,
          size: Number(b!.backupSize),
          cpuTools: cpu1[0]! - cpu0[0]!,
          cpuServer: cpu1[1]! - cpu0[1]!,
          after: verifying ? (row.finishedAt!.getTime() - verifying.at.getTime()) / 1000 : undefined,
        };
      };
      const runRaw = async (variant: 'raw-z9' | 'raw-zstd', i: number): Promise<Sample> => {
        const file = join(work, 'raw', `${database}-${i}.dump`);
        const cpu0 = [cpuSeconds(process.pid), cpuSeconds(server)];
        const own0 = process.cpuUsage();
        const t = process.hrtime.bigint();
        // In a session of its own, as the worker is: with the kernel's autogroup scheduling, a busy machine shares
        // CPU between sessions, so the raw commands and the job must not sit in groups of different weight.
        const own = { detached: true } as const;
        if (variant === 'raw-z9') {
          // The runbook's line, verbatim flags.
          await execa(PG_DUMP, ['--format=custom', '--compress=9', `--file=${file}`, data.url(database)], own);
        } else {
          // The shell's `pg_dump -Fc -Z0 | zstd > file`, as written: the kernel pipes pg_dump into zstd, zstd writes the file.
          await execa('bash', ['-c', `set -o pipefail; "$1" --format=custom --compress=0 "$2" | zstd -${zstdLevel} -T${threads} -q -o "$3"`, 'raw', PG_DUMP, data.url(database), file], own);
        }
        const wall = Number(process.hrtime.bigint() - t) / 1e9;
        await settle();
        const self = process.cpuUsage(own0);
        const cpu1 = [cpuSeconds(process.pid), cpuSeconds(server)];
        const size = (await stat(file)).size;
        await rm(file);
        // The children only: this process's own CPU meanwhile is the bench waiting, not the tools.
        return { wall, size, cpuTools: cpu1[0]! - cpu0[0]! - (self.user + self.system) / 1e6, cpuServer: cpu1[1]! - cpu0[1]! };
      };

      // Alternate the variants so drift (cache, clocks, other load) hits each alike.
      for (let i = 0; i < reps; i++) {
        for (const variant of i % 2 === 0 ? variants : [...variants].reverse()) {
          const s = variant === 'raw-z9' || variant === 'raw-zstd' ? await runRaw(variant, i) : await runJob(variant === 'job-z9' ? runbook.id : fallback.id);
          r[variant].push(s);
          say(`${database} ${variant.padEnd(8)} run ${i + 1}: ${s.wall.toFixed(2)} s, ${(s.size / 1e6).toFixed(1)} MB, cpu s: tools+worker ${s.cpuTools.toFixed(2)}, server ${s.cpuServer.toFixed(2)}${s.after !== undefined ? `, after pg_dump ${s.after.toFixed(2)} s` : ''}`);
        }
      }
    }

    console.log('');
    console.log(`${reps} alternating rounds; wall s and cpu s as median (min-max); cpu = seconds of CPU, "tools" = pg_dump and zstd (and for jobs the worker itself, with the pg_restore read-back), "server" = the PostgreSQL backends; "after dump" = job seconds after pg_dump ended (fsync, read-back end, TOC, globals, manifest, row)`);
    console.log('database        variant                                        wall s               size MB   MB/s   cpu tools          cpu server         after dump s');
    const summary: Record<string, { speedup: number; sizeRatio: number; overhead: number; pipelineOverhead: number }> = {};
    for (const [database, r] of Object.entries(results)) {
      const size = await dbBytes(data, database);
      const row = (v: Variant) => {
        const w = stats(r[v].map((x) => x.wall));
        const s = stats(r[v].map((x) => x.size)).median;
        const ct = stats(r[v].map((x) => x.cpuTools));
        const cs = stats(r[v].map((x) => x.cpuServer));
        const after = r[v].every((x) => x.after !== undefined) ? showStats(stats(r[v].map((x) => x.after!))) : '';
        console.log(`${database.padEnd(15)} ${labels[v].padEnd(46)} ${showStats(w).padEnd(20)} ${(s / 1e6).toFixed(1).padStart(8)} ${(size / 1e6 / w.median).toFixed(1).padStart(6)}   ${showStats(ct).padEnd(18)} ${showStats(cs).padEnd(18)} ${after}`);
        return { w: w.median, s };
      };
      const raw = row('raw-z9');
      const job = row('job-z9');
      const rawZstd = row('raw-zstd');
      const def = row('default');
      summary[database] = { speedup: raw.w / def.w, sizeRatio: def.s / raw.s, overhead: ((job.w - raw.w) / raw.w) * 100, pipelineOverhead: ((def.w - rawZstd.w) / rawZstd.w) * 100 };
      const x = summary[database]!;
      console.log(`${database.padEnd(15)} database size ${(size / 1e6).toFixed(0)} MB; default speedup ${x.speedup.toFixed(2)}x, size ratio ${x.sizeRatio.toFixed(3)}, job overhead ${x.overhead.toFixed(2)} % (-Z9), default job over its raw pipeline ${x.pipelineOverhead.toFixed(2)} %`);
    }
    const app = summary.bench_app!;
    console.log(`bench:backup default_speedup=${app.speedup.toFixed(2)} default_size_ratio=${app.sizeRatio.toFixed(3)} job_overhead_pct=${app.overhead.toFixed(2)}`);
  } finally {
    await bench.stop();
  }
}

runMain(main);
