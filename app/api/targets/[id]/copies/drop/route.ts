// POST /api/targets/:id/copies/drop: drop a kept copy (admin); production itself is never dropped from here.
import { z } from 'zod';
import { route } from '@/lib/http';
import { startTargetJob } from '@/lib/restores/start-restore';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });
const body = z.object({ database: z.string().min(1).max(63) });

export const POST = route({ role: 'admin', params, body }, async ({ user, params, body, ip }) => ({
  job: await startTargetJob(user, 'drop-copy', params.id, { database: body.database }, ip),
}));
