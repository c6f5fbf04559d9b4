// Step "stage the archive": a seekable copy of the stored archive in the job's scratch folder (pg_restore --jobs
// seeks; a stream cannot be restored in parallel), checked against the recorded SHA-256 on the way. Never written
// into the storage; the scratch folder goes when the job ends.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hashingTap, sha256OfStream, STREAM_BLOCK, type Digest } from '../../lib/storage/hashing';
import type { Storage } from '../../lib/storage/storage';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { zstdDecompressFile } from '../pg/zstd';
import { folderFiles, folderSum, isFolder, openStored, requireRecordedSum, type StoredBackup } from './archive';

export type StepContext = Omit<JobContext<unknown>, 'payload'>;

export interface Staged {
  /** The archive file (or folder) pg_restore reads. */
  file: string;
  sha256: string;
  size: number;
}

/**
 * Copies (a .zst: decompresses) the stored archive into scratch and checks its SHA-256 against the catalog. A
 * .zst's stream goes to zstd as its stdin (a local storage's has an fd: the kernel feeds zstd, not the worker) while
 * the worker hashes a second read of it on the core zstd leaves idle; the checksum's verdict comes first, since a
 * damaged file is the likelier story of a failed decompression. The second read comes from the page cache and costs
 * less than reading once and relaying the bytes into zstd through the worker (measured on a 172 MB .zst: 1.15 CPU s
 * for both processes this way, 1.18-1.20 relayed in 1 or 4 MiB chunks, 1.12 for zstd on the path beside a 4 MiB
 * block hash as before the reshape).
 */
export async function stageArchive(ctx: StepContext, storage: Storage, b: StoredBackup): Promise<Staged> {
  const dir = await ctx.scratch();
  if (isFolder(b)) return stageFolder(ctx, storage, b, join(dir, 'archive'));
  const file = join(dir, 'archive.dump');
  if (b.format !== 'custom-zstd') {
    const sum = await copyHashing(await openStored(storage, b, ctx.signal), file, ctx.signal);
    requireRecordedSum(b, sum);
    return { file, ...sum };
  }
  const z = zstdDecompressFile(await openStored(storage, b, ctx.signal), file, { signal: ctx.signal, code: 'BACKUP_UNREADABLE' });
  const hashed = openStored(storage, b, ctx.signal).then(sha256OfStream);
  const [zr, s] = await Promise.allSettled([z, hashed]);
  if (s.status === 'rejected') throw s.reason;
  requireRecordedSum(b, s.value);
  if (zr.status === 'rejected') throw zr.reason;
  return { file, ...s.value };
}

/** A folder backup: each stored file into `dir`, hashed on the way; the folder's sum is checked at the end. */
async function stageFolder(ctx: StepContext, storage: Storage, b: StoredBackup, dir: string): Promise<Staged> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const sums: { file: string; sha256: string }[] = [];
  let size = 0;
  for (const f of await folderFiles(storage, b)) {
    const s = await copyHashing(await openStored(storage, b, ctx.signal, f.name), join(dir, f.file), ctx.signal);
    sums.push({ file: f.file, sha256: s.sha256 });
    size += s.size;
  }
  const sum = { sha256: folderSum(sums), size };
  requireRecordedSum(b, sum);
  return { file: dir, ...sum };
}

async function copyHashing(source: Readable, file: string, signal: AbortSignal): Promise<Digest> {
  const tap = hashingTap();
  await pipeline(source, tap, createWriteStream(file, { mode: 0o600, highWaterMark: STREAM_BLOCK }), { signal });
  return tap.digest();
}
