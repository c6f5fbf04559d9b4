// POST /api/restores/requests/:id: another admin approves (the restore starts) or refuses a production restore.
import { z } from 'zod';
import { route } from '@/lib/http';
import { decideRestoreRequest } from '@/lib/restores/start-restore';

const params = z.object({ id: z.uuid({ message: 'must be a request id' }) });
const body = z.object({ decision: z.enum(['approve', 'refuse']), reason: z.string().trim().max(500).optional() });

export const POST = route({ role: 'admin', params, body }, async ({ user, params, body, ip }) => decideRestoreRequest(user, params.id, body.decision, body.reason ?? null, ip));
