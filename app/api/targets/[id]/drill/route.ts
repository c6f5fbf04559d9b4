// POST /api/targets/:id/drill: "Run drill now" (operator): restore the latest good backup to scratch, check, time, drop.
import { z } from 'zod';
import { route } from '@/lib/http';
import { startTargetJob } from '@/lib/restores/start-restore';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });

export const POST = route({ role: 'operator', params }, async ({ user, params, ip }) => ({ job: await startTargetJob(user, 'drill', params.id, {}, ip) }));
