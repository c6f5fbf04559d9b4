// Four eyes on production (when the setting asks for it): a restore that replaces production, a rollback (it swaps
// production too) and switching the setting off wait as requests; another admin approves (the action runs) or refuses;
// the requester may withdraw; a request expires. Each decision is one transaction: claim, act, audit.
import { getDb, type Tx } from '../db';
import { UserError } from '../errors';
import { isRemoved, removedError } from '../backups/kept';
import { writeAudit, type Actor } from '../audit/write-audit';
import type { Role } from '../auth/roles';
import { enqueueJob } from '../jobs/enqueue-job';
import { ensureQueue, getConsoleBoss } from '../jobs/boss';
import { queueName, restorePayload } from '../jobs/kinds';
import { z } from 'zod';
import { approvalExpiryHours, SECOND_ADMIN_KEY } from './restore-history';

export type RequestKind = 'restore' | 'rollback' | 'settings';

const rollbackRequest = z.object({ targetId: z.uuid(), keptDatabase: z.string().min(1) });
const settingsRequest = z.object({ requireSecondAdmin: z.literal(false) });

/** What a request asks for, in words the approver can check (shown on the card and in the audit log). */
function describe(kind: RequestKind, database: string, payload: Record<string, unknown>): string {
  if (kind === 'settings') return 'Switch off second-admin approval for production restores and rollbacks';
  if (kind === 'rollback') return `Roll back production "${database}": "${String(payload.keptDatabase)}" becomes production again, the current one is set aside`;
  const dest = (payload.destination ?? {}) as { method?: string };
  return dest.method === 'in-place'
    ? `Replace production "${database}" in place: it is dropped and restored from backup #${String(payload.backupId)}`
    : `Replace production "${database}" by a swap: backup #${String(payload.backupId)} is restored beside it, then the names are swapped (the old one is kept)`;
}

/** Files a request instead of acting; audited. Returns what the API answers: the request id and `pending`. */
export async function requestApproval(
  actor: Actor & { role: Role },
  kind: RequestKind,
  payload: Record<string, unknown>,
  where: { targetId: string | null; database: string },
  ip: string | null,
  tx?: Tx,
) {
  const hours = await approvalExpiryHours();
  const run = async (t: Tx) => {
    // One clock for both, so a request lives exactly the configured hours.
    const now = new Date();
    const r = await t.restoreRequest.create({
      data: { kind, payload: payload as object, targetId: where.targetId, database: where.database, requestedById: actor.id!, requestedAt: now, expiresAt: new Date(now.getTime() + hours * 3600_000) },
    });
    await writeAudit(t, actor, `${kind === 'restore' ? 'restore' : kind}.request`, {
      entityType: 'restore_request',
      entityId: r.id,
      params: { kind, what: describe(kind, where.database, payload), ...payload, expiresAt: r.expiresAt.toISOString() },
      ip,
    });
    return { id: r.id, pending: true as const, kind, expiresAt: r.expiresAt };
  };
  return tx ? run(tx) : getDb().$transaction(run);
}

/** "expired" is read, not stored: a request past its time is never acted on, whoever looks first. */
function effectiveStatus(r: { status: string; expiresAt: Date }, now = new Date()) {
  return r.status === 'requested' && r.expiresAt <= now ? 'expired' : r.status;
}

export async function listRestoreRequests() {
  const db = getDb();
  const rows = await db.restoreRequest.findMany({ orderBy: { requestedAt: 'desc' }, take: 50 });
  const users = await db.user.findMany({ where: { id: { in: rows.flatMap((r) => [r.requestedById, r.decidedById].filter((x): x is string => !!x)) } }, select: { id: true, email: true } });
  const targets = await db.target.findMany({ where: { id: { in: rows.map((r) => r.targetId).filter((x): x is string => !!x) } }, select: { id: true, name: true, host: true, port: true } });
  const backupIds = rows.map((r) => (r.payload as { backupId?: string }).backupId).filter((x): x is string => !!x && /^\d+$/.test(x));
  const backups = await db.backupLog.findMany({ where: { id: { in: backupIds.map((x) => BigInt(x)) } }, select: { id: true, createdAt: true, databaseName: true, backupType: true, deletedAt: true, deletingOn: true } });
  const email = (id: string | null) => users.find((u) => u.id === id)?.email ?? null;
  const now = new Date();
  return rows.map((r) => {
    const p = r.payload as Record<string, unknown> & { backupId?: string; destination?: { method?: string } };
    const t = targets.find((x) => x.id === r.targetId) ?? null;
    const b = p.backupId ? backups.find((x) => String(x.id) === p.backupId) ?? null : null;
    return {
      id: r.id,
      kind: r.kind as RequestKind,
      status: effectiveStatus(r, now),
      database: r.database,
      what: describe(r.kind as RequestKind, r.database, p),
      target: t ? { id: t.id, name: t.name, server: `${t.host}:${t.port}` } : null,
      backup: b ? { id: String(b.id), createdAt: b.createdAt, database: b.databaseName, uploaded: b.backupType === 'uploaded', removed: isRemoved(b) } : p.backupId ? { id: p.backupId, createdAt: null, database: null, uploaded: false, removed: true } : null,
      method: r.kind === 'restore' ? (p.destination?.method ?? null) : r.kind === 'rollback' ? 'swap' : null,
      keptDatabase: r.kind === 'rollback' ? String(p.keptDatabase ?? '') : null,
      requestedById: r.requestedById,
      requestedBy: email(r.requestedById),
      requestedAt: r.requestedAt,
      expiresAt: r.expiresAt,
      decidedBy: email(r.decidedById),
      decidedAt: r.decidedAt,
      reason: r.reason,
      jobId: r.jobId,
    };
  });
}

/** Who asked for and who approved the job (null when it needed no approval): for the job page. */
export async function approvalForJob(jobId: string) {
  const db = getDb();
  const r = await db.restoreRequest.findFirst({ where: { jobId } });
  if (!r) return null;
  const users = await db.user.findMany({ where: { id: { in: [r.requestedById, r.decidedById].filter((x): x is string => !!x) } }, select: { id: true, email: true } });
  const email = (id: string | null) => users.find((u) => u.id === id)?.email ?? null;
  return { requestId: r.id, kind: r.kind, requestedBy: email(r.requestedById), requestedAt: r.requestedAt, approvedBy: email(r.decidedById), approvedAt: r.decidedAt };
}

async function claimFailure(tx: Tx, id: string, actor: Actor): Promise<never> {
  const r = await tx.restoreRequest.findUnique({ where: { id } });
  if (!r) throw new UserError('NOT_FOUND', `There is no request ${id}.`);
  const status = effectiveStatus(r);
  if (status === 'expired') throw new UserError('REQUEST_EXPIRED', `This request expired at ${r.expiresAt.toISOString()} without a decision.`);
  if (status !== 'requested') throw new UserError('REQUEST_ALREADY_DECIDED', `This request was already ${status}.`);
  if (r.requestedById === actor.id) throw new UserError('SELF_APPROVAL', 'You asked for this; another admin must approve or refuse it.');
  throw new UserError('REQUEST_ALREADY_DECIDED', 'Another admin decided this request meanwhile.');
}

async function prepareQueue(id: string) {
  const r = await getDb().restoreRequest.findUnique({ where: { id } });
  if (!r || r.kind === 'settings') return;
  const target = r.targetId ? await getDb().target.findUnique({ where: { id: r.targetId }, select: { workerPool: true } }) : null;
  await ensureQueue(await getConsoleBoss(), queueName(r.kind === 'rollback' ? 'rollback' : 'restore', target?.workerPool ?? 'default'));
}

/** Another admin approves (the action runs) or refuses a waiting request: claim, act and audit in one transaction. */
export async function decideRestoreRequest(actor: Actor & { role: Role }, id: string, decision: 'approve' | 'refuse', reason: string | null, ip: string | null) {
  // pg-boss started and the queue created before the transaction opens: no slow first-time work while it holds the row.
  if (decision === 'approve') await prepareQueue(id);
  return getDb().$transaction(async (tx) => {
    // The claim is the guard: only a fresh request someone else asked for; a second admin deciding at once waits on the
    // row lock, then finds it decided. Anything failing below rolls the claim back, so a request is never "approved"
    // without its action.
    const now = new Date();
    const claimed = await tx.restoreRequest.updateMany({
      where: { id, status: 'requested', expiresAt: { gt: now }, requestedById: { not: actor.id! } },
      data: { status: decision === 'approve' ? 'approved' : 'refused', decidedById: actor.id, decidedAt: now, reason },
    });
    if (claimed.count !== 1) await claimFailure(tx, id, actor);
    const r = (await tx.restoreRequest.findUnique({ where: { id } }))!;
    const kind = r.kind as RequestKind;
    const action = kind === 'restore' ? 'restore' : kind;
    if (decision === 'refuse') {
      await writeAudit(tx, actor, `${action}.refuse`, { entityType: 'restore_request', entityId: id, params: { kind, database: r.database, reason }, ip });
      return { id, status: 'refused' as const };
    }
    let job: { id: string } | null = null;
    if (kind === 'settings') {
      settingsRequest.parse(r.payload);
      await tx.setting.upsert({ where: { key: SECOND_ADMIN_KEY }, create: { key: SECOND_ADMIN_KEY, value: false }, update: { value: false } });
      await writeAudit(tx, actor, 'settings.update', { entityType: 'settings', params: { requireSecondAdmin: false, requestId: id }, ip });
    } else if (kind === 'rollback') {
      const p = rollbackRequest.parse(r.payload);
      const t = await tx.target.findUnique({ where: { id: p.targetId } });
      if (!t) throw new UserError('NOT_FOUND', 'The target of this rollback was deleted.');
      job = await enqueueJob(actor, 'rollback', p, { targetId: t.id, pool: t.workerPool, ip, tx });
    } else {
      const payload = restorePayload.parse(r.payload);
      const b = await tx.backupLog.findUnique({ where: { id: BigInt(payload.backupId) }, include: { target: true } });
      if (!b) throw new UserError('BACKUP_UNUSABLE', `Backup ${payload.backupId} no longer exists; this request cannot run.`, 'Refuse it, and ask for a restore from a backup that is kept.');
      const removed = removedError(payload.backupId, b);
      if (removed) throw new UserError('BACKUP_UNUSABLE', `${removed.message} This request cannot run.`, 'Refuse it, and ask for a restore from another backup that is kept.');
      job = await enqueueJob(actor, 'restore', payload, { ...(b.targetId ? { targetId: b.targetId } : {}), pool: b.target?.workerPool ?? 'default', ip, tx });
    }
    if (job) await tx.restoreRequest.update({ where: { id }, data: { jobId: job.id } });
    await writeAudit(tx, actor, `${action}.approve`, { entityType: 'restore_request', entityId: id, params: { kind, database: r.database, jobId: job?.id ?? null, requestedById: r.requestedById }, ip });
    return { id, status: 'approved' as const, ...(job ? { job } : {}) };
  });
}

/** The requester takes a waiting request back; audited. */
export async function withdrawRestoreRequest(actor: Actor, id: string, ip: string | null) {
  return getDb().$transaction(async (tx) => {
    const r = await tx.restoreRequest.findUnique({ where: { id } });
    if (!r) throw new UserError('NOT_FOUND', `There is no request ${id}.`);
    if (r.requestedById !== actor.id) throw new UserError('NOT_REQUESTER', 'Only the admin who asked can withdraw this request.');
    const done = await tx.restoreRequest.updateMany({ where: { id, status: 'requested' }, data: { status: 'withdrawn', decidedById: actor.id, decidedAt: new Date() } });
    if (done.count !== 1) throw new UserError('REQUEST_ALREADY_DECIDED', `This request was already ${effectiveStatus(r)}.`);
    await writeAudit(tx, actor, `${r.kind === 'restore' ? 'restore' : r.kind}.withdraw`, { entityType: 'restore_request', entityId: id, params: { kind: r.kind, database: r.database }, ip });
    return { id, status: 'withdrawn' as const };
  });
}
