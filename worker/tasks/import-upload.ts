// An uploaded dump becomes a backup: the parts from the console database into the job's scratch folder (hashed on
// the way), pg_restore must read every data block of it (not only its TOC), then it is put into the storage with its
// manifest beside it (put last: with it the upload is a backup to anyone who opens the storage), and a backup_log row
// the restore wizard offers is written; the parts are deleted. A damaged upload never enters the storage.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { storageFor } from '../../lib/storage/storage-for';
import { safeName } from '../../lib/targets/target-conn';
import { discoverTools } from '../pg/tools';
import { decodeArchive, readToc, type ArchiveInput } from '../pg/pg-restore';
import { ToolError } from '../../lib/jobs/tool-error';
import { workerHost } from '../../lib/jobs/sweep-jobs';
import { manifestText } from '../backup/manifest';
import type { Toc } from '../pg/pg-restore';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export async function importUpload(ctx: JobContext<JobPayload<'import-upload'>>) {
  const db = getDb();
  const upload = await db.upload.findUnique({ where: { id: ctx.payload.uploadId } });
  if (!upload) throw new UserError('NOT_FOUND', 'The upload is gone.');
  // A failed import drops the parts too: the person uploads again (nothing half-imported stays around).
  ctx.defer('delete the uploaded parts', () => db.upload.delete({ where: { id: upload.id } }).catch(() => {}));
  const target = await db.target.findUnique({ where: { id: upload.targetId }, include: { storage: true } });
  if (!target) throw new UserError('NOT_FOUND', 'The target was deleted.');
  const storage = storageFor(target);
  await storage.check();

  // receive: the parts in order into the job's scratch folder, hashed again on the way.
  await ctx.step('writing the file to storage');
  const local = join(await ctx.scratch(), 'upload');
  const hash = createHash('sha256');
  const count = await db.uploadChunk.count({ where: { uploadId: upload.id } });
  async function* parts() {
    for (let seq = 0; seq < count; seq++) {
      ctx.signal.throwIfAborted();
      const chunk = await db.uploadChunk.findUnique({ where: { uploadId_seq: { uploadId: upload!.id, seq } } });
      if (!chunk) throw new UserError('BACKUP_UNREADABLE', `Part ${seq + 1} of the upload is missing.`);
      const data = Buffer.from(chunk.data);
      hash.update(data);
      yield data;
      await ctx.progress(((seq + 1) / count) * 60, `${seq + 1} of ${count} parts`);
    }
  }
  await pipeline(parts, createWriteStream(local, { flags: 'wx', mode: 0o600 }), { signal: ctx.signal });
  if (hash.digest('hex') !== upload.sha256) throw new UserError('BACKUP_CHECKSUM_MISMATCH', 'The stored file does not match what was uploaded.');

  // check: a zstd stream or a pg_dump archive that pg_restore reads; anything else is refused.
  await ctx.step('checking it with pg_restore --list');
  const head = Buffer.alloc(5);
  const fh = await open(local, 'r');
  await fh.read(head, 0, 5, 0).finally(() => fh.close());
  const format = head.subarray(0, 4).equals(ZSTD_MAGIC) ? 'custom-zstd' : head.toString('latin1') === 'PGDMP' ? 'custom' : null;
  if (!format) throw new UserError('BACKUP_UNREADABLE', `${upload.fileName} is not a pg_dump custom-format archive (plain SQL and tar dumps are restored with psql or pg_restore by hand).`);
  const tools = (await discoverTools())[0];
  if (!tools) throw new UserError('TOOL_TOO_OLD', 'No pg_restore was found on the worker host.');
  const input: ArchiveInput = format === 'custom-zstd' ? { open: async () => createReadStream(local), zstd: true } : { file: local };
  const toc = await readToc(input, tools.path('pg_restore'), ctx.signal);

  // read it all: the TOC alone reads fine from a file cut in half; every zstd frame and data block must decode.
  await ctx.step('reading every data block');
  try {
    await decodeArchive(input, tools.path('pg_restore'), ctx.signal);
  } catch (err) {
    if (!(err instanceof ToolError && err.code === 'BACKUP_UNREADABLE')) throw err;
    throw new UserError('BACKUP_UNREADABLE', `${upload.fileName} is incomplete or damaged: ${err.message}`, 'Upload the whole file again (compare its size and SHA-256 with the original), or pick another backup.');
  }

  // store: into the target's storage under a name of its own (appears only when complete).
  await ctx.step('storing it');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '');
  const file = `${safeName(target.name)}/${safeName(upload.database)}/${stamp}-uploaded-${safeName(upload.fileName)}`;
  const stored = await storage.put(file, createReadStream(local, { highWaterMark: 1 << 20 }), { signal: ctx.signal, incomplete: ctx.incomplete });
  const unstore = ctx.defer(`remove ${file} from ${storage.describe()}`, () => storage.remove(file));
  if (stored.sha256 !== upload.sha256) throw new UserError('BACKUP_CHECKSUM_MISMATCH', 'The stored file does not match what was uploaded.');
  await ctx.progress(90, 'stored');

  // manifest: last, beside the dump (docs/repository.md rule 3); the catalog row keeps the same object.
  const uploader = await db.user.findUnique({ where: { id: upload.createdById }, select: { email: true } });
  const manifest = uploadManifest({ target, database: upload.database, file, format, stored, toc, fileName: upload.fileName, uploadedBy: uploader?.email ?? null, uploadedAt: upload.createdAt, jobId: ctx.jobId });
  await storage.put(`${file}.manifest.json`, manifestText(manifest), { signal: ctx.signal, incomplete: ctx.incomplete });
  const unstoreManifest = ctx.defer(`remove ${file}.manifest.json from ${storage.describe()}`, () => storage.remove(`${file}.manifest.json`));

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
        manifest,
      },
    });
    await tx.upload.delete({ where: { id: upload.id } }); // the chunks go with it
    return b;
  });
  unstoreManifest();
  unstore();
  await ctx.log(`uploaded ${upload.fileName}: ${stored.size} bytes, ${toc.entries.length} TOC entries, registered as backup #${backup.id}`);
  return { backupId: String(backup.id), file, size: stored.size, tables: toc.tables.length };
}

const sh = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;

/**
 * An upload's manifest: the logical dump manifest's shape (docs/repository.md) with what is known of a file Lifeboat
 * did not take: who uploaded it and under which name, its size and SHA-256, and the facts its TOC gave when it was
 * checked. No snapshot, key-table facts, database properties or globals: the upload does not carry them.
 * `uploaded` and `fileName` stay at the top, where the console has always read them.
 */
export function uploadManifest(m: {
  target: { name: string; host: string; port: number; dbUser: string };
  database: string;
  file: string;
  format: 'custom' | 'custom-zstd';
  stored: { size: number; sha256: string };
  toc: Toc;
  fileName: string;
  uploadedBy: string | null;
  uploadedAt: Date;
  jobId: string;
}) {
  const file = m.file.split('/').pop()!;
  const conn = `-h ${sh(m.target.host)} -p ${m.target.port} -U ${sh(m.target.dbUser)}`;
  const restore = `pg_restore ${conn} --dbname=<new_database> --no-password`;
  return {
    lifeboat: 1,
    kind: 'uploaded',
    uploaded: true,
    target: { name: m.target.name, host: m.target.host, port: m.target.port },
    database: m.database,
    file,
    format: m.format,
    size: m.stored.size,
    sha256: m.stored.sha256,
    fileName: m.fileName,
    uploadedBy: m.uploadedBy,
    uploadedAt: m.uploadedAt.toISOString(),
    jobId: m.jobId,
    serverVersion: m.toc.dumpedFrom ?? null,
    toolVersion: m.toc.dumpedBy ? `pg_dump ${m.toc.dumpedBy}` : null,
    finishedAt: new Date().toISOString(),
    toc: { entries: m.toc.entries.length, tableData: m.toc.entries.filter((e) => e.desc === 'TABLE DATA').length },
    archive: { format: m.toc.format ?? null, entries: m.toc.entries.length, tables: m.toc.tables },
    globals: null,
    worker: workerHost(),
    restoreByHand: [
      `# WARNING: these lines restore into a NEW database. Replace <new_database> with a name that does not exist on the server yet (never ${sh(m.database)}, the production database); nothing here writes to an existing database.`,
      `# Password: export PGPASSWORD='<password of ${m.target.dbUser}>' first, or put it in ~/.pgpass; it is never written here.`,
      '# An uploaded dump has no globals file: create the roles it names first, or add --no-owner --no-acl to pg_restore.',
      `createdb ${conn} --no-password --template=template0 <new_database> && ${m.format === 'custom-zstd' ? `zstd -d -c ${sh(file)} | ${restore}` : `${restore} ${sh(file)}`}`,
    ],
  };
}
