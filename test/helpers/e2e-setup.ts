// Starts the whole console for e2e tests: a throwaway cluster, migrations, seeded users, the built web server, a worker.
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { migrate } from '../../scripts/lib/migrate';
import { installQueueSchema } from '../../scripts/lib/queue-schema';
import { seedUsers } from '../../scripts/lib/seed';
import { ensureBuild, freePort, startWeb, startWorker, stopChild, waitForHealth, type Child, type ConsoleEnv } from '../../scripts/lib/stack';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { e2eUsers } from './e2e-users';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    databaseUrl: string;
    consoleEnv: ConsoleEnv;
  }
}

let cluster: RunningCluster | undefined;
let web: Child | undefined;
let worker: Child | undefined;

export default async function setup(project: TestProject) {
  const logLines: string[] = [];
  const keep = (prefix: string) => (l: string) => {
    logLines.push(`${prefix} ${l}`);
    if (process.env.LIFEBOAT_TEST_VERBOSE) console.log(prefix, l);
  };
  await ensureBuild(() => {});
  cluster = await createThrowawayCluster();
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE lifeboat');
  await admin.end();
  const databaseUrl = cluster.url('lifeboat');
  await migrate(databaseUrl);
  await installQueueSchema(databaseUrl);
  await seedUsers(databaseUrl, Object.values(e2eUsers));

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: ConsoleEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    DATABASE_URL: databaseUrl,
    NEXTAUTH_SECRET: randomBytes(32).toString('base64'),
    NEXTAUTH_URL: baseUrl,
    LIFEBOAT_MASTER_KEY: randomBytes(32).toString('base64'),
    LIFEBOAT_DATA_DIR: await mkdtemp(join(tmpdir(), 'lifeboat-e2e-data-')),
    // The tests act as the reverse proxy from 127.0.0.1 (X-Forwarded-For gives each its own address for the sign-in
    // lock); a request from 127.0.0.2 is a client connecting directly.
    LIFEBOAT_TRUSTED_PROXIES: '127.0.0.1',
  };
  web = startWeb(env, port, keep('[web]'));
  worker = startWorker(env, keep('[worker]'));
  try {
    await waitForHealth(baseUrl, web);
  } catch (err) {
    console.error(logLines.join('\n'));
    throw err;
  }
  project.provide('baseUrl', baseUrl);
  project.provide('databaseUrl', databaseUrl);
  project.provide('consoleEnv', env);

  return async () => {
    await Promise.all([stopChild(web, 5_000), stopChild(worker, 5_000)]);
    await cluster?.remove();
  };
}
