// GET /api/recoveries/exports/:id: the file an export job wrote (operator), streamed by a worker through the console
// database; audited.
import { z } from 'zod';
import { route } from '@/lib/http';
import { openRecoveryExport } from '@/lib/recoveries/download-export';
import { downloadResponse } from '@/lib/downloads/stream-download';

const params = z.object({ id: z.uuid({ message: 'must be an export job id' }) });

export const GET = route({ role: 'operator', params }, async ({ user, params, ip, req }) => {
  const file = await openRecoveryExport(user, params.id, ip, req.signal);
  return downloadResponse(file, file.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/sql; charset=utf-8');
});
