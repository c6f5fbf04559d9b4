// The audit log as admins read it, newest first.
import { getDb } from '../db';

export async function listAudit(opts: { limit: number; beforeId?: bigint; action?: string }) {
  return getDb().auditLog.findMany({
    where: {
      ...(opts.beforeId ? { id: { lt: opts.beforeId } } : {}),
      ...(opts.action ? { action: { startsWith: opts.action } } : {}),
    },
    orderBy: { id: 'desc' },
    take: opts.limit,
  });
}
