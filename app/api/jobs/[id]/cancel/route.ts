// POST /api/jobs/:id/cancel: ask a queued or running job to stop (operator).
import { z } from 'zod';
import { route } from '@/lib/http';
import { cancelJob } from '@/lib/jobs/cancel-job';

const params = z.object({ id: z.uuid({ message: 'must be a job id' }) });

export const POST = route({ role: 'operator', params }, ({ user, params, ip }) => cancelJob(user, params.id, ip));
