// Starting restores, drills, rollbacks and copy drops: who may do which, and the typed confirmation for production.
import { z } from 'zod';
import { getDb } from '../db';
import { UserError } from '../errors';
import type { Actor } from '../audit/write-audit';
import { hasRole, type Role } from '../auth/roles';
import { enqueueJob } from '../jobs/enqueue-job';
import { writeAudit } from '../audit/write-audit';
import { requireSecondAdmin } from './restore-history';
import { restorePayload } from '../jobs/kinds';

export const restoreRequest = restorePayload.extend({
  // For "replace production": the production database's name, typed by the admin.
  confirm: z.string().max(100).optional(),
});

async function backupTarget(backupId: string) {
  const b = await getDb().backupLog.findUnique({ where: { id: BigInt(backupId) }, include: { target: true } });
  if (!b) throw new UserError('NOT_FOUND', `There is no backup ${backupId}.`);
  return b;
}

export async function startRestore(actor: Actor & { role: Role }, input: z.input<typeof restoreRequest>, ip: string | null, opts: { preflightOnly?: boolean } = {}) {
  const { confirm, ...asked } = input;
  // Roles on a server are an admin's decision: only an admin's restore creates missing owner roles, and only an admin
  // may let them keep SUPERUSER, CREATEROLE, REPLICATION, BYPASSRLS or their password.
  const admin = hasRole(actor.role, 'admin');
  const ticked = Object.entries(asked.roleGrants ?? {}).filter(([, v]) => v).map(([k]) => k);
  if (!admin && ticked.length) throw new UserError('FORBIDDEN', `Only an admin may let restored roles keep ${ticked.join(', ')}; you are ${actor.role}.`);
  const payload = { ...asked, createRoles: admin };
  const b = await backupTarget(payload.backupId);
  let pool = b.target?.workerPool ?? 'default';
  let targetId = b.targetId ?? undefined;
  if (payload.destination.mode === 'new') {
    const dest = await getDb().target.findUnique({ where: { id: payload.destination.targetId } });
    if (!dest) throw new UserError('NOT_FOUND', 'The destination target does not exist.');
    pool = dest.workerPool;
    targetId = dest.id;
  }
  if (payload.destination.mode === 'replace' && !opts.preflightOnly) {
    if (!hasRole(actor.role, 'admin')) throw new UserError('FORBIDDEN', `Replacing production needs the admin role; you are ${actor.role}.`);
    const prod = b.databaseName ?? '';
    if (confirm !== prod) {
      throw new UserError('VALIDATION', `Type the production database name "${prod}" exactly to confirm.`, 'This replaces production; the typed name is the last check.', { confirm: 'does not match the database name' });
    }
  }
  if (payload.destination.mode === 'replace' && !b.target) throw new UserError('NOT_FOUND', "The backup's target was deleted; restore to a new database instead.");
  if (payload.destination.mode === 'replace' && !opts.preflightOnly && (await requireSecondAdmin())) {
    // Four eyes: the request waits; another admin approves (which starts the job) or refuses. Both are audited.
    const request = await getDb().$transaction(async (tx) => {
      const r = await tx.restoreRequest.create({ data: { payload: payload as object, targetId: b.targetId, database: b.databaseName ?? '', requestedById: actor.id! } });
      await writeAudit(tx, actor, 'restore.request', { entityType: 'restore_request', entityId: r.id, params: { backupId: payload.backupId, database: b.databaseName, method: payload.destination.mode === 'replace' ? payload.destination.method : null }, ip });
      return r;
    });
    return { id: request.id, pending: true as const };
  }
  return enqueueJob(actor, opts.preflightOnly ? 'restore-preflight' : 'restore', payload, { ...(targetId ? { targetId } : {}), pool, ip });
}

export async function listRestoreRequests() {
  const db = getDb();
  const rows = await db.restoreRequest.findMany({ orderBy: { requestedAt: 'desc' }, take: 50 });
  const users = await db.user.findMany({ where: { id: { in: rows.flatMap((r) => [r.requestedById, r.decidedById].filter((x): x is string => !!x)) } }, select: { id: true, email: true } });
  const email = (id: string | null) => users.find((u) => u.id === id)?.email ?? null;
  return rows.map((r) => ({ ...r, requestedBy: email(r.requestedById), decidedBy: email(r.decidedById) }));
}

/** Another admin approves a waiting production restore: the job starts, and both are in the audit log. */
export async function decideRestoreRequest(actor: Actor & { role: Role }, id: string, decision: 'approve' | 'refuse', reason: string | null, ip: string | null) {
  const db = getDb();
  const r = await db.restoreRequest.findUnique({ where: { id } });
  if (!r) throw new UserError('NOT_FOUND', `There is no restore request ${id}.`);
  if (r.status !== 'requested') throw new UserError('CONFLICT', `This request was already ${r.status}.`);
  if (r.requestedById === actor.id) throw new UserError('SELF_APPROVAL', 'You asked for this restore; another admin must approve or refuse it.');
  // Claim the decision first, so two admins deciding at once cannot both act.
  const claimed = await db.restoreRequest.updateMany({ where: { id, status: 'requested' }, data: { status: decision === 'approve' ? 'approved' : 'refused', decidedById: actor.id, decidedAt: new Date(), reason } });
  if (claimed.count !== 1) throw new UserError('CONFLICT', 'Another admin decided this request meanwhile.');
  if (decision === 'refuse') {
    await db.$transaction((tx) => writeAudit(tx, actor, 'restore.refuse', { entityType: 'restore_request', entityId: id, params: { database: r.database, reason }, ip }));
    return { id, status: 'refused' as const };
  }
  const payload = restorePayload.parse(r.payload);
  const b = await backupTarget(payload.backupId);
  const job = await enqueueJob(actor, 'restore', payload, { ...(b.targetId ? { targetId: b.targetId } : {}), pool: b.target?.workerPool ?? 'default', ip });
  await db.restoreRequest.update({ where: { id }, data: { jobId: job.id } });
  await db.$transaction((tx) => writeAudit(tx, actor, 'restore.approve', { entityType: 'restore_request', entityId: id, params: { database: r.database, jobId: job.id }, ip }));
  return { id, status: 'approved' as const, job };
}

export async function startTargetJob(actor: Actor & { role: Role }, kind: 'drill' | 'rollback' | 'drop-copy', targetId: string, extra: Record<string, string>, ip: string | null) {
  const t = await getDb().target.findUnique({ where: { id: targetId } });
  if (!t) throw new UserError('NOT_FOUND', `There is no target ${targetId}.`);
  return enqueueJob(actor, kind, { targetId, ...extra }, { targetId, pool: t.workerPool, ip });
}
