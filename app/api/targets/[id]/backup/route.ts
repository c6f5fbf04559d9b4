// POST /api/targets/:id/backup: "Back up now" (operator); 409 BACKUP_ALREADY_RUNNING names the running job.
import { z } from 'zod';
import { route } from '@/lib/http';
import { startBackup } from '@/lib/backups/start-backup';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });

export const POST = route({ role: 'operator', params }, async ({ user, params, ip }) => ({ job: await startBackup(user, params.id, { ip }) }));
