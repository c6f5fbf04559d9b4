// GET /api/jobs: recent jobs, filtered by status or kind.
import { z } from 'zod';
import { route } from '@/lib/http';
import { listJobs } from '@/lib/jobs/list-jobs';

const query = z.object({
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']).optional(),
  kind: z.string().max(50).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.date().optional(),
});

export const GET = route({ role: 'viewer', query }, async ({ user, query }) => ({ jobs: await listJobs(query, user.role) }));
