// npm run bench:restore: a backup in Lifeboat's default format (custom archive through zstd), restored by hand the
// two ways the manifest shows (`zstd -d` to a file then `pg_restore --jobs=N`, and `zstd -dc | pg_restore` in one
// stream) against Lifeboat's restore job of the same file (checks off), alternating; then the outage of a production
// swap with the same database. Median and range of wall time, and CPU seconds of the tools (for the job: the worker
// with its children) and of the server. Last line: the summary, the job against the same steps by hand.
import { execa } from 'execa';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { createAppDatabase } from './generate';
import { cpuSeconds, createDb, dbBytes, postmasterPid, say, settle, runMain, showStats, startBench, stats } from './harness';

const reps = Number(process.env.BENCH_REPS ?? 5);
const appScale = Number(process.env.BENCH_APP_SCALE ?? 0.65);
const jobs = Number(process.env.BENCH_JOBS ?? 2);
const PG_RESTORE = '/usr/lib/postgresql/15/bin/pg_restore';

interface Sample {
  wall: number;
  cpuTools: number;
  cpuServer: number;
}
const variants = ['raw-file', 'raw-stream', 'job'] as const;
type Variant = (typeof variants)[number];
const labels: Record<Variant, string> = {
  'raw-file': `zstd -d to a file, then pg_restore --jobs=${jobs} (raw)`,
  'raw-stream': 'zstd -dc | pg_restore (raw, one stream, no --jobs)',
  job: 'Lifeboat restore job (checks off)',
};

async function main() {
  const bench = await startBench();
  const { work, data } = bench;
  try {
    say(`creating bench_app (application-like, scale ${appScale})`);
    await createDb(data, 'bench_app');
    await createAppDatabase(data.url('bench_app'), appScale);
    const size = await dbBytes(data, 'bench_app');
    const server = postmasterPid(data);

    const lb = await bench.startConsole();
    const { db, storage, actor, waitJob } = lb;
    const { createTarget } = await import('../lib/targets/manage-targets');
    const { createSchedule } = await import('../lib/schedules/manage-schedules');
    const { startBackup } = await import('../lib/backups/start-backup');
    const { startRestore } = await import('../lib/restores/start-restore');
    const { restorePayload } = await import('../lib/jobs/kinds');
    const target = await createTarget(actor, { name: 'bench_app', host: '127.0.0.1', port: data.port, dbUser: data.superuser, password: data.password ?? null, sslMode: 'disable', database: 'bench_app', keyTables: [], checkStatements: [], workerPool: 'default', storageId: storage.id }, null);
    const targetId = target.id as string;

    // the dump: Lifeboat's default format, made by Lifeboat.
    const schedule = await createSchedule(actor, { targetId, cron: '0 2 * * *', format: 'custom-zstd', compressLevel: 0, enabled: false, retentionDays: null }, null);
    const backupJob = await startBackup(actor, targetId, { scheduleId: schedule.id });
    await waitJob(backupJob.id);
    const backup = (await db.backupLog.findFirst({ where: { jobId: backupJob.id } }))!;
    const file = join(storage.path, backup.backupFile);
    say(`dump ${(Number(backup.backupSize) / 1e6).toFixed(0)} MB (${backup.format}) of a ${(size / 1e6).toFixed(0)} MB database`);

    const r: Record<Variant, Sample[]> = { 'raw-file': [], 'raw-stream': [], job: [] };
    const admin = new pg.Client({ connectionString: data.url('postgres') });
    await admin.connect();
    const runRaw = async (v: 'raw-file' | 'raw-stream', i: number): Promise<Sample> => {
      const name = `raw_${i}`;
      await admin.query(`CREATE DATABASE ${name}`);
      const temp = join(work, `raw-${i}.dump`);
      const cpu0 = [cpuSeconds(process.pid), cpuSeconds(server)];
      const own0 = process.cpuUsage();
      const t = process.hrtime.bigint();
      // In a session of its own, as the worker is (autogroup scheduling shares a busy machine's CPU between sessions).
      const own = { detached: true } as const;
      if (v === 'raw-file') {
        // The hand-run equivalent of the job: decompress (pg_restore --jobs needs to seek), parallel restore, stop at the first error.
        await execa('bash', ['-c', `zstd -d -q "$1" -o "$2" && "$3" --jobs=${jobs} --exit-on-error --dbname="$4" "$2"`, 'raw', file, temp, PG_RESTORE, data.url(name)], own);
      } else {
        // The shell's `zstd -dc file | pg_restore -d db`: the kernel pipes zstd into pg_restore (no parallelism from a pipe).
        await execa('bash', ['-c', 'set -o pipefail; zstd -dc -q "$1" | "$2" --exit-on-error --dbname="$3"', 'raw', file, PG_RESTORE, data.url(name)], own);
      }
      const wall = Number(process.hrtime.bigint() - t) / 1e9;
      await settle();
      const self = process.cpuUsage(own0);
      const cpu1 = [cpuSeconds(process.pid), cpuSeconds(server)];
      await rm(temp, { force: true });
      await admin.query(`DROP DATABASE ${name}`);
      return { wall, cpuTools: cpu1[0]! - cpu0[0]! - (self.user + self.system) / 1e6, cpuServer: cpu1[1]! - cpu0[1]! };
    };
    const runJob = async (i: number): Promise<Sample> => {
      const name = `lifeboat_${i}`;
      const cpu0 = [cpuSeconds(lb.workerPid), cpuSeconds(server)];
      const j = await startRestore(actor, restorePayload.parse({ backupId: String(backup.id), destination: { mode: 'new', targetId, database: name }, jobs, runChecks: false }), null);
      const row = await waitJob(j.id);
      await settle();
      const cpu1 = [cpuSeconds(lb.workerPid), cpuSeconds(server)];
      await admin.query(`DROP DATABASE ${name}`);
      // Job time: from the worker picking it up to done (preflight, TOC, create, decompress with its checksum, pg_restore).
      return { wall: (row.finishedAt!.getTime() - row.startedAt!.getTime()) / 1000, cpuTools: cpu1[0]! - cpu0[0]!, cpuServer: cpu1[1]! - cpu0[1]! };
    };
    for (let i = 0; i < reps; i++) {
      for (const v of i % 2 === 0 ? variants : [...variants].reverse()) {
        const s = v === 'job' ? await runJob(i) : await runRaw(v, i);
        r[v].push(s);
        say(`${v.padEnd(10)} run ${i + 1}: ${s.wall.toFixed(2)} s, cpu s: tools+worker ${s.cpuTools.toFixed(2)}, server ${s.cpuServer.toFixed(2)}`);
      }
    }

    // swap: production replaced from the same dump while clients hold connections; the outage is what counts.
    const clients = await Promise.all([1, 2, 3].map(async () => {
      const c = new pg.Client({ connectionString: data.url('bench_app') });
      c.on('error', () => {}); // ended by the swap, on purpose
      await c.connect();
      return c;
    }));
    const swapJob = await startRestore(actor, { ...restorePayload.parse({ backupId: String(backup.id), destination: { mode: 'replace', method: 'swap' }, jobs, runChecks: false }), confirm: 'bench_app' }, null);
    const swap = await waitJob(swapJob.id);
    const downtime = Number((swap.result as { downtimeMs: number }).downtimeMs) / 1000;
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    await admin.end();

    console.log('');
    console.log(`database size ${(size / 1e6).toFixed(0)} MB, dump ${(Number(backup.backupSize) / 1e6).toFixed(0)} MB (zstd), --jobs=${jobs}, ${reps} alternating rounds; median (min-max)`);
    console.log('variant                                                  wall s               cpu tools          cpu server');
    const med: Record<Variant, number> = { 'raw-file': 0, 'raw-stream': 0, job: 0 };
    for (const v of variants) {
      const w = stats(r[v].map((x) => x.wall));
      med[v] = w.median;
      console.log(`${labels[v].padEnd(56)} ${showStats(w).padEnd(20)} ${showStats(stats(r[v].map((x) => x.cpuTools))).padEnd(18)} ${showStats(stats(r[v].map((x) => x.cpuServer)))}`);
    }
    console.log(`production swap outage                                   ${downtime.toFixed(3)} s (3 client connections ended)`);
    console.log(`bench:restore overhead_pct=${(((med.job - med['raw-file']) / med['raw-file']) * 100).toFixed(2)} swap_downtime_s=${downtime.toFixed(3)} restore_s=${med.job.toFixed(2)}`);
  } finally {
    await bench.stop();
  }
}

runMain(main);
