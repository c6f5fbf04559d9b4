// An uploaded dump becomes a backup: bytes from the console database to storage (partial, SHA-256, fsync, link),
// pg_restore must read every data block of it (not only its TOC), then a backup_log row the restore wizard offers;
// the chunks are deleted.
import { mkdir, open } from 'node:fs/promises';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { defaultStoragePath, LocalStorage } from '../../lib/storage/local-storage';
import { safeName } from '../../lib/targets/target-conn';
import { readToc } from '../restore/archive';
import { discoverTools } from '../pg/tools';
import { ArchiveDamaged, readWholeArchive } from '../pg/archive-check';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export async function importUpload(ctx: JobContext<JobPayload<'import-upload'>>) {
  const db = getDb();
  const upload = await db.upload.findUnique({ where: { id: ctx.payload.uploadId } });
  if (!upload) throw new UserError('NOT_FOUND', 'The upload is gone.');
  const target = await db.target.findUnique({ where: { id: upload.targetId }, include: { storage: true } });
  if (!target) throw new UserError('NOT_FOUND', 'The target was deleted.');
  const storage = new LocalStorage(target.storage?.path ?? defaultStoragePath());
  if (!target.storage) await mkdir(storage.root, { recursive: true, mode: 0o700 });
  await storage.check();

  // write: the chunks in order into <file>.partial, hashed again on the way.
  await ctx.step('writing the file to storage');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '');
  const file = `${safeName(target.name)}/${safeName(upload.database)}/${stamp}-uploaded-${safeName(upload.fileName)}`;
  const writer = await storage.createWriter(file);
  await ctx.trackPartial(writer.partialPath);
  let committed: string | null = null;
  try {
    const count = await db.uploadChunk.count({ where: { uploadId: upload.id } });
    for (let seq = 0; seq < count; seq++) {
      ctx.signal.throwIfAborted();
      const chunk = await db.uploadChunk.findUnique({ where: { uploadId_seq: { uploadId: upload.id, seq } } });
      if (!chunk) throw new UserError('BACKUP_UNREADABLE', `Part ${seq + 1} of the upload is missing.`);
      if (!writer.stream.write(Buffer.from(chunk.data))) await new Promise((r) => writer.stream.once('drain', r));
      await ctx.progress(((seq + 1) / count) * 80, `${seq + 1} of ${count} parts`);
    }
    writer.stream.end();
    const stored = await writer.commit();
    committed = stored.path;
    await ctx.untrackPartial(writer.partialPath);
    if (stored.sha256 !== upload.sha256) throw new UserError('BACKUP_CHECKSUM_MISMATCH', 'The stored file does not match what was uploaded.');

    // check: a zstd stream or a pg_dump archive that pg_restore reads; anything else is refused.
    await ctx.step('checking it with pg_restore --list');
    const head = Buffer.alloc(5);
    const fh = await open(stored.path, 'r');
    await fh.read(head, 0, 5, 0).finally(() => fh.close());
    const format = head.subarray(0, 4).equals(ZSTD_MAGIC) ? 'custom-zstd' : head.toString('latin1') === 'PGDMP' ? 'custom' : null;
    if (!format) throw new UserError('BACKUP_UNREADABLE', `${upload.fileName} is not a pg_dump custom-format archive (plain SQL and tar dumps are restored with psql or pg_restore by hand).`);
    const tools = (await discoverTools())[0];
    if (!tools) throw new UserError('TOOL_TOO_OLD', 'No pg_restore was found on the worker host.');
    const toc = await readToc(stored.path, format, tools.path('pg_restore'), ctx.signal);

    // read it all: the TOC alone reads fine from a file cut in half; every zstd frame and data block must decode.
    await ctx.step('reading every data block');
    try {
      await readWholeArchive(stored.path, format === 'custom-zstd', tools.path('pg_restore'), ctx.signal);
    } catch (err) {
      if (!(err instanceof ArchiveDamaged)) throw err;
      throw new UserError('BACKUP_UNREADABLE', `${upload.fileName} is incomplete or damaged: ${err.message}`, 'Upload the whole file again (compare its size and SHA-256 with the original), or pick another backup.');
    }

    // register: a backup like any other, marked as uploaded.
    const backup = await db.$transaction(async (tx) => {
      const b = await tx.backupLog.create({
        data: {
          backupType: 'uploaded',
          backupFile: file,
          backupSize: BigInt(stored.size),
          status: 'succeeded',
          targetId: target.id,
          jobId: ctx.jobId,
          databaseName: upload.database,
          format,
          storageId: target.storageId,
          location: storage.describe(),
          checksumSha256: stored.sha256,
          serverVersion: toc.dumpedFrom ?? null,
          toolVersion: toc.dumpedBy ?? null,
          verifiedAt: new Date(),
          finishedAt: new Date(),
          durationMs: 0,
          manifest: { uploaded: true, fileName: upload.fileName, sha256: stored.sha256, size: stored.size, archive: { format: toc.format, entries: toc.entries.length, tables: toc.tables } },
        },
      });
      await tx.upload.delete({ where: { id: upload.id } }); // the chunks go with it
      return b;
    });
    committed = null;
    await ctx.log(`uploaded ${upload.fileName}: ${stored.size} bytes, ${toc.entries.length} TOC entries, registered as backup #${backup.id}`);
    return { backupId: String(backup.id), file, size: stored.size, tables: toc.tables.length };
  } catch (err) {
    await writer.abort().catch(() => {});
    if (committed) await storage.remove(file).catch(() => {});
    await db.upload.delete({ where: { id: upload.id } }).catch(() => {});
    throw err;
  }
}
