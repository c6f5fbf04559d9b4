// GET /api/me: who is signed in, with which role.
import { route } from '@/lib/http';

export const GET = route({ role: 'viewer' }, async ({ user }) => ({ user }));
