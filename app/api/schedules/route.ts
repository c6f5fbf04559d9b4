// POST /api/schedules: add a backup schedule to a target (admin; a base-backup schedule: operator too).
import { route } from '@/lib/http';
import { createSchedule, scheduleInput } from '@/lib/schedules/manage-schedules';

export const POST = route({ role: 'operator', body: scheduleInput }, async ({ user, body, ip }) => ({ schedule: await createSchedule(user, body, ip) }));
