// A stored backup as a restore sees it: its row and storage, whether its bytes are the ones the backup recorded,
// and how pg_restore reads it (the stored stream, or a copy staged in the job's scratch folder).
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import { assertKept } from '../../lib/backups/kept';
import { sha256OfStream } from '../../lib/storage/hashing';
import { storageFor } from '../../lib/storage/storage-for';
import type { Storage } from '../../lib/storage/storage';
import type { ArchiveInput } from '../pg/pg-restore';

export async function loadBackup(id: bigint) {
  const b = await getDb().backupLog.findUnique({ where: { id }, include: { storage: true, target: true } });
  if (!b) throw new UserError('NOT_FOUND', `There is no backup ${id}.`);
  if (b.status !== 'succeeded') throw new UserError('BACKUP_UNUSABLE', `Backup ${id} ${b.status}; only a succeeded backup can be restored.`);
  assertKept(id, b); // removed, or being removed by retention (lib/backups/kept.ts)
  return { backup: b, storage: storageFor(b) };
}

export type StoredBackup = Awaited<ReturnType<typeof loadBackup>>['backup'];

/** A directory-format backup is a folder of objects "<name>/<file>"; every other format is one object. */
export const isFolder = (b: { format: string | null }) => b.format === 'directory';

export function missing(storage: Storage, b: StoredBackup): UserError {
  return new UserError('BACKUP_FILE_MISSING', `The backup file ${b.backupFile} is not in ${storage.describe()}.`, 'Check the storage on the worker host; the file may have been moved or deleted by hand.');
}

/** The files of a folder backup, sorted, with their names inside the folder. */
export async function folderFiles(storage: Storage, b: StoredBackup) {
  const prefix = `${b.backupFile}/`;
  const files = (await storage.list(prefix)).map((o) => ({ ...o, file: o.name.slice(prefix.length) }));
  if (!files.length) throw missing(storage, b);
  return files;
}

/** Size of the stored archive (a folder: all its files); BACKUP_FILE_MISSING when it is not there. */
export async function storedSize(storage: Storage, b: StoredBackup): Promise<number> {
  if (isFolder(b)) return (await folderFiles(storage, b)).reduce((n, f) => n + f.size, 0);
  const st = await storage.stat(b.backupFile);
  if (!st) throw missing(storage, b);
  return st.size;
}

/** The hash a folder backup records: SHA-256 of its "sha256  file" lines, one a file in name order. */
export function folderSum(files: { file: string; sha256: string }[]): string {
  return createHash('sha256').update(files.map((f) => `${f.sha256}  ${f.file}\n`).join('')).digest('hex');
}

/** The stored object read from the start; a missing one says BACKUP_FILE_MISSING. */
export async function openStored(storage: Storage, b: StoredBackup, signal: AbortSignal, name = b.backupFile): Promise<Readable> {
  return storage.get(name, { signal }).catch((err) => {
    throw err instanceof UserError && err.code === 'STORAGE_OBJECT_MISSING' ? missing(storage, b) : err;
  });
}

/** The same checksum the backup recorded, read through the storage: the file's SHA-256, or for a folder its list's. */
export async function checksumOf(storage: Storage, b: StoredBackup, signal: AbortSignal): Promise<{ sha256: string; size: number }> {
  if (!isFolder(b)) return sha256OfStream(await openStored(storage, b, signal));
  const sums: { file: string; sha256: string }[] = [];
  let size = 0;
  for (const f of await folderFiles(storage, b)) {
    const s = await sha256OfStream(await openStored(storage, b, signal, f.name));
    sums.push({ file: f.file, sha256: s.sha256 });
    size += s.size;
  }
  return { sha256: folderSum(sums), size };
}

/** BACKUP_CHECKSUM_MISMATCH unless `sum` is what the backup recorded (a backup that recorded none passes). */
export function requireRecordedSum(b: StoredBackup, sum: { sha256: string; size: number }): void {
  if (b.checksumSha256 && sum.sha256 !== b.checksumSha256) {
    throw new UserError('BACKUP_CHECKSUM_MISMATCH', `The file ${b.backupFile} does not match its recorded SHA-256 (recorded ${b.checksumSha256.slice(0, 16)}…, now ${sum.sha256.slice(0, 16)}…, ${sum.size} bytes).`);
  }
}

/** A single-file archive as pg_restore reads it from the storage, without a copy (a folder must be staged first). */
export function storedInput(storage: Storage, b: StoredBackup, signal: AbortSignal): ArchiveInput {
  return { open: () => openStored(storage, b, signal), zstd: b.format === 'custom-zstd' };
}

