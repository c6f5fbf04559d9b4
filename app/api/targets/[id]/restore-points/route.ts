// /api/targets/:id/restore-points: GET lists the named restore points recorded for the target (viewer); POST starts
// the job that creates one with pg_create_restore_point (operator), answering the job id.
import { z } from 'zod';
import { route } from '@/lib/http';
import { restorePointName } from '@/lib/jobs/kinds';
import { listRestorePoints, startRestorePoint } from '@/lib/wal/restore-points';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });
const body = z.object({ name: restorePointName });

export const GET = route({ role: 'viewer', params }, async ({ params }) => ({ restorePoints: await listRestorePoints(params.id) }));
export const POST = route({ role: 'operator', params, body }, async ({ user, params, body, ip }) => ({ job: await startRestorePoint(user, params.id, body.name, { ip }) }));
