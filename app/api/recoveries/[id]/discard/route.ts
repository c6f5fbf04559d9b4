// POST /api/recoveries/:id/discard: drop a comparison's scratch copy and its exports (operator).
import { z } from 'zod';
import { route } from '@/lib/http';
import { startDiscard } from '@/lib/recoveries/start-recovery';

const params = z.object({ id: z.uuid({ message: 'must be a comparison job id' }) });

export const POST = route({ role: 'operator', params }, async ({ user, params, ip }) => ({ job: await startDiscard(user, params.id, ip) }));
