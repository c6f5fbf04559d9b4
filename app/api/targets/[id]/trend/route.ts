// GET /api/targets/:id/trend: backup size and duration over time, sudden changes marked.
import { z } from 'zod';
import { route } from '@/lib/http';
import { backupTrend } from '@/lib/backups/list-backups';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });

export const GET = route({ role: 'viewer', params }, async ({ params }) => ({ points: await backupTrend(params.id) }));
