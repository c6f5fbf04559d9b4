// GET /api/users: every user; POST /api/users: create one (admin).
import { route } from '@/lib/http';
import { createUser, listUsers } from '@/lib/users/manage-users';
import { createUserSchema } from '@/lib/users/schemas';

export const GET = route({ role: 'admin' }, async () => ({ users: await listUsers() }));

export const POST = route({ role: 'admin', body: createUserSchema }, async ({ user, body, ip }) => ({
  user: await createUser(user, body, ip),
}));
