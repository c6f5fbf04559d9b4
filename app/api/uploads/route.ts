// POST /api/uploads?targetId=&database=&fileName=: upload a dump file (admin); the body is the file itself.
// A worker stores it, checks it with pg_restore --list, and registers it as a backup the restore wizard offers.
import { z } from 'zod';
import { route } from '@/lib/http';
import { storeUpload } from '@/lib/uploads/store-upload';
import { UserError } from '@/lib/errors';

const query = z.object({
  targetId: z.uuid({ message: 'must be a target id' }),
  database: z.string().trim().min(1, 'is required').refine((v) => Buffer.byteLength(v) <= 63, 'is longer than PostgreSQL allows (63 bytes)'),
  fileName: z.string().trim().min(1).max(200).regex(/^[^/\\]+$/, 'must be a file name, not a path'),
});

export const POST = route({ role: 'admin', query }, async ({ user, query, req, ip }) => {
  if (!req.body) throw new UserError('VALIDATION', 'The request has no file in its body.');
  return storeUpload(user, query, req.body as unknown as AsyncIterable<Uint8Array>, ip);
});
