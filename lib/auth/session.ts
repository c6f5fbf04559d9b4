// The signed-in user for a request, read from the database every time so role changes and disabling apply at once.
import { getServerSession } from 'next-auth';
import { getDb } from '../db';
import type { User } from '../generated/prisma/client';
import { UserError } from '../errors';
import { getAuthOptions } from './options';
import { hasRole, type Role } from './roles';

export type SessionUser = Pick<User, 'id' | 'email' | 'name' | 'role'>;

/** The current user, or null when signed out, unknown or disabled. */
export async function getSessionUser(): Promise<SessionUser | null> {
  const session = (await getServerSession(getAuthOptions())) as { userId?: string } | null;
  const id = session?.userId;
  if (!id) return null;
  const user = await getDb().user.findUnique({
    where: { id },
    select: { id: true, email: true, name: true, role: true, disabled: true },
  });
  if (!user || user.disabled) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

/** The current user with at least `role`; throws UNAUTHENTICATED or FORBIDDEN otherwise. */
export async function requireUser(role: Role = 'viewer'): Promise<SessionUser> {
  const user = await getSessionUser();
  if (!user) throw new UserError('UNAUTHENTICATED', 'You are not signed in, or your account was disabled.');
  if (!hasRole(user.role, role)) {
    throw new UserError('FORBIDDEN', `This needs the ${role} role; you are ${user.role}.`);
  }
  return user;
}
