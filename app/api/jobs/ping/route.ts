// POST /api/jobs/ping: start the smoke job (operator); answers with the job id to poll.
import { route } from '@/lib/http';
import { enqueueJob } from '@/lib/jobs/enqueue-job';
import { jobKinds } from '@/lib/jobs/kinds';

export const POST = route({ role: 'operator', body: jobKinds.ping.payload }, async ({ user, body, ip }) => {
  const job = await enqueueJob(user, 'ping', body, { ip });
  return { job };
});
