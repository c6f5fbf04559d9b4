// Schedules: create, edit, delete (admin), each audited; next_run_at is kept for the scheduler tick.
import { z } from 'zod';
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';
import { nextRuns } from './cron';

export const scheduleInput = z
  .object({
    targetId: z.uuid(),
    cron: z.string().trim().min(1).max(100),
    timezone: z.string().trim().min(1).max(64).default('UTC'),
    format: z.enum(['custom-zstd', 'custom']).default('custom-zstd'),
    compressLevel: z.number().int().min(0).max(9).default(0),
    zstdLevel: z.number().int().min(1).max(19).default(3),
    retentionDays: z.number().int().min(1).max(3650).nullable().default(30),
    retentionCount: z.number().int().min(1).max(10000).nullable().default(null),
    enabled: z.boolean().default(true),
  })
  .refine((s) => s.format !== 'custom' || s.compressLevel >= 0, 'compressLevel is 0-9');

export type ScheduleInput = z.infer<typeof scheduleInput>;

export async function createSchedule(actor: Actor, input: ScheduleInput, ip: string | null) {
  const [next] = nextRuns(input.cron, input.timezone, 1);
  return getDb().$transaction(async (tx) => {
    const target = await tx.target.findUnique({ where: { id: input.targetId } });
    if (!target) throw new UserError('NOT_FOUND', 'The target does not exist.');
    const s = await tx.schedule.create({ data: { ...input, nextRunAt: next ?? null } });
    await writeAudit(tx, actor, 'schedule.create', { entityType: 'schedule', entityId: s.id, params: { target: target.name, ...input }, ip });
    return s;
  });
}

export async function updateSchedule(actor: Actor, id: string, input: Partial<ScheduleInput>, ip: string | null) {
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
