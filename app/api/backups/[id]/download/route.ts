// GET /api/backups/:id/download: the artifact itself (admin), streamed from local storage; audited.
import { z } from 'zod';
import { bigintId } from '@/lib/ids';
import { Readable } from 'node:stream';
import { route } from '@/lib/http';
import { openBackupForDownload } from '@/lib/backups/download-backup';

const params = z.object({ id: bigintId('must be a backup id') });

export const GET = route({ role: 'admin', params }, async ({ user, params, ip }) => {
  const file = await openBackupForDownload(user, params.id, ip);
  return new Response(Readable.toWeb(file.stream) as ReadableStream, {
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(file.size),
      'content-disposition': `attachment; filename="${file.name.replace(/[^\w.-]/g, '_')}"`,
      'x-checksum-sha256': file.sha256 ?? '',
    },
  });
});
