// GET /api/targets/:id/wal (viewer): the lines to install for WAL archiving and what the last connection test read.
import { z } from 'zod';
import { route } from '@/lib/http';
import { getWalView } from '@/lib/wal/get-wal-view';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });

export const GET = route({ role: 'viewer', params }, async ({ params }) => getWalView(params.id));
