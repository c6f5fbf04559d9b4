// The signed-in user for a request, read from the database every time so role changes and disabling apply at once.
import { getServerSession } from 'next-auth';
import { encode } from 'next-auth/jwt';
import { getDb } from '../db';
import type { User } from '../generated/prisma/client';
import { UserError } from '../errors';
import { getAuthOptions } from './options';
import { hasRole, type Role } from './roles';

export type SessionUser = Pick<User, 'id' | 'email' | 'name' | 'role'>;

/** The current user, or null when signed out, unknown or disabled. */
export async function getSessionUser(): Promise<SessionUser | null> {
  const session = (await getServerSession(getAuthOptions())) as { userId?: string; authAt?: unknown } | null;
  const id = session?.userId;
  if (!id) return null;
  const user = await getDb().user.findUnique({
    where: { id },
    select: { id: true, email: true, name: true, role: true, disabled: true, passwordChangedAt: true },
  });
  if (!user || user.disabled) return null;
  if (!sessionOutlivesPasswordChange(session.authAt, user.passwordChangedAt)) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

/** False for a session that signed in before the password last changed (or whose sign-in time is unknown then). */
export function sessionOutlivesPasswordChange(authAt: unknown, passwordChangedAt: Date | null): boolean {
  if (!passwordChangedAt) return true;
  return typeof authAt === 'number' && authAt >= passwordChangedAt.getTime();
}

/** A session cookie for `user` signed in now: the session that changed its own password stays signed in. */
export async function freshSessionCookie(user: Pick<User, 'id' | 'email' | 'name'>): Promise<string> {
  const options = getAuthOptions();
  const maxAge = options.session?.maxAge ?? 12 * 60 * 60;
  const secure = options.useSecureCookies === true;
  const value = await encode({
    token: { sub: user.id, email: user.email, name: user.name, authAt: Date.now() },
    secret: options.secret!,
    maxAge,
  });
  const name = `${secure ? '__Secure-' : ''}next-auth.session-token`;
  const expires = new Date(Date.now() + maxAge * 1000).toUTCString();
  return `${name}=${value}; Path=/; Expires=${expires}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
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
