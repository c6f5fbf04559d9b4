// pg-boss connections: the console only sends (no maintenance); the worker supervises and schedules.
import PgBoss from 'pg-boss';

const globalForBoss = globalThis as unknown as { lifeboatBoss?: Promise<PgBoss> };

export function createBoss(connectionString: string, role: 'console' | 'worker' | 'migrate'): PgBoss {
  const boss = new PgBoss({
    connectionString,
    max: role === 'console' ? 3 : 5,
    // Only the migrate command installs or upgrades pg-boss's schema; the others check it.
    migrate: role === 'migrate',
    supervise: role === 'worker',
    schedule: role === 'worker',
    application_name: `lifeboat-${role}`,
  });
  boss.on('error', (err) => console.error(`[lifeboat] pg-boss (${role}):`, err.message));
  return boss;
}

/** The console's sender, started once per process. */
export function getConsoleBoss(): Promise<PgBoss> {
  if (!globalForBoss.lifeboatBoss) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set.');
    const boss = createBoss(url, 'console');
    globalForBoss.lifeboatBoss = boss.start().catch((err) => {
      globalForBoss.lifeboatBoss = undefined;
      throw err;
    });
  }
  return globalForBoss.lifeboatBoss;
}

const knownQueues = new Set<string>();

/** pg-boss 10 needs a queue to exist before a send; creating it is idempotent. */
export async function ensureQueue(boss: PgBoss, name: string): Promise<void> {
  if (knownQueues.has(name)) return;
  const existing = await boss.getQueue(name);
  if (!existing) {
    await boss.createQueue(name, { name, policy: 'standard', retryLimit: 0 }).catch(async (err) => {
      if (!(await boss.getQueue(name))) throw err; // lost a race with another process: fine
    });
  }
  knownQueues.add(name);
}
