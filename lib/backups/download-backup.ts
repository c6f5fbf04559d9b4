// Opening a stored artifact for an admin's download (read-only; the audit log records who took a copy).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';
import { LocalStorage } from '../storage/local-storage';

export async function openBackupForDownload(actor: Actor, id: bigint, ip: string | null) {
  const db = getDb();
  const b = await db.backupLog.findUnique({ where: { id }, include: { storage: true } });
  if (!b) throw new UserError('NOT_FOUND', `There is no backup ${id}.`);
  if (b.status !== 'succeeded' || b.deletedAt) throw new UserError('NOT_FOUND', `Backup ${id} has no file to download (${b.deletedAt ? 'removed by retention' : b.status}).`);
  const storage = new LocalStorage(b.storage?.path ?? b.location ?? '');
  const path = storage.localPath(b.backupFile);
  const st = await stat(path).catch(() => null);
  const size = st?.isFile() ? st.size : null;
  if (st?.isDirectory()) {
    throw new UserError('CONFLICT', `Backup ${id} is a directory-format dump (a folder), which cannot be downloaded as one file.`, `Copy the folder ${path} from the worker host, or restore it from the console.`);
  }
  if (size === null) throw new UserError('NOT_FOUND', `The file ${b.backupFile} is not in ${storage.describe()} on this host.`, 'Download it on the worker host, or check the storage.');
  await db.$transaction((tx) => writeAudit(tx, actor, 'backup.download', { entityType: 'backup', entityId: String(id), params: { file: b.backupFile }, ip }));
  return { stream: createReadStream(path), size, name: b.backupFile.split('/').pop()!, sha256: b.checksumSha256 };
}
