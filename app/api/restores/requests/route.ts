// GET /api/restores/requests: production restores waiting for (or decided by) a second admin.
import { route } from '@/lib/http';
import { listRestoreRequests } from '@/lib/restores/start-restore';

export const GET = route({ role: 'admin' }, async () => ({ requests: await listRestoreRequests() }));
