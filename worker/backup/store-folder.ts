// store folder: a verified directory-format dump from scratch into storage, file by file as `<name>/<file>`
// (sorted); the folder's checksum is the SHA-256 of its sorted "sha256  file" lines, which the manifest carries.
// The folder counts as complete in storage once its manifest is stored, which comes last.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredSet } from './stored';

export interface StoredFolder {
  name: string;
  size: number;
  sha256: string;
  files: { name: string; size: number; sha256: string }[];
}

export async function storeFolder(store: StoredSet, name: string, dir: string): Promise<StoredFolder> {
  const files: StoredFolder['files'] = [];
  for (const file of (await readdir(dir)).sort()) {
    const o = await store.put(`${name}/${file}`, createReadStream(join(dir, file), { highWaterMark: 1 << 20 }));
    files.push({ name: file, size: o.size, sha256: o.sha256 });
  }
  // Stored: the scratch copy is not needed for the rest of a whole-server run (the job's scratch goes at its end).
  await rm(dir, { recursive: true, force: true });
  const sha256 = createHash('sha256').update(files.map((f) => `${f.sha256}  ${f.name}\n`).join('')).digest('hex');
  return { name, size: files.reduce((a, f) => a + f.size, 0), sha256, files };
}
