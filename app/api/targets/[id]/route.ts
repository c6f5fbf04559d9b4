// GET /api/targets/:id (viewer; restore hooks only for admins), PATCH (admin: edit, disable; a connection edit is
// tested at once), DELETE (admin: backups are kept).
import { z } from 'zod';
import { route } from '@/lib/http';
import { deleteTarget, getTarget, updateTarget } from '@/lib/targets/manage-targets';
import { targetPatch } from '@/lib/targets/schemas';

const params = z.object({ id: z.uuid({ message: 'must be a target id' }) });

export const GET = route({ role: 'viewer', params }, async ({ user, params }) => ({ target: await getTarget(params.id, user) }));

export const PATCH = route({ role: 'admin', params, body: targetPatch }, async ({ user, params, body, ip }) => {
  const { testJob, ...target } = await updateTarget(user, params.id, body, ip);
  return { target, testJob };
});

export const DELETE = route({ role: 'admin', params }, ({ user, params, ip }) => deleteTarget(user, params.id, ip));
