// GET /api/backups/:id/download[?part=globals]: the artifact itself, or its roles and tablespaces file (admin),
// streamed from local storage; audited.
import { z } from 'zod';
import { bigintId } from '@/lib/ids';
import { Readable } from 'node:stream';
import { route } from '@/lib/http';
import { openBackupForDownload } from '@/lib/backups/download-backup';

const params = z.object({ id: bigintId('must be a backup id') });
// ?part=globals: the roles and tablespaces file the manifest's "restore by hand" steps need.
const query = z.object({ part: z.enum(['dump', 'globals']).default('dump') });

export const GET = route({ role: 'admin', params, query }, async ({ user, params, query, ip }) => {
  const file = await openBackupForDownload(user, params.id, ip, query.part);
  return new Response(Readable.toWeb(file.stream) as ReadableStream, {
    headers: {
      'content-type': query.part === 'globals' ? 'application/sql' : 'application/octet-stream',
      'content-length': String(file.size),
      'content-disposition': `attachment; filename="${file.name.replace(/[^\w.-]/g, '_')}"`,
      'x-checksum-sha256': file.sha256 ?? '',
    },
  });
});
