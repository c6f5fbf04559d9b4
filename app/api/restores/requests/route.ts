// GET /api/restores/requests: actions on production waiting for (or decided by) a second admin (admin);
// ?jobId=: who asked for and who approved that job (viewer: the job page shows it).
import { z } from 'zod';
import { route } from '@/lib/http';
import { UserError } from '@/lib/errors';
import { approvalForJob, listRestoreRequests } from '@/lib/restores/approval-requests';

const query = z.object({ jobId: z.uuid({ message: 'must be a job id' }).optional() });

export const GET = route({ role: 'viewer', query }, async ({ user, query }) => {
  if (query.jobId) return { approval: await approvalForJob(query.jobId) };
  if (user.role !== 'admin') throw new UserError('FORBIDDEN', `This needs the admin role; you are ${user.role}.`);
  return { requests: await listRestoreRequests() };
});
