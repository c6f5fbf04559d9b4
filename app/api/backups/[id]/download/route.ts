// GET /api/backups/:id/download[?part=globals]: the artifact itself, or its roles and tablespaces file (admin),
// streamed by a worker through the console database; audited.
import { z } from 'zod';
import { bigintId } from '@/lib/ids';
import { route } from '@/lib/http';
import { openBackupForDownload } from '@/lib/backups/download-backup';
import { downloadResponse } from '@/lib/downloads/stream-download';

const params = z.object({ id: bigintId('must be a backup id') });
// ?part=globals: the roles and tablespaces file the manifest's "restore by hand" steps need.
const query = z.object({ part: z.enum(['dump', 'globals']).default('dump') });

export const GET = route({ role: 'admin', params, query }, async ({ user, params, query, ip, req }) => {
  const file = await openBackupForDownload(user, params.id, ip, query.part, req.signal);
  return downloadResponse(file, query.part === 'globals' ? 'application/sql' : 'application/octet-stream');
});
