// POST /api/restores/requests/:id: another admin approves (the action runs) or refuses a request; the requester withdraws.
import { z } from 'zod';
import { route } from '@/lib/http';
import { decideRestoreRequest, withdrawRestoreRequest } from '@/lib/restores/approval-requests';

const params = z.object({ id: z.uuid({ message: 'must be a request id' }) });
const body = z.object({ decision: z.enum(['approve', 'refuse', 'withdraw']), reason: z.string().trim().max(500).optional() });

export const POST = route({ role: 'admin', params, body }, async ({ user, params, body, ip }) =>
  body.decision === 'withdraw' ? withdrawRestoreRequest(user, params.id, ip) : decideRestoreRequest(user, params.id, body.decision, body.reason ?? null, ip),
);
