// Page guard: signed out goes to sign-in, a role too low gets the 403 page (not just a hidden link).
import { forbidden, redirect } from 'next/navigation';
import { getSessionUser, type SessionUser } from './session';
import { hasRole, type Role } from './roles';

export async function requirePageRole(role: Role): Promise<SessionUser> {
  const user = await getSessionUser();
  if (!user) redirect('/login');
  if (!hasRole(user.role, role)) forbidden();
  return user;
}
