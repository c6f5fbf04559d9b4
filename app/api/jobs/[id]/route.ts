// GET /api/jobs/:id: one job, and its log lines after ?afterLogId.
import { z } from 'zod';
import { bigintId } from '@/lib/ids';
import { route } from '@/lib/http';
import { getJob } from '@/lib/jobs/list-jobs';

const params = z.object({ id: z.uuid({ message: 'must be a job id' }) });
const query = z.object({ afterLogId: bigintId('must be a log line id', 0n).default(0n) });

export const GET = route({ role: 'viewer', params, query }, ({ user, params, query }) => getJob(params.id, query.afterLogId, user.role));
