// Opening a stored artifact (the dump, or its roles-and-tablespaces file) for an admin's download (read-only; the
// audit log records who took which copy).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';
import { LocalStorage } from '../storage/local-storage';

/** What of a backup can be downloaded: the dump itself, or the roles and tablespaces saved beside it. */
export type DownloadPart = 'dump' | 'globals';

export async function openBackupForDownload(actor: Actor, id: bigint, ip: string | null, part: DownloadPart = 'dump') {
  const db = getDb();
  const b = await db.backupLog.findUnique({ where: { id }, include: { storage: true } });
  if (!b) throw new UserError('NOT_FOUND', `There is no backup ${id}.`);
  if (b.status !== 'succeeded' || b.deletedAt) throw new UserError('NOT_FOUND', `Backup ${id} has no file to download (${b.deletedAt ? 'removed by retention' : b.status}).`);
  // The globals file (roles with their password hashes when the backup user could read them) is what a restore by
  // hand needs first; the route lets admins only, and the audit entry names the part taken.
  const name = part === 'globals' ? b.globalsFile : b.backupFile;
  if (!name) throw new UserError('NOT_FOUND', `Backup ${id} has no roles and tablespaces file (it was uploaded, or made before they were saved).`);
  const storage = new LocalStorage(b.storage?.path ?? b.location ?? '');
  const path = storage.localPath(name);
  const st = await stat(path).catch(() => null);
  const size = st?.isFile() ? st.size : null;
  if (st?.isDirectory()) {
    throw new UserError('BACKUP_NOT_DOWNLOADABLE', `Backup ${id} is a directory-format dump (a folder), which cannot be downloaded as one file.`, `Copy the folder ${path} from the worker host, or restore it from the console.`);
  }
  if (size === null) throw new UserError('NOT_FOUND', `The file ${name} is not in ${storage.describe()} on this host.`, 'Download it on the worker host, or check the storage.');
  const sha256 = part === 'globals' ? ((b.manifest as { globals?: { sha256?: string } } | null)?.globals?.sha256 ?? null) : b.checksumSha256;
  await db.$transaction((tx) => writeAudit(tx, actor, 'backup.download', { entityType: 'backup', entityId: String(id), params: { file: name, part }, ip }));
  return { stream: createReadStream(path), size, name: name.split('/').pop()!, sha256 };
}
