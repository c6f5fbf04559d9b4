// GET /api/jobs/:id: one job and one page of its log: ?afterLogId= (following), ?logBefore= (earlier lines) or
// ?logTail=1 (the newest), at most ?logLimit= lines; `log` counts the lines before and after the page.
import { z } from 'zod';
import { bigintId } from '@/lib/ids';
import { route } from '@/lib/http';
import { getJob, LOG_PAGE_DEFAULT, LOG_PAGE_MAX } from '@/lib/jobs/list-jobs';

const params = z.object({ id: z.uuid({ message: 'must be a job id' }) });
const logId = bigintId('must be a log line id', 0n);
const query = z.object({
  afterLogId: logId.optional(),
  logBefore: logId.optional(),
  logTail: z.enum(['0', '1', 'true', 'false']).optional(),
  logLimit: z.coerce.number().int().min(1).max(LOG_PAGE_MAX).default(LOG_PAGE_DEFAULT),
});

export const GET = route({ role: 'viewer', params, query }, ({ user, params, query }) =>
  getJob(
    params.id,
    { afterLogId: query.afterLogId, beforeLogId: query.logBefore, tail: query.logTail === '1' || query.logTail === 'true', logLimit: query.logLimit },
    user.role,
  ),
);
