// The one resolver from a backup row or a target to its storage: the storage row it names, else the folder the
// row recorded (backups written to the default folder before it moved), else the default folder.
import { join } from 'node:path';
import { LocalFolderStorage } from './local-folder';
import type { Storage } from './storage';

/** Where backups go when a target names no storage: <LIFEBOAT_DATA_DIR>/backups. */
export function defaultStoragePath(): string {
  return join(process.env.LIFEBOAT_DATA_DIR ?? join(process.cwd(), '.lifeboat'), 'backups');
}

/**
 * A backup row with its storage included, or a target with its storage included. `location` is the folder a
 * backup row recorded (what describe() returned when it was written); a target has none.
 */
export function storageFor(owner: { storage?: { id: string; path: string; kind?: string } | null; location?: string | null }): Storage {
  if (owner.storage) {
    if (owner.storage.kind && owner.storage.kind !== 'local') throw new Error(`storage kind "${owner.storage.kind}" is not supported by this worker`);
    return new LocalFolderStorage(owner.storage.path, { id: owner.storage.id });
  }
  if (owner.location) return new LocalFolderStorage(owner.location);
  // The default folder is Lifeboat's own: made on first use.
  return new LocalFolderStorage(defaultStoragePath(), { create: true });
}
