// POST /api/schedules: add a backup schedule to a target (admin).
import { route } from '@/lib/http';
import { createSchedule, scheduleInput } from '@/lib/schedules/manage-schedules';

export const POST = route({ role: 'admin', body: scheduleInput }, async ({ user, body, ip }) => ({ schedule: await createSchedule(user, body, ip) }));
