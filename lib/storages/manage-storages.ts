// Storage locations (admin): a local folder on the worker hosts for now; the worker checks it at each backup.
import { z } from 'zod';
import { isAbsolute } from 'node:path';
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';

export const storageInput = z.object({
  name: z.string().trim().min(1).max(80),
  kind: z.literal('local').default('local'),
  path: z.string().trim().min(1).refine((p) => isAbsolute(p), 'must be an absolute path on the worker host'),
});

export function listStorages() {
  return getDb().storage.findMany({ orderBy: { name: 'asc' } });
}

export async function createStorage(actor: Actor, input: z.infer<typeof storageInput>, ip: string | null) {
  return getDb().$transaction(async (tx) => {
    if (await tx.storage.findUnique({ where: { name: input.name } })) throw new UserError('NAME_TAKEN', `A storage named "${input.name}" exists.`, undefined, { name: 'is taken' });
    const s = await tx.storage.create({ data: input });
    await writeAudit(tx, actor, 'storage.create', { entityType: 'storage', entityId: s.id, params: input, ip });
    return s;
  });
}
