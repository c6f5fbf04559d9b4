// Installs or upgrades pg-boss's own schema and Lifeboat's default queues (pg-boss 10 needs queues created before use).
import { createBoss } from '../../lib/jobs/boss';
import { jobKindNames, queueName } from '../../lib/jobs/kinds';

export async function installQueueSchema(url: string): Promise<void> {
  const boss = createBoss(url, 'migrate');
  await boss.start();
  try {
    for (const kind of jobKindNames) {
      const name = queueName(kind);
      if (!(await boss.getQueue(name))) await boss.createQueue(name, { name, policy: 'standard', retryLimit: 0 });
    }
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
}
