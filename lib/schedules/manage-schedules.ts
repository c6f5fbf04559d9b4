// Schedules: create, edit, delete (admin), each audited; next_run_at is kept for the scheduler tick.
import { z } from 'zod';
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';
import { nextRuns } from './cron';

const fields = {
  cron: z.string().trim().min(1).max(100),
  timezone: z.string().trim().min(1).max(64),
  format: z.enum(['custom-zstd', 'custom', 'directory']),
  compressLevel: z.number().int().min(0).max(9),
  zstdLevel: z.number().int().min(1).max(19),
  jobs: z.number().int().min(1).max(32),
  retentionDays: z.number().int().min(1).max(3650).nullable(),
  retentionCount: z.number().int().min(1).max(10000).nullable(),
  enabled: z.boolean(),
};

export const scheduleInput = z.object({
  targetId: z.uuid(),
  // logical: a backup; drill: a restore drill of the latest good backup (runbook: monthly).
  kind: z.enum(['logical', 'drill']).default('logical'),
  cron: fields.cron,
  timezone: fields.timezone.default('UTC'),
  format: fields.format.default('custom-zstd'),
  compressLevel: fields.compressLevel.default(0),
  zstdLevel: fields.zstdLevel.default(2), // defaultDumpSettings.zstdLevel (worker/pg/pg-dump.ts); lib may not import worker
  jobs: fields.jobs.default(2),
  retentionDays: fields.retentionDays.default(30),
  retentionCount: fields.retentionCount.default(null),
  enabled: fields.enabled.default(true),
});

/** An edit: only what is sent changes (no defaults, which would silently reset other settings). */
export const schedulePatch = z.object(fields).partial();

export type ScheduleInput = z.input<typeof scheduleInput>;

export async function createSchedule(actor: Actor, raw: ScheduleInput, ip: string | null) {
  const input = scheduleInput.parse(raw);
  const [next] = nextRuns(input.cron, input.timezone, 1);
  return getDb().$transaction(async (tx) => {
    const target = await tx.target.findUnique({ where: { id: input.targetId } });
    if (!target) throw new UserError('NOT_FOUND', 'The target does not exist.');
    const s = await tx.schedule.create({ data: { ...input, nextRunAt: next ?? null } });
    await writeAudit(tx, actor, 'schedule.create', { entityType: 'schedule', entityId: s.id, params: { target: target.name, ...input }, ip });
    return s;
  });
}

export async function updateSchedule(actor: Actor, id: string, input: z.infer<typeof schedulePatch>, ip: string | null) {
  return getDb().$transaction(async (tx) => {
    const before = await tx.schedule.findUnique({ where: { id } });
    if (!before) throw new UserError('NOT_FOUND', `There is no schedule ${id}.`);
    const cron = input.cron ?? before.cron;
    const timezone = input.timezone ?? before.timezone;
    const [next] = nextRuns(cron, timezone, 1);
    const s = await tx.schedule.update({ where: { id }, data: { ...input, nextRunAt: next ?? null } });
    await writeAudit(tx, actor, 'schedule.update', { entityType: 'schedule', entityId: id, params: input, ip });
    return s;
  });
}

export async function deleteSchedule(actor: Actor, id: string, ip: string | null) {
  return getDb().$transaction(async (tx) => {
    const s = await tx.schedule.findUnique({ where: { id } });
    if (!s) throw new UserError('NOT_FOUND', `There is no schedule ${id}.`);
    await tx.schedule.delete({ where: { id } });
    await writeAudit(tx, actor, 'schedule.delete', { entityType: 'schedule', entityId: id, params: { cron: s.cron, timezone: s.timezone }, ip });
    return { id };
  });
}
