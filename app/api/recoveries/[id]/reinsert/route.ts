// POST /api/recoveries/:id/reinsert: put a comparison's missing rows back into production (admin, typed database name).
import { z } from 'zod';
import { route } from '@/lib/http';
import { reinsertRequest, startReinsert } from '@/lib/recoveries/start-recovery';

const params = z.object({ id: z.uuid({ message: 'must be a comparison job id' }) });

export const POST = route({ role: 'admin', params, body: reinsertRequest }, async ({ user, params, body, ip }) => ({
  job: await startReinsert(user, params.id, body, ip),
}));
