// PATCH /api/users/:id: change name, role, password or disabled (admin).
import { z } from 'zod';
import { route } from '@/lib/http';
import { updateUser } from '@/lib/users/manage-users';
import { updateUserSchema } from '@/lib/users/schemas';

const params = z.object({ id: z.uuid({ message: 'must be a user id' }) });

export const PATCH = route({ role: 'admin', params, body: updateUserSchema }, async ({ user, params, body, ip }) => ({
  user: await updateUser(user, params.id, body, ip),
}));
