// GET /api/targets: the protected databases (no secrets).
import { route } from '@/lib/http';
import { listTargets } from '@/lib/targets/list-targets';

export const GET = route({ role: 'viewer' }, async () => ({ targets: await listTargets() }));
