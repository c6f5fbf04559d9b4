// POST /api/jobs/:id/run-again: start a failed or cancelled job again when its failure is retryable (operator).
import { z } from 'zod';
import { route } from '@/lib/http';
import { runJobAgain } from '@/lib/jobs/run-again';

const params = z.object({ id: z.uuid({ message: 'must be a job id' }) });

export const POST = route({ role: 'operator', params }, async ({ user, params, ip }) => ({ job: await runJobAgain(user, params.id, ip) }));
