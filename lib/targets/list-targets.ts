// Targets as the console lists them; the encrypted password never leaves this module.
import { getDb } from '../db';

export async function listTargets() {
  const rows = await getDb().target.findMany({ orderBy: { name: 'asc' } });
  return rows.map(({ passwordEnc, ...t }) => ({ ...t, hasPassword: passwordEnc !== null }));
}
