// npm run bench:restore: raw `pg_restore --jobs=N` of a dump against Lifeboat's restore job of the same dump
// (checks off), alternating, then the outage of a production swap with the same database. Last line: the summary.
import { execa } from 'execa';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createThrowawayCluster } from '../scripts/lib/cluster';
import { createAppDatabase } from './generate';
import { createDb, dbBytes, mean, say, startConsole } from './harness';

const reps = Number(process.env.BENCH_REPS ?? 2);
const appScale = Number(process.env.BENCH_APP_SCALE ?? 0.65);
const jobs = Number(process.env.BENCH_JOBS ?? 2);

async function main() {
  const work = await mkdtemp(join(tmpdir(), 'lifeboat-bench-'));
  await chmod(work, 0o755);
  const data = await createThrowawayCluster({ settings: { shared_buffers: '1GB', max_wal_size: '4GB' } });
  let stopConsole: (() => Promise<void>) | undefined;
  try {
    say(`creating bench_app (application-like, scale ${appScale})`);
    await createDb(data, 'bench_app');
    await createAppDatabase(data.url('bench_app'), appScale);
    const size = await dbBytes(data, 'bench_app');

    const lb = await startConsole(work);
    stopConsole = lb.stop;
    const { db, storage, actor, waitJob } = lb;
    const { createTarget } = await import('../lib/targets/manage-targets');
    const { createSchedule } = await import('../lib/schedules/manage-schedules');
    const { startBackup } = await import('../lib/backups/start-backup');
    const { startRestore } = await import('../lib/restores/start-restore');
    const { restorePayload } = await import('../lib/jobs/kinds');
    const target = await createTarget(actor, { name: 'bench_app', host: '127.0.0.1', port: data.port, dbUser: data.superuser, password: data.password ?? null, sslMode: 'disable', database: 'bench_app', keyTables: [], checkStatements: [], workerPool: 'default', storageId: storage.id }, null);
    const targetId = target.id as string;

    // the dump: a plain custom archive (seekable, so pg_restore --jobs works on it directly), made by Lifeboat.
    const schedule = await createSchedule(actor, { targetId, cron: '0 2 * * *', format: 'custom', compressLevel: 0, enabled: false, retentionDays: null }, null);
    const backupJob = await startBackup(actor, targetId, { scheduleId: schedule.id });
    await waitJob(backupJob.id);
    const backup = (await db.backupLog.findFirst({ where: { jobId: backupJob.id } }))!;
    const file = join(storage.path, backup.backupFile);
    say(`dump ${(Number(backup.backupSize) / 1e6).toFixed(0)} MB of a ${(size / 1e6).toFixed(0)} MB database`);

    const raw: number[] = [];
    const job: number[] = [];
    const admin = new pg.Client({ connectionString: data.url('postgres') });
    await admin.connect();
    const runRaw = async (i: number) => {
      const name = `raw_${i}`;
      await admin.query(`CREATE DATABASE ${name}`);
      const t = process.hrtime.bigint();
      // The hand-run equivalent: parallel restore, stop at the first error.
      await execa('/usr/lib/postgresql/15/bin/pg_restore', [`--jobs=${jobs}`, '--exit-on-error', `--dbname=${data.url(name)}`, file]);
      const s = Number(process.hrtime.bigint() - t) / 1e9;
      await admin.query(`DROP DATABASE ${name}`);
      return s;
    };
    const runJob = async (i: number) => {
      const name = `lifeboat_${i}`;
      const j = await startRestore(actor, restorePayload.parse({ backupId: String(backup.id), destination: { mode: 'new', targetId, database: name }, jobs, runChecks: false }), null);
      const row = await waitJob(j.id);
      await admin.query(`DROP DATABASE ${name}`);
      // Job time: from the worker picking it up to done (checksum of the file, TOC, preflight, create, pg_restore).
      return (row.finishedAt!.getTime() - row.startedAt!.getTime()) / 1000;
    };
    for (let i = 0; i < reps; i++) {
      for (const v of i % 2 === 0 ? ['raw', 'job'] : ['job', 'raw']) {
        const s = v === 'raw' ? await runRaw(i) : await runJob(i);
        (v === 'raw' ? raw : job).push(s);
        say(`${v.padEnd(4)} run ${i + 1}: ${s.toFixed(2)} s`);
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

    const r = mean(raw);
    const l = mean(job);
    console.log('');
    console.log(`database size ${(size / 1e6).toFixed(0)} MB, dump ${(Number(backup.backupSize) / 1e6).toFixed(0)} MB, --jobs=${jobs}`);
    console.log(`raw pg_restore --jobs=${jobs}           ${r.toFixed(2)} s`);
    console.log(`Lifeboat restore job (checks off)  ${l.toFixed(2)} s`);
    console.log(`production swap outage              ${downtime.toFixed(3)} s (3 client connections ended)`);
    console.log(`bench:restore overhead_pct=${(((l - r) / r) * 100).toFixed(2)} swap_downtime_s=${downtime.toFixed(3)} restore_s=${l.toFixed(2)}`);
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
