// GET /api/targets/:id/copies: databases kept beside production by swaps and rollbacks, with their size.
import { z } from 'zod';
import { route } from '@/lib/http';
import { keptCopies } from '@/lib/restores/restore-history';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });

export const GET = route({ role: 'viewer', params }, async ({ params }) => ({ copies: await keptCopies(params.id) }));
