// Recovering deleted rows: where a comparison's exports are stored (the storage of its backup, one folder a
// comparison under its target's prefix, see docs/repository.md) and their removal with the scratch copy.
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import { exportFolder as legacyExportFolder } from '../../lib/recoveries/comparison';
import { safeName } from '../../lib/targets/target-conn';
import type { Storage } from '../../lib/storage/storage';
import { storageFor } from '../../lib/storage/storage-for';

/** The storage of the comparison's backup, where its exports go. */
export async function exportStorage(backupId: string): Promise<Storage> {
  const b = await getDb().backupLog.findUnique({ where: { id: BigInt(backupId) }, include: { storage: true } });
  if (!b) throw new UserError('NOT_FOUND', `There is no backup ${backupId}; the comparison's exports have no storage.`, 'Run the comparison again from a backup that still exists.');
  return storageFor(b);
}

/** The folder of a comparison's exports: under its target's prefix (named as the comparison recorded it, with the
 *  backups' safeName), beside the target's backups and under the same access rules (docs/repository.md). */
export function exportFolder(targetName: string, compareJobId: string): string {
  return `${safeName(targetName)}/_exports/${compareJobId}`;
}

/** The storage name of one export: `<target>/_exports/<comparison job>/<export job>.<sql|csv>` (the job result records
 *  it, and a download reads it from there, so exports written at the root before the move still download). */
export function exportName(targetName: string, compareJobId: string, exportJobId: string, format: 'sql' | 'csv'): string {
  return `${exportFolder(targetName, compareJobId)}/${exportJobId}.${format}`;
}

/**
 * Every folder a comparison's exports may be in: under its target, each folder an export job of it recorded (only a
 * folder named after the comparison), and `recoveries/<comparison job>` at the root, where exports went before.
 */
async function exportFolders(compareJobId: string): Promise<string[]> {
  const db = getDb();
  const compare = await db.job.findUnique({ where: { id: compareJobId }, select: { result: true } });
  const target = (compare?.result as { target?: unknown } | null)?.target;
  const exports = await db.job.findMany({ where: { kind: 'recover-export', payload: { path: ['compareJobId'], equals: compareJobId } }, select: { result: true } });
  const recorded = exports
    .map((j) => (j.result as { file?: unknown } | null)?.file)
    .filter((f): f is string => typeof f === 'string' && f.includes('/'))
    .map((f) => f.slice(0, f.lastIndexOf('/')))
    .filter((folder) => folder.endsWith(`/${compareJobId}`));
  return [...new Set([...(typeof target === 'string' ? [exportFolder(target, compareJobId)] : []), ...recorded, legacyExportFolder(compareJobId)])];
}

/** Removes every export of a comparison; a storage that cannot be reached leaves them for the next sweep. */
export async function removeExports(compareJobId: string, backupId: string): Promise<void> {
  try {
    const storage = await exportStorage(backupId);
    for (const folder of await exportFolders(compareJobId)) {
      for (const o of await storage.list(`${folder}/`)) await storage.remove(o.name);
      // The folder's own name too: a local folder keeps an empty directory otherwise (a no-op where names are flat).
      await storage.remove(folder);
    }
  } catch {
    // Best effort, as before: the scratch copy is what matters; an export left behind is swept with the next one.
  }
}
