// Users: list, create, change role, disable; the last active admin can never be removed.
import type { z } from 'zod';
import { getDb, type Tx } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';
import { hashPassword } from '../auth/password';
import type { createUserSchema, updateUserSchema } from './schemas';

// Serializes admin changes so two concurrent demotions cannot both pass the last-admin check.
const ADMIN_LOCK = 0x4c42_0001;

const userSelect = {
  id: true,
  email: true,
  name: true,
  role: true,
  disabled: true,
  createdAt: true,
  lastLoginAt: true,
  passwordHash: true,
} as const;

function present<T extends { passwordHash: string | null }>({ passwordHash, ...u }: T) {
  return { ...u, hasPassword: passwordHash !== null };
}

export async function listUsers() {
  const users = await getDb().user.findMany({ orderBy: [{ disabled: 'asc' }, { email: 'asc' }], select: userSelect });
  return users.map(present);
}

export async function createUser(actor: Actor, input: z.infer<typeof createUserSchema>, ip: string | null) {
  const passwordHash = await hashPassword(input.password);
  return getDb().$transaction(async (tx) => {
    const existing = await tx.user.findUnique({ where: { email: input.email } });
    if (existing) throw new UserError('EMAIL_TAKEN', `A user with the email ${input.email} already exists.`, undefined, { email: 'is taken' });
    const user = await tx.user
      .create({ data: { email: input.email, name: input.name, role: input.role, passwordHash }, select: userSelect })
      .catch((err: { code?: string }) => {
        // Two admins adding the same email at once: the unique index decides; the loser hears why.
        if (err.code === 'P2002') throw new UserError('EMAIL_TAKEN', `A user with the email ${input.email} already exists.`, undefined, { email: 'is taken' });
        throw err;
      });
    await writeAudit(tx, actor, 'user.create', { entityType: 'user', entityId: user.id, params: { email: input.email, role: input.role }, ip });
    return present(user);
  });
}

async function activeAdminsOtherThan(tx: Tx, id: string): Promise<number> {
  return tx.user.count({ where: { role: 'admin', disabled: false, id: { not: id } } });
}

export async function updateUser(actor: Actor, id: string, input: z.infer<typeof updateUserSchema>, ip: string | null) {
  const passwordHash = input.password ? await hashPassword(input.password) : undefined;
  return getDb().$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADMIN_LOCK}::bigint)`;
    const user = await tx.user.findUnique({ where: { id } });
    if (!user) throw new UserError('NOT_FOUND', `There is no user ${id}.`);
    const losesAdmin =
      user.role === 'admin' && !user.disabled && ((input.role && input.role !== 'admin') || input.disabled === true);
    if (losesAdmin && (await activeAdminsOtherThan(tx, id)) === 0) {
      throw new UserError('LAST_ADMIN', `${user.email} is the last active admin; Lifeboat needs at least one.`);
    }
    if (actor.id === id && input.disabled === true) {
      throw new UserError('SELF_LOCKOUT', 'You cannot disable your own account.');
    }
    const updated = await tx.user.update({
      where: { id },
      data: {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.role !== undefined ? { role: input.role } : {}),
        ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
        // Ends every session that signed in before now (lib/auth/session.ts); the route re-issues the actor's own.
        ...(passwordHash ? { passwordHash, passwordChangedAt: new Date() } : {}),
      },
      select: userSelect,
    });
    const changes = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.role !== undefined ? { role: { from: user.role, to: input.role } } : {}),
      ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
      ...(passwordHash ? { password: 'changed' } : {}),
    };
    await writeAudit(tx, actor, 'user.update', { entityType: 'user', entityId: id, params: { email: user.email, ...changes }, ip });
    return present(updated);
  });
}
