// Backup history: keyset pagination on (created_at, id) with filters, fast on 100 000 rows; one backup with its log.
// Uploaded dumps (backup_type 'uploaded') are listed, marked `uploaded`, and kept out of a target's trend. Each row says
// whether retention has begun or finished removing it (`removal`, lib/backups/kept.ts).
import { getDb } from '../db';
import { UserError } from '../errors';
import type { Prisma } from '../generated/prisma/client';
import type { BackupStatus } from '../generated/prisma/enums';
import { removalState } from './kept';

export interface BackupFilter {
  targetId?: string;
  type?: string;
  status?: BackupStatus;
  from?: Date;
  to?: Date;
  cursor?: string;
  limit: number;
}

const rowSelect = {
  id: true,
  backupType: true,
  backupFile: true,
  backupSize: true,
  createdAt: true,
  finishedAt: true,
  status: true,
  durationMs: true,
  databaseName: true,
  errorCode: true,
  errorMessage: true,
  verifiedAt: true,
  deletedAt: true,
  deletingOn: true,
  jobId: true,
  format: true,
  target: { select: { id: true, name: true } },
} as const;

export const UPLOADED = 'uploaded';

export function isUploaded(b: { backupType: string }): boolean {
  return b.backupType === UPLOADED;
}

export function encodeCursor(createdAt: Date, id: bigint): string {
  return `${createdAt.toISOString()}_${id}`;
}

function decodeCursor(cursor: string): { createdAt: Date; id: bigint } {
  const [at, id] = cursor.split('_');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^\d+$/.test(id)) throw new UserError('VALIDATION', 'The page cursor is not valid.', 'Go back to the first page.');
  return { createdAt, id: BigInt(id) };
}

export async function listBackups(f: BackupFilter) {
  const db = getDb();
  const where: Prisma.BackupLogWhereInput = {
    ...(f.targetId ? { targetId: f.targetId } : {}),
    ...(f.type ? { backupType: f.type } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.from || f.to ? { createdAt: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } } : {}),
  };
  const page: Prisma.BackupLogWhereInput = f.cursor
    ? (() => {
        const c = decodeCursor(f.cursor);
        return { OR: [{ createdAt: { lt: c.createdAt } }, { createdAt: c.createdAt, id: { lt: c.id } }] };
      })()
    : {};
  const [rows, total] = await Promise.all([
    db.backupLog.findMany({ where: { AND: [where, page] }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: f.limit + 1, select: rowSelect }),
    db.backupLog.count({ where }),
  ]);
  const more = rows.length > f.limit;
  const items = rows.slice(0, f.limit).map((r) => ({ ...r, uploaded: isUploaded(r), removal: removalState(r) }));
  const last = items[items.length - 1];
  return { items, total, nextCursor: more && last ? encodeCursor(last.createdAt, last.id) : null };
}

export async function getBackup(id: bigint) {
  const db = getDb();
  const b = await db.backupLog.findUnique({ where: { id }, include: { target: { select: { id: true, name: true } }, schedule: { select: { id: true, cron: true, timezone: true } } } });
  if (!b) throw new UserError('NOT_FOUND', `There is no backup ${id}.`);
  const logs = b.jobId ? await db.jobLog.findMany({ where: { jobId: b.jobId }, orderBy: { id: 'asc' }, take: 2000, select: { id: true, at: true, level: true, line: true } }) : [];
  const uploadedFileName = isUploaded(b) ? ((b.manifest as { fileName?: string } | null)?.fileName ?? null) : null;
  return { backup: { ...b, uploaded: isUploaded(b), uploadedFileName, removal: removalState(b) }, logs };
}

/** Size and duration per backup of a target, oldest first, with jumps of 50 % or more marked (the runbook's alert). */
export async function backupTrend(targetId: string, limit = 90) {
  const rows = await getDb().backupLog.findMany({
    // An upload's size says nothing about this target's growth, and would raise false "sudden change" alerts.
    where: { targetId, status: 'succeeded', backupType: { not: UPLOADED } },
    orderBy: { createdAt: 'desc' },
    take: limit,
    select: { id: true, createdAt: true, backupSize: true, durationMs: true, databaseName: true },
  });
  const points = rows.reverse().map((r) => ({ id: r.id, at: r.createdAt, size: Number(r.backupSize ?? 0), durationMs: r.durationMs ?? 0, database: r.databaseName }));
  const lastByDb = new Map<string | null, number>();
  return points.map((p) => {
    const prev = lastByDb.get(p.database);
    lastByDb.set(p.database, p.size);
    const change = prev ? (p.size - prev) / prev : 0;
    return { ...p, changePct: Math.round(change * 1000) / 10, sudden: prev !== undefined && Math.abs(change) >= 0.5 };
  });
}
