// GET /api/schedules/preview?cron=&timezone=: the next five runs, or INVALID_CRON naming the bad field.
import { z } from 'zod';
import { route } from '@/lib/http';
import { nextRuns } from '@/lib/schedules/cron';

const query = z.object({ cron: z.string().min(1).max(100), timezone: z.string().min(1).max(64).default('UTC') });

export const GET = route({ role: 'viewer', query }, async ({ query }) => ({ runs: nextRuns(query.cron, query.timezone, 5) }));
