// PATCH /api/users/:id: change name, role, password or disabled (admin). A new password ends the user's sessions;
// an admin who changed their own gets a fresh cookie, so only their other sessions end.
import { z } from 'zod';
import { freshSessionCookie } from '@/lib/auth/session';
import { jsonResponse, route } from '@/lib/http';
import { updateUser } from '@/lib/users/manage-users';
import { updateUserSchema } from '@/lib/users/schemas';

const params = z.object({ id: z.uuid({ message: 'must be a user id' }) });

export const PATCH = route({ role: 'admin', params, body: updateUserSchema }, async ({ user, params, body, ip }) => {
  const updated = await updateUser(user, params.id, body, ip);
  if (!(body.password && params.id === user.id)) return { user: updated };
  const res = jsonResponse({ user: updated });
  res.headers.append('set-cookie', await freshSessionCookie(updated));
  return res;
});
