// POST /api/targets/:id/repair: guided repair (admin): a check (amcheck) by default; a repair (amcheck, REINDEX, VACUUM FULL,
// amcheck) after a check that found damage or forced, the typed database name confirming it.
import { z } from 'zod';
import { route } from '@/lib/http';
import { repairRequest, startRepair } from '@/lib/repairs/start-repair';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });

export const POST = route({ role: 'admin', params, body: repairRequest }, async ({ user, params, body, ip }) => ({
  job: await startRepair(user, params.id, body, ip),
}));
