// POST /api/recoveries/:id/export: write a comparison's missing rows as SQL or CSV beside the backups (operator).
import { z } from 'zod';
import { route } from '@/lib/http';
import { exportRequest, startExport } from '@/lib/recoveries/start-recovery';

const params = z.object({ id: z.uuid({ message: 'must be a comparison job id' }) });

export const POST = route({ role: 'operator', params, body: exportRequest }, async ({ user, params, body, ip }) => ({
  job: await startExport(user, params.id, body, ip),
}));
