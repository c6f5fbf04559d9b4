// GET /api/audit: the audit log, newest first (admin).
import { z } from 'zod';
import { bigintId } from '@/lib/ids';
import { route } from '@/lib/http';
import { listAudit } from '@/lib/audit/list-audit';

const query = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  beforeId: bigintId('must be an audit entry id').optional(),
  action: z.string().max(50).optional(),
});

export const GET = route({ role: 'admin', query }, async ({ query }) => ({ entries: await listAudit(query) }));
