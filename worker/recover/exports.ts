// Recovering deleted rows: where a comparison's exports are stored (the storage of its backup, one folder a
// comparison, see docs/repository.md) and their removal with the scratch copy.
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import { exportFolder } from '../../lib/recoveries/comparison';
import type { Storage } from '../../lib/storage/storage';
import { storageFor } from '../../lib/storage/storage-for';

/** The storage of the comparison's backup, where its exports go. */
export async function exportStorage(backupId: string): Promise<Storage> {
  const b = await getDb().backupLog.findUnique({ where: { id: BigInt(backupId) }, include: { storage: true } });
  if (!b) throw new UserError('NOT_FOUND', `There is no backup ${backupId}; the comparison's exports have no storage.`, 'Run the comparison again from a backup that still exists.');
  return storageFor(b);
}

/** The storage name of one export: `recoveries/<comparison job>/<export job>.<sql|csv>` (the job result records it). */
export function exportName(compareJobId: string, exportJobId: string, format: 'sql' | 'csv'): string {
  return `${exportFolder(compareJobId)}/${exportJobId}.${format}`;
}

/** Removes every export of a comparison; a storage that cannot be reached leaves them for the next sweep. */
export async function removeExports(compareJobId: string, backupId: string): Promise<void> {
  try {
    const storage = await exportStorage(backupId);
    for (const o of await storage.list(`${exportFolder(compareJobId)}/`)) await storage.remove(o.name);
    // The folder's own name too: a local folder keeps an empty directory otherwise (a no-op where names are flat).
    await storage.remove(exportFolder(compareJobId));
  } catch {
    // Best effort, as before: the scratch copy is what matters; an export left behind is swept with the next one.
  }
}
