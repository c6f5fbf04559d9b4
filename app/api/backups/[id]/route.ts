// GET /api/backups/:id: one backup with its manifest and job log.
import { z } from 'zod';
import { bigintId } from '@/lib/ids';
import { route } from '@/lib/http';
import { getBackup } from '@/lib/backups/list-backups';

const params = z.object({ id: bigintId('must be a backup id') });

export const GET = route({ role: 'viewer', params }, ({ params }) => getBackup(params.id));
