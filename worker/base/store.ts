// store: pg_basebackup's files from scratch into storage under <target>/_base/<label>/, one put each, with
// PostgreSQL's own names (tablespaces, base, WAL, backup_manifest last); each put is on the job's cleanup stack
// (worker/backup/stored.ts) until the backup is recorded. The folder's checksum is the SHA-256 of its sorted
// "sha256  file" lines, as for a directory-format dump.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { StoredSet } from '../backup/stored';

export interface StoredBase {
  folder: string;
  size: number;
  sha256: string;
  files: { name: string; size: number; sha256: string }[];
}

/** `from`..`to`: the part of the job's progress bar this step fills. */
export async function storeBaseBackup(ctx: JobContext<unknown>, store: StoredSet, folder: string, dir: string, files: string[], range: { from: number; to: number }): Promise<StoredBase> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(dir, f))).size));
  const total = sizes.reduce((a, b) => a + b, 0) || 1;
  let done = 0;
  const out: StoredBase['files'] = [];
  for (const [i, file] of files.entries()) {
    await ctx.progress(range.from + ((range.to - range.from) * done) / total, `storing ${file} (${(sizes[i]! / 1e6).toFixed(1)} MB)`).catch(() => {});
    const o = await store.put(`${folder}/${file}`, createReadStream(join(dir, file), { highWaterMark: 1 << 20 }));
    out.push({ name: file, size: o.size, sha256: o.sha256 });
    done += sizes[i]!;
  }
  const sorted = [...out].sort((a, b) => a.name.localeCompare(b.name));
  const sha256 = createHash('sha256').update(sorted.map((f) => `${f.sha256}  ${f.name}\n`).join('')).digest('hex');
  return { folder, size: out.reduce((a, f) => a + f.size, 0), sha256, files: out };
}
