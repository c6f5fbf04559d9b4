// POST /api/targets/:id/test: "Test connection" runs on a worker of the target's pool (admin); poll the job.
import { z } from 'zod';
import { route } from '@/lib/http';
import { enqueueJob } from '@/lib/jobs/enqueue-job';
import { getTarget } from '@/lib/targets/manage-targets';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });

export const POST = route({ role: 'admin', params }, async ({ user, params, ip }) => {
  const target = await getTarget(params.id);
  return { job: await enqueueJob(user, 'test-connection', { targetId: params.id }, { targetId: params.id, pool: target.workerPool as string, ip }) };
});
