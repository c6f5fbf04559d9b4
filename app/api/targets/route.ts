// GET /api/targets: protected databases with their last backup (no secrets); POST: add one (admin).
import { route } from '@/lib/http';
import { createTarget, listTargets } from '@/lib/targets/manage-targets';
import { targetInput } from '@/lib/targets/schemas';
import { enqueueJob } from '@/lib/jobs/enqueue-job';

export const GET = route({ role: 'viewer' }, async () => ({ targets: await listTargets() }));

// A new target is tested at once, so the page can warn (unreachable, unreadable tables, no fitting pg_dump) before the first backup.
export const POST = route({ role: 'admin', body: targetInput }, async ({ user, body, ip }) => {
  const target = await createTarget(user, body, ip);
  const test = await enqueueJob(user, 'test-connection', { targetId: target.id }, { targetId: target.id as string, pool: body.workerPool, ip });
  return { target, testJob: test };
});
