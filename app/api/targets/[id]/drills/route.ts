// GET /api/targets/:id/drills: drill results with restore times, and the RTO target they are measured against.
import { z } from 'zod';
import { route } from '@/lib/http';
import { listDrills, rtoSeconds } from '@/lib/restores/restore-history';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });

export const GET = route({ role: 'viewer', params }, async ({ params }) => ({ drills: await listDrills(params.id), rtoSeconds: await rtoSeconds() }));
