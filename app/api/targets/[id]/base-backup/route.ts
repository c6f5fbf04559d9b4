// POST /api/targets/:id/base-backup: "Base backup now" (operator, as "Back up now"); the body may choose the
// compression; 409 BASE_BACKUP_ALREADY_RUNNING names the running job.
import { z } from 'zod';
import { route } from '@/lib/http';
import { baseBackupPayload } from '@/lib/jobs/kinds';
import { startBaseBackup } from '@/lib/backups/start-base-backup';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });
const body = z.object({
  compression: baseBackupPayload.shape.compression,
  level: baseBackupPayload.shape.level,
  workers: baseBackupPayload.shape.workers,
  walMethod: baseBackupPayload.shape.walMethod,
}).default({});

export const POST = route({ role: 'operator', params, body }, async ({ user, params, body, ip }) => ({ job: await startBaseBackup(user, params.id, body, { ip }) }));
