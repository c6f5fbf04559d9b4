// GET /api/backups: history with filters (target, type, status, dates) and keyset pagination.
import { z } from 'zod';
import { maxBigint } from '@/lib/ids';
import { route } from '@/lib/http';
import { listBackups } from '@/lib/backups/list-backups';

const query = z.object({
  targetId: z.uuid().optional(),
  type: z.string().max(20).optional(),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  cursor: z
    .string()
    .max(100)
    .refine((c) => {
      const m = /^([^_]+)_(\d+)$/.exec(c);
      return !!m && !Number.isNaN(new Date(m[1]!).getTime()) && BigInt(m[2]!) <= maxBigint;
    }, 'is not a page cursor of this list; go back to the first page')
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const GET = route({ role: 'viewer', query }, ({ query }) => listBackups(query));
