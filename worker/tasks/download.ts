// A file streamed to a browser (the web process never opens a storage): the worker reads the object from its storage
// into download_chunks, at most DOWNLOAD_WINDOW chunks ahead of the route that sends and deletes them, so a slow
// browser makes the worker wait rather than the table grow. The job ends when the browser has every byte; what is
// left when it ends otherwise (a cancel, a failure) is deleted, and the sweep deletes what a dead worker left.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import { assertKept } from '../../lib/backups/kept';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { storageFor } from '../../lib/storage/storage-for';
import { DOWNLOAD_CHUNK_BYTES, DOWNLOAD_STALL_MS, DOWNLOAD_WINDOW, directoryDump, pollPauses } from '../../lib/downloads/download-window';

type Ctx = JobContext<JobPayload<'download'>>;

export async function download(ctx: Ctx) {
  const db = getDb();
  // find: the object, its storage and the SHA-256 the catalog holds for it (the payload names only ids).
  await ctx.step('opening the file');
  const object = await findObject(ctx.payload);
  const storage = storageFor(object.owner);

  // open: its size is the route's Content-Length; a name that is a folder is a directory-format dump.
  const info = await storage.stat(object.name);
  if (!info) {
    if (object.backupId && (await storage.list(`${object.name}/`)).length) throw directoryDump(object.backupId, object.name, storage.describe());
    throw object.missing(storage.describe());
  }
  const source = await storage.get(object.name, { signal: ctx.signal });
  try {
    await db.download.create({ data: { jobId: ctx.jobId, size: BigInt(info.size) } });

    // send: the bytes in chunks, each written once the browser has room for it; the last one only after the checks.
    await ctx.step(`sending ${info.size} bytes`);
    const sha256 = await sendChunks(ctx, source, info.size, (sha) => {
      if (object.sha256 && sha !== object.sha256) {
        throw new UserError('BACKUP_CHECKSUM_MISMATCH', `${object.name} in ${storage.describe()} does not match the SHA-256 recorded when it was written (${object.sha256}); the download was stopped before its end.`);
      }
    });

    // deliver: the job ends when the route has taken the last chunk.
    await waitForRoom(ctx, 0);
    await ctx.log(`sent ${object.name}: ${info.size} bytes, SHA-256 ${sha256}`);
    return { file: object.name, size: info.size, sha256 };
  } finally {
    source.destroy();
    // cleanup: whatever the browser did not take goes with the job, whatever its outcome (the chunks go with their row).
    await db.download.deleteMany({ where: { jobId: ctx.jobId } });
  }
}

/**
 * Writes the object's bytes as chunks of DOWNLOAD_CHUNK_BYTES, hashing them. At least one byte is held back until the
 * end is read, the size checked and `check` has passed, so a route that received `size` bytes received the whole
 * object, and a damaged or changed one ends the browser's download with an error instead of a complete-looking file.
 */
async function sendChunks(ctx: Ctx, source: Readable, size: number, check: (sha256: string) => void): Promise<string> {
  const db = getDb();
  const hash = createHash('sha256');
  let seq = 0;
  let read = 0;
  let written = 0;
  let pending: Buffer<ArrayBuffer> = Buffer.alloc(0);
  const write = async (data: Buffer<ArrayBuffer>) => {
    await waitForRoom(ctx, DOWNLOAD_WINDOW - 1);
    await db.downloadChunk.create({ data: { jobId: ctx.jobId, seq: seq++, data } });
    written += data.length;
    await ctx.progress((written / Math.max(1, size)) * 100, `${mib(written)} of ${mib(size)} MiB`);
  };
  for await (const part of source) {
    const b = part as Buffer<ArrayBuffer>;
    hash.update(b);
    read += b.length;
    if (read > size) throw changed(size, read);
    pending = pending.length ? Buffer.concat([pending, b]) : b;
    while (pending.length > DOWNLOAD_CHUNK_BYTES) {
      await write(pending.subarray(0, DOWNLOAD_CHUNK_BYTES));
      pending = pending.subarray(DOWNLOAD_CHUNK_BYTES);
    }
  }
  if (read !== size) throw changed(size, read);
  const sha256 = hash.digest('hex');
  check(sha256);
  if (pending.length) await write(pending);
  return sha256;
}

/** Waits until at most `atMost` chunks wait for the route; a browser that takes nothing for too long stops the job. */
async function waitForRoom(ctx: Ctx, atMost: number): Promise<void> {
  const db = getDb();
  let waiting = -1;
  let since = Date.now();
  for (const pause of pollPauses()) {
    const n = await db.downloadChunk.count({ where: { jobId: ctx.jobId } });
    if (n <= atMost) return;
    if (n !== waiting) [waiting, since] = [n, Date.now()];
    else if (Date.now() - since > DOWNLOAD_STALL_MS) {
      throw new UserError('DOWNLOAD_STALLED', `The browser took nothing for ${DOWNLOAD_STALL_MS / 60_000} minutes; the download was stopped.`);
    }
    await sleep(pause, undefined, { signal: ctx.signal });
  }
}

function changed(size: number, read: number): UserError {
  return new UserError('BACKUP_CHECKSUM_MISMATCH', `The file changed while it was read: ${read} bytes${read > size ? ' and more' : ''} instead of ${size}; the download was stopped before its end.`);
}

const mib = (n: number) => (n / 2 ** 20).toFixed(1);

/** What a payload names: the object, the row whose storage holds it, and its recorded SHA-256. */
async function findObject(p: JobPayload<'download'>) {
  const db = getDb();
  if (p.of === 'backup') {
    const b = await db.backupLog.findUnique({ where: { id: BigInt(p.backupId) }, include: { storage: true } });
    if (b) assertKept(p.backupId, b);
    if (!b || b.status !== 'succeeded') throw new UserError('NOT_FOUND', `Backup ${p.backupId} has no file to download.`);
    const name = p.part === 'globals' ? b.globalsFile : b.backupFile;
    if (!name) throw new UserError('NOT_FOUND', `Backup ${p.backupId} has no roles and tablespaces file.`);
    const sha256 = p.part === 'globals' ? ((b.manifest as { globals?: { sha256?: string } } | null)?.globals?.sha256 ?? null) : b.checksumSha256;
    return {
      name,
      owner: b,
      sha256,
      backupId: p.backupId,
      missing: (where: string) => new UserError('NOT_FOUND', `The file ${name} is not in ${where}.`, 'Check the storage on the worker host (the file may have been moved or removed by hand), or pick another backup.'),
    };
  }
  const exp = await db.job.findUnique({ where: { id: p.exportJobId } });
  if (!exp || exp.kind !== 'recover-export' || exp.status !== 'succeeded' || !exp.result) throw new UserError('NOT_FOUND', `There is no finished export ${p.exportJobId}.`);
  const r = exp.result as { file: string; sha256: string };
  const compare = await db.job.findUnique({ where: { id: (exp.payload as { compareJobId: string }).compareJobId } });
  const backupId = (compare?.payload as { backupId?: string } | undefined)?.backupId;
  // Exports live beside the comparison's backup, in its storage.
  const b = backupId ? await db.backupLog.findUnique({ where: { id: BigInt(backupId) }, include: { storage: true } }) : null;
  return {
    name: r.file,
    owner: b ?? { storage: null, location: null },
    sha256: r.sha256,
    backupId: null,
    missing: () =>
      new UserError('NOT_FOUND', `The export file is gone: exports are removed with the comparison's scratch copy (re-insert, discard, or after 24 hours).`, 'Run the comparison again, then export.'),
  };
}
