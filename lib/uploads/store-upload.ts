// Uploading a dump (admin): the bytes go into the console database in chunks, hashed on the way; a worker job then
// writes them to storage and checks them, so the web process never writes a backup file.
import { createHash } from 'node:crypto';
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';
import type { Role } from '../auth/roles';
import { enqueueJob } from '../jobs/enqueue-job';

const CHUNK = 4 << 20;
export const MAX_UPLOAD_BYTES = 4 * 1024 ** 3;

export async function storeUpload(
  actor: Actor & { role: Role },
  input: { targetId: string; database: string; fileName: string },
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ip: string | null,
) {
  const db = getDb();
  const target = await db.target.findUnique({ where: { id: input.targetId } });
  if (!target) throw new UserError('NOT_FOUND', 'The target does not exist.');
  const upload = await db.upload.create({
    data: { fileName: input.fileName, size: 0n, sha256: '', targetId: target.id, database: input.database, createdById: actor.id! },
  });
  const hash = createHash('sha256');
  let size = 0;
  let seq = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (!pendingBytes) return;
    const data = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    await db.uploadChunk.create({ data: { uploadId: upload.id, seq: seq++, data } });
  };
  try {
    for await (const part of body) {
      const b = Buffer.from(part);
      hash.update(b);
      size += b.length;
      if (size > MAX_UPLOAD_BYTES) throw new UserError('VALIDATION', `The file is larger than ${MAX_UPLOAD_BYTES / 1024 ** 3} GiB.`, 'Copy it to the storage folder on the worker host instead.');
      pending.push(b);
      pendingBytes += b.length;
      if (pendingBytes >= CHUNK) await flush();
    }
    await flush();
    if (size === 0) throw new UserError('VALIDATION', 'The uploaded file is empty.');
  } catch (err) {
    await db.upload.delete({ where: { id: upload.id } }).catch(() => {});
    throw err;
  }
  const sha256 = hash.digest('hex');
  await db.$transaction(async (tx) => {
    await tx.upload.update({ where: { id: upload.id }, data: { size: BigInt(size), sha256 } });
    await writeAudit(tx, actor, 'backup.upload', { entityType: 'upload', entityId: upload.id, params: { target: target.name, database: input.database, fileName: input.fileName, size, sha256 }, ip });
  });
  const job = await enqueueJob(actor, 'import-upload', { uploadId: upload.id }, { targetId: target.id, pool: target.workerPool, ip });
  return { uploadId: upload.id, size, sha256, job };
}
