// GET /api/recoveries/exports/:id: the file an export job wrote (operator), streamed from local storage; audited.
import { z } from 'zod';
import { Readable } from 'node:stream';
import { route } from '@/lib/http';
import { openRecoveryExport } from '@/lib/recoveries/download-export';

const params = z.object({ id: z.uuid({ message: 'must be an export job id' }) });

export const GET = route({ role: 'operator', params }, async ({ user, params, ip }) => {
  const file = await openRecoveryExport(user, params.id, ip);
  return new Response(Readable.toWeb(file.stream) as ReadableStream, {
    headers: {
      'content-type': file.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/sql; charset=utf-8',
      'content-length': String(file.size),
      'content-disposition': `attachment; filename="${file.name.replace(/[^\w.-]/g, '_')}"`,
      'x-checksum-sha256': file.sha256,
    },
  });
});
