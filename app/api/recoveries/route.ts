// POST /api/recoveries: compare chosen tables of a backup with production by primary key (operator).
import { route } from '@/lib/http';
import { compareRequest, startComparison } from '@/lib/recoveries/start-recovery';

export const POST = route({ role: 'operator', body: compareRequest }, async ({ user, body, ip }) => ({ job: await startComparison(user, body, ip) }));
