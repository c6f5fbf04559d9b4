// npm run bench:backup: the runbook's `pg_dump -Fc -Z9` against the same flags through Lifeboat's job path and
// against Lifeboat's default (custom archive streamed through zstd), alternating, on pgbench and on an
// application-like database with realistic entropy. Prints wall time, size and MB/s; the last line is the summary.
import { execa } from 'execa';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createThrowawayCluster } from '../scripts/lib/cluster';
import { createAppDatabase, createPgbench } from './generate';
import { createDb, dbBytes, mean, say, startConsole } from './harness';

const reps = Number(process.env.BENCH_REPS ?? 2);
const appScale = Number(process.env.BENCH_APP_SCALE ?? 0.65); // about 1 GB on disk
const pgbenchScale = Number(process.env.BENCH_PGBENCH_SCALE ?? 50);

interface Sample { wall: number; size: number }

async function main() {
  const work = await mkdtemp(join(tmpdir(), 'lifeboat-bench-'));
  await chmod(work, 0o755);
  const data = await createThrowawayCluster({ settings: { shared_buffers: '1GB', max_wal_size: '4GB' } });
  let stopConsole: (() => Promise<void>) | undefined;
  try {
    // data: the two databases to back up.
    say(`creating bench_app (application-like, scale ${appScale}) and bench_pgbench (scale ${pgbenchScale})`);
    await createDb(data, 'bench_app');
    await createAppDatabase(data.url('bench_app'), appScale);
    await createDb(data, 'bench_pgbench');
    await createPgbench(data.url('bench_pgbench'), pgbenchScale);

    // console: its own cluster, a worker, a storage folder, one target per database and one schedule per variant.
    const lb = await startConsole(work);
    stopConsole = lb.stop;
    const { db, storage, actor } = lb;
    const { createTarget } = await import('../lib/targets/manage-targets');
    const { createSchedule } = await import('../lib/schedules/manage-schedules');
    const { startBackup } = await import('../lib/backups/start-backup');
    await execa('mkdir', ['-p', join(work, 'raw')]);

    const results: Record<string, Record<string, Sample[]>> = {};
    for (const database of ['bench_pgbench', 'bench_app']) {
      const target = await createTarget(actor, { name: database, host: '127.0.0.1', port: data.port, dbUser: data.superuser, password: data.password ?? null, sslMode: 'disable', database, keyTables: [], checkStatements: [], workerPool: 'default', storageId: storage.id }, null);
      const runbook = await createSchedule(actor, { targetId: target.id as string, cron: '0 2 * * *', timezone: 'UTC', format: 'custom', compressLevel: 9, zstdLevel: 3, retentionDays: null, retentionCount: null, enabled: false }, null);
      const fallback = await createSchedule(actor, { targetId: target.id as string, cron: '0 3 * * *', timezone: 'UTC', format: 'custom-zstd', compressLevel: 0, zstdLevel: 3, retentionDays: null, retentionCount: null, enabled: false }, null);
      const r = (results[database] = { raw: [], job: [], default: [] } as Record<string, Sample[]>);

      const runJob = async (scheduleId: string): Promise<Sample> => {
        const job = await startBackup(actor, target.id as string, { scheduleId });
        const row = await lb.waitJob(job.id);
        const b = await db.backupLog.findFirst({ where: { jobId: job.id } });
        // Job path time: from the worker picking it up to done (snapshot, dump, fsync, verify, globals, manifest).
        return { wall: (row.finishedAt!.getTime() - row.startedAt!.getTime()) / 1000, size: Number(b!.backupSize) };
      };
      const runRaw = async (i: number): Promise<Sample> => {
        const file = join(work, 'raw', `${database}-${i}.dump`);
        const t = process.hrtime.bigint();
        // The runbook's line, verbatim flags.
        await execa('/usr/lib/postgresql/15/bin/pg_dump', ['--format=custom', '--compress=9', `--file=${file}`, data.url(database)]);
        const wall = Number(process.hrtime.bigint() - t) / 1e9;
        const size = (await stat(file)).size;
        await rm(file);
        return { wall, size };
      };

      // Alternate the three variants so drift (cache, clocks) hits each alike.
      for (let i = 0; i < reps; i++) {
        for (const variant of i % 2 === 0 ? ['raw', 'job', 'default'] : ['default', 'job', 'raw']) {
          const s = variant === 'raw' ? await runRaw(i) : await runJob(variant === 'job' ? runbook.id : fallback.id);
          r[variant]!.push(s);
          say(`${database} ${variant.padEnd(7)} run ${i + 1}: ${s.wall.toFixed(2)} s, ${(s.size / 1e6).toFixed(1)} MB`);
        }
      }
    }

    console.log('');
    console.log('database        variant                               wall s    size MB    MB/s (db size / wall)');
    const summary: Record<string, { speedup: number; sizeRatio: number; overhead: number }> = {};
    for (const [database, r] of Object.entries(results)) {
      const size = await dbBytes(data, database);
      const row = (label: string, xs: Sample[]) => {
        const w = mean(xs.map((x) => x.wall));
        const s = mean(xs.map((x) => x.size));
        console.log(`${database.padEnd(15)} ${label.padEnd(37)} ${w.toFixed(2).padStart(6)} ${(s / 1e6).toFixed(1).padStart(10)} ${(size / 1e6 / w).toFixed(1).padStart(8)}`);
        return { w, s };
      };
      const raw = row('pg_dump -Fc -Z9 (runbook, raw)', r.raw!);
      const job = row('same flags through Lifeboat job', r.job!);
      const def = row('Lifeboat default (-Fc -Z0 | zstd -3)', r.default!);
      summary[database] = { speedup: raw.w / def.w, sizeRatio: def.s / raw.s, overhead: ((job.w - raw.w) / raw.w) * 100 };
      console.log(`${database.padEnd(15)} database size ${(size / 1e6).toFixed(0)} MB; default speedup ${summary[database]!.speedup.toFixed(2)}x, size ratio ${summary[database]!.sizeRatio.toFixed(3)}, job overhead ${summary[database]!.overhead.toFixed(2)} %`);
    }
    const app = summary.bench_app!;
    console.log(`bench:backup default_speedup=${app.speedup.toFixed(2)} default_size_ratio=${app.sizeRatio.toFixed(3)} job_overhead_pct=${app.overhead.toFixed(2)}`);
  } finally {
    await stopConsole?.();
    await data.remove();
    await rm(work, { recursive: true, force: true });
    process.exit(0);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
