// GET /api/targets/:id/window (viewer): the recoverable window (kept base backups, archived WAL runs, gaps) and the
// restore points, for the target page's card.
import { z } from 'zod';
import { route } from '@/lib/http';
import { getWindowView } from '@/lib/wal/get-window-view';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });

export const GET = route({ role: 'viewer', params }, async ({ params }) => getWindowView(params.id));
