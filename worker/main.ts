// The worker: boot (env, database, sweep, queues), run jobs from pg-boss, heartbeat, and stop cleanly on SIGTERM.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type PgBoss from 'pg-boss';
import { getEnv } from '../lib/env';
import { getDb } from '../lib/db';
import { createBoss } from '../lib/jobs/boss';
import { jobKindNames, queueName, type JobKindName, type QueueMessage } from '../lib/jobs/kinds';
import { DOWNLOADS_AT_ONCE } from '../lib/downloads/download-window';
import { checkedTask } from '../lib/jobs/checked-task';
import { runJob } from '../lib/jobs/lifecycle';
import { HEARTBEAT_SECONDS, sweepJobs, workerHost } from '../lib/jobs/sweep-jobs';
import { heartbeat, markWorkerStopped, registerWorker } from '../lib/workers/register-worker';
import { tasks } from './tasks/index';
import { runDueSchedules } from '../lib/schedules/run-due-schedules';
import { applyRetention } from '../lib/backups/apply-retention';

const SCHEDULER_QUEUE = 'scheduler-tick';

const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;
const log = (msg: string) => console.log(`[worker ${new Date().toISOString()}] ${msg}`);
const GRACE_SECONDS = 10;
let shuttingDown = false;

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/** Waits for the console's database, saying so, with a growing pause (the worker must outlive a DB restart). */
async function waitForDatabase(url: string, signal: AbortSignal): Promise<void> {
  for (let attempt = 1, pause = 1; ; attempt++, pause = Math.min(pause * 2, 30)) {
    try {
      await getDb().$queryRaw`SELECT 1`;
      if (attempt > 1) log(`console database ${describeUrl(url)} is reachable again`);
      return;
    } catch (err) {
      log(`console database ${describeUrl(url)} unreachable (${(err as Error).message.split('\n')[0]}); retrying in ${pause} s`);
      await sleep(pause * 1000, undefined, { signal });
    }
  }
}

async function main() {
  // boot: configuration first; a bad variable stops here with one line naming it.
  const env = getEnv();
  const shutdown = new AbortController();
  let stopping = false;
  const running = new Set<Promise<unknown>>();
  let boss: PgBoss | undefined;
  let workerId: string | undefined;
  let timers: NodeJS.Timeout[] = [];

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    shuttingDown = true;
    log(`${signal}: stopping; ${running.size} job(s) running`);
    timers.forEach(clearInterval);
    // Give running jobs a moment, then abort them (they are failed and their partial files removed).
    if (boss) for (const kind of jobKindNames) await boss.offWork(queueName(kind, env.LIFEBOAT_WORKER_POOL)).catch(() => {});
    const graceful = Promise.allSettled([...running]);
    const timedOut = await Promise.race([graceful.then(() => false), sleep(GRACE_SECONDS * 1000).then(() => true)]);
    if (timedOut) {
      shutdown.abort();
      await Promise.allSettled([...running]);
    }
    if (workerId) await markWorkerStopped(workerId).catch(() => {});
    await boss?.stop({ graceful: false, wait: true }).catch(() => {});
    await getDb().$disconnect().catch(() => {});
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  // connect: wait for the console database, however long it takes.
  await waitForDatabase(env.DATABASE_URL, shutdown.signal);

  // register: a row with host, pid and version that the overview shows.
  workerId = await registerWorker(env.LIFEBOAT_WORKER_POOL, version);
  log(`worker ${workerId} (host ${workerHost()}, pool ${env.LIFEBOAT_WORKER_POOL}, version ${version}) registered`);

  // sweep: jobs left running by a dead worker are failed; partial files are removed only for jobs of this host.
  const swept = await sweepJobs(workerId);
  if (swept.length) log(`boot sweep failed ${swept.length} job(s) left by a dead worker: ${swept.join(', ')}`);

  // queues: one per job kind in this pool; downloads wait on browsers, not on work, so a few of them run at once.
  boss = createBoss(env.DATABASE_URL, 'worker');
  await boss.start();
  const id = workerId;
  for (const kind of [...jobKindNames, ...Array<JobKindName>(DOWNLOADS_AT_ONCE - 1).fill('download')]) {
    const queue = queueName(kind, env.LIFEBOAT_WORKER_POOL);
    if (!(await boss.getQueue(queue))) await boss.createQueue(queue, { name: queue, policy: 'standard', retryLimit: 0 }).catch(() => {});
    await boss.work<QueueMessage>(queue, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([message]) => {
      if (!message) return;
      // The time limit was decided at enqueue and stored on the row; the claim starts its clock.
      const job = await getDb().job.findUnique({ where: { id: message.data.jobId }, select: { timeoutSeconds: true } });
      if (!job) return;
      const run = runJob({ jobId: message.data.jobId, workerId: id, expireInSeconds: job.timeoutSeconds, shutdown: shutdown.signal }, checkedTask(kind, tasks[kind]));
      running.add(run);
      try {
        const outcome = await run;
        log(`job ${message.data.jobId} (${kind}): ${outcome}`);
      } finally {
        running.delete(run);
      }
    });
  }
  // scheduler: pg-boss's cron fires a tick each minute; one worker's tick starts every due schedule once.
  if (!(await boss.getQueue(SCHEDULER_QUEUE))) await boss.createQueue(SCHEDULER_QUEUE, { name: SCHEDULER_QUEUE, policy: 'singleton', retryLimit: 0 }).catch(() => {});
  await boss.schedule(SCHEDULER_QUEUE, '* * * * *', {}, { tz: 'UTC' });
  await boss.work(SCHEDULER_QUEUE, { batchSize: 1, pollingIntervalSeconds: 5 }, async () => {
    const now = new Date();
    await runDueSchedules(now, log);
    // Retention also runs on its own, hourly, so expired backups go even when a schedule stopped producing new ones;
    // a worker that does not see a backup's file (another host's storage) leaves its row alone.
    if (now.getUTCMinutes() === 7) {
      for (const s of await getDb().schedule.findMany({ select: { id: true } })) await applyRetention(s.id, { log }).catch((err) => log(`retention ${s.id}: ${err.message}`));
    }
  });
  log(`listening on ${jobKindNames.map((k) => queueName(k, env.LIFEBOAT_WORKER_POOL)).join(', ')}`);

  // heartbeat and a periodic sweep (another worker may have died meanwhile).
  let dbDown = false;
  timers = [
    setInterval(async () => {
      try {
        await heartbeat(id);
        if (dbDown) log('console database reachable again');
        dbDown = false;
      } catch (err) {
        if (!dbDown) log(`heartbeat failed: console database unreachable (${(err as Error).message.split('\n')[0]}); retrying`);
        dbDown = true;
      }
    }, HEARTBEAT_SECONDS * 1000),
    setInterval(() => void sweepJobs(id).catch(() => {}), 30_000),
  ];
}

// While stopping, the queue's polling may still reject against a closed pool: that is the stop, not a crash.
process.on('unhandledRejection', (err) => {
  if (shuttingDown) return;
  console.error('[worker] unhandled rejection:', err);
  process.exit(1);
});

main().catch((err) => {
  // A boot step interrupted by SIGTERM fails on purpose; the stop handler ends the process with 0.
  if (shuttingDown) return;
  console.error('[worker] fatal:', err);
  process.exit(1);
});
