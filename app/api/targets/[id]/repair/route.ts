// POST /api/targets/:id/repair: guided repair (admin): amcheck, REINDEX, VACUUM FULL, amcheck; the typed database name confirms.
import { z } from 'zod';
import { route } from '@/lib/http';
import { repairRequest, startRepair } from '@/lib/repairs/start-repair';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });

export const POST = route({ role: 'admin', params, body: repairRequest }, async ({ user, params, body, ip }) => ({
  job: await startRepair(user, params.id, body, ip),
}));
