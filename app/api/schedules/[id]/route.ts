// PATCH /api/schedules/:id (admin: edit, pause), DELETE (admin).
import { z } from 'zod';
import { route } from '@/lib/http';
import { deleteSchedule, schedulePatch, updateSchedule } from '@/lib/schedules/manage-schedules';

const params = z.object({ id: z.uuid({ message: 'must be a schedule id' }) });
export const PATCH = route({ role: 'admin', params, body: schedulePatch }, async ({ user, params, body, ip }) => ({
  schedule: await updateSchedule(user, params.id, body, ip),
}));

export const DELETE = route({ role: 'admin', params }, ({ user, params, ip }) => deleteSchedule(user, params.id, ip));
