// POST /api/restores/preflight: run the restore's checks on a worker without touching any database (operator).
import { route } from '@/lib/http';
import { restoreRequest, startRestore } from '@/lib/restores/start-restore';

export const POST = route({ role: 'operator', body: restoreRequest }, async ({ user, body, ip }) => ({
  job: await startRestore(user, body, ip, { preflightOnly: true }),
}));
