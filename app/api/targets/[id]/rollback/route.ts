// POST /api/targets/:id/rollback: swap the kept previous database back into production (admin); with four eyes on,
// it becomes a request another admin approves ({request}), like a production restore.
import { z } from 'zod';
import { route } from '@/lib/http';
import { startTargetJob } from '@/lib/restores/start-restore';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });
const body = z.object({ keptDatabase: z.string().min(1).max(63) });

export const POST = route({ role: 'admin', params, body }, async ({ user, params, body, ip }) => {
  const r = await startTargetJob(user, 'rollback', params.id, { keptDatabase: body.keptDatabase }, ip);
  return 'pending' in r ? { request: r } : { job: r };
});
