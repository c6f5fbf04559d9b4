// Targets: create, edit, disable, delete (backups are kept), each with its audit entry; passwords sealed at rest.
// Saving a connection tests it at once (the job enqueued in the same transaction), so a wrong password shows as red
// "cannot connect" within seconds instead of grey "not tested" until the first backup fails at night.
import { getDb, type Tx } from '../db';
import { UserError } from '../errors';
import { Prisma } from '../generated/prisma/client';
import { keptBackupWhere, KEPT_BACKUP_SQL } from '../backups/kept';
import { writeAudit, type Actor } from '../audit/write-audit';
import { encryptSecret } from '../secrets/crypto';
import type { z } from 'zod';
import type { TargetInput, targetPatch } from './schemas';
import type { Role } from '../auth/roles';
import { enqueueJob } from '../jobs/enqueue-job';
import { ensureQueue, getConsoleBoss } from '../jobs/boss';
import { queueName } from '../jobs/kinds';
import { connectionStatus, connectionStatuses } from './target-status';

// The fields a connection test depends on: saving any of them tests the target again.
const connectionFields = ['host', 'port', 'dbUser', 'password', 'sslMode', 'database', 'workerPool'] as const;

/** Scripts (seed, benches) act as the system, with an admin's rights. */
function withRole(actor: Actor & { role?: Role }): Actor & { role: Role } {
  return { ...actor, role: actor.role ?? 'admin' };
}

/** Starts pg-boss and creates the queue before the transaction opens, so the transaction holds no slow first-time work. */
async function prepareTestQueue(pool: string) {
  await ensureQueue(await getConsoleBoss(), queueName('test-connection', pool));
}

function enqueueTest(actor: Actor & { role?: Role }, t: { id: string; workerPool: string }, ip: string | null, tx: Tx) {
  return enqueueJob(withRole(actor), 'test-connection', { targetId: t.id }, { targetId: t.id, pool: t.workerPool, ip, tx });
}

const publicSelect = {
  id: true,
  name: true,
  host: true,
  port: true,
  dbUser: true,
  sslMode: true,
  database: true,
  workerPool: true,
  disabled: true,
  keyTables: true,
  checkStatements: true,
  storageId: true,
  lastCheck: true,
  preRestoreHook: true,
  postRestoreHook: true,
  createdAt: true,
  updatedAt: true,
  passwordEnc: true,
} as const;

type Row = { passwordEnc: string | null; preRestoreHook: string | null; postRestoreHook: string | null } & Record<string, unknown>;
/**
 * What the API shows of a target: never the sealed password; the restore hooks only to admins (a hook's text can hold a
 * URL with a token, or a command line that says where secrets live, and only admins may set them). `hasHooks` tells the
 * others that a restore will run some.
 */
function present<T extends Row>({ passwordEnc, preRestoreHook, postRestoreHook, ...t }: T, viewer: { role: Role } | null) {
  const hooks = viewer?.role === 'admin' ? { preRestoreHook, postRestoreHook } : {};
  return { ...t, ...hooks, hasPassword: passwordEnc !== null, hasHooks: { pre: preRestoreHook !== null, post: postRestoreHook !== null } };
}

/** viewer: who is asking (hooks are shown to admins only); none: the safe view. */
export async function listTargets(viewer: { role: Role } | null = null) {
  const db = getDb();
  const rows = await db.target.findMany({ orderBy: { name: 'asc' }, select: publicSelect });
  const last = await db.$queryRaw<{ target_id: string; created_at: Date; status: string; backup_size: bigint | null }[]>`
    SELECT DISTINCT ON (target_id) target_id, created_at, status, backup_size FROM backup_log
    WHERE target_id IS NOT NULL AND status IN ('succeeded', 'failed') AND backup_type <> 'uploaded' ORDER BY target_id, created_at DESC`;
  // Uploads are not the target's backups (see lib/overview/target-health.ts).
  const lastGood = await db.$queryRaw<{ target_id: string; created_at: Date }[]>`
    SELECT target_id, max(created_at) AS created_at FROM backup_log WHERE status = 'succeeded' AND ${Prisma.raw(KEPT_BACKUP_SQL)} AND backup_type <> 'uploaded' GROUP BY target_id`;
  const connection = await connectionStatuses(rows.map((t) => t.id));
  return rows.map((t) => ({
    ...present(t, viewer),
    connection: connection.get(t.id)!,
    lastBackup: last.find((l) => l.target_id === t.id) ?? null,
    lastGoodAt: lastGood.find((l) => l.target_id === t.id)?.created_at ?? null,
  }));
}

export async function getTarget(id: string, viewer: { role: Role } | null = null) {
  const t = await getDb().target.findUnique({ where: { id }, select: { ...publicSelect, schedules: { orderBy: { createdAt: 'asc' } } } });
  if (!t) throw new UserError('NOT_FOUND', `There is no target ${id}.`);
  return { ...present(t, viewer), connection: await connectionStatus(id) };
}

function sealPassword(password: string | null | undefined) {
  if (password === undefined) return {};
  return { passwordEnc: password === null || password === '' ? null : encryptSecret(password) };
}

export async function createTarget(actor: Actor & { role?: Role }, input: TargetInput, ip: string | null) {
  await prepareTestQueue(input.workerPool);
  return getDb().$transaction(async (tx) => {
    if (await tx.target.findUnique({ where: { name: input.name } }))
      throw new UserError('NAME_TAKEN', `A target named "${input.name}" already exists.`, 'Choose another name.', { name: 'is taken' });
    const { password, ...rest } = input;
    const t = await tx.target.create({ data: { ...rest, storageId: input.storageId ?? null, disabled: input.disabled ?? false, ...sealPassword(password ?? null) }, select: publicSelect });
    await writeAudit(tx, actor, 'target.create', { entityType: 'target', entityId: t.id, params: { ...rest, password: password ? 'set' : 'none' }, ip });
    const testJob = await enqueueTest(actor, t, ip, tx);
    return { ...present(t, withRole(actor)), testJob };
  });
}

export async function updateTarget(actor: Actor & { role?: Role }, id: string, input: z.infer<typeof targetPatch>, ip: string | null) {
  const current = await getDb().target.findUnique({ where: { id }, select: { workerPool: true } });
  if (current) await prepareTestQueue(input.workerPool ?? current.workerPool);
  return getDb().$transaction(async (tx) => {
    const before = await tx.target.findUnique({ where: { id } });
    if (!before) throw new UserError('NOT_FOUND', `There is no target ${id}.`);
    const { password, ...rest } = input;
    const t = await tx.target.update({ where: { id }, data: { ...rest, ...sealPassword(password) }, select: publicSelect });
    await writeAudit(tx, actor, 'target.update', { entityType: 'target', entityId: id, params: { name: before.name, ...rest, ...(password !== undefined ? { password: password ? 'changed' : 'removed' } : {}) }, ip });
    const testJob = connectionFields.some((f) => input[f] !== undefined) ? await enqueueTest(actor, t, ip, tx) : null;
    return { ...present(t, withRole(actor)), testJob };
  });
}

/** Deletes the target and its schedules; its backups stay on storage and in backup_log. */
export async function deleteTarget(actor: Actor, id: string, ip: string | null) {
  return getDb().$transaction(async (tx) => {
    const t = await tx.target.findUnique({ where: { id } });
    if (!t) throw new UserError('NOT_FOUND', `There is no target ${id}.`);
    const active = await tx.job.count({ where: { targetId: id, status: { in: ['queued', 'running'] } } });
    if (active) throw new UserError('TARGET_BUSY', `"${t.name}" has ${active} job(s) running.`, 'Wait for them or cancel them, then delete.');
    const kept = await tx.backupLog.count({ where: { targetId: id, ...keptBackupWhere, status: 'succeeded' } });
    // Backups keep the target's name in their file path and manifest; the link to the row is cleared.
    await tx.target.delete({ where: { id } });
    await writeAudit(tx, actor, 'target.delete', { entityType: 'target', entityId: id, params: { name: t.name, backupsKept: kept }, ip });
    return { id, name: t.name, backupsKept: kept };
  });
}
