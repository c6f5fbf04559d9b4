// A worker's row: registered at boot, heartbeat while alive, marked stopped at shutdown.
import { randomUUID } from 'node:crypto';
import { getDb } from '../db';
import { workerHost } from '../jobs/sweep-jobs';

export async function registerWorker(pool: string, version: string): Promise<string> {
  const id = randomUUID();
  await getDb().worker.create({ data: { id, host: workerHost(), pid: process.pid, version, pool } });
  return id;
}

export async function heartbeat(id: string): Promise<void> {
  await getDb().worker.update({ where: { id }, data: { lastSeenAt: new Date() } });
}

export async function markWorkerStopped(id: string): Promise<void> {
  await getDb().worker.update({ where: { id }, data: { stoppedAt: new Date() } });
}
