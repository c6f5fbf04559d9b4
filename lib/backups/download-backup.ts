// Downloading a stored artifact (the dump, or its roles-and-tablespaces file) for an admin: the audit log records who
// took which copy, and a worker of the target's pool streams it (the web process never opens a storage).
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';
import type { Role } from '../auth/roles';
import { directoryDump } from '../downloads/download-window';
import { startDownload } from '../downloads/stream-download';
import { assertKept } from './kept';

/** What of a backup can be downloaded: the dump itself, or the roles and tablespaces saved beside it. */
export type DownloadPart = 'dump' | 'globals';

export async function openBackupForDownload(actor: Actor & { role: Role }, id: bigint, ip: string | null, part: DownloadPart = 'dump', signal?: AbortSignal) {
  const db = getDb();
  const b = await db.backupLog.findUnique({ where: { id }, include: { target: { select: { workerPool: true } } } });
  if (!b) throw new UserError('NOT_FOUND', `There is no backup ${id}.`);
  assertKept(id, b);
  if (b.status !== 'succeeded') throw new UserError('NOT_FOUND', `Backup ${id} has no file to download (${b.status}).`);
  // The globals file (roles with their password hashes when the backup user could read them) is what a restore by
  // hand needs first; the route lets admins only, and the audit entry names the part taken.
  const name = part === 'globals' ? b.globalsFile : b.backupFile;
  if (!name) throw new UserError('NOT_FOUND', `Backup ${id} has no roles and tablespaces file (it was uploaded, or made before they were saved).`);
  // The worker refuses a folder too (whatever the catalog says); this spares a job when the catalog knows.
  if (part === 'dump' && b.format === 'directory') throw directoryDump(id, name, b.location);
  const sha256 = part === 'globals' ? ((b.manifest as { globals?: { sha256?: string } } | null)?.globals?.sha256 ?? null) : b.checksumSha256;
  const file = await startDownload(actor, { of: 'backup', backupId: String(id), part }, {
    audit: (tx) => writeAudit(tx, actor, 'backup.download', { entityType: 'backup', entityId: String(id), params: { file: name, part }, ip }),
    targetId: b.targetId,
    pool: b.target?.workerPool ?? 'default',
    ip,
    signal,
  });
  return { stream: file.stream, size: file.size, name: name.split('/').pop()!, sha256, jobId: file.jobId };
}

