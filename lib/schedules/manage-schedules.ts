// Schedules: create, edit, delete (admin), each audited; next_run_at is kept for the scheduler tick.
import { z } from 'zod';
import { getDb } from '../db';
import { UserError } from '../errors';
import { writeAudit, type Actor } from '../audit/write-audit';
import { hasRole, type Role } from '../auth/roles';
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
  // A base-backup schedule's compression: the base-backup job's choices; null is that job's default.
  baseCompression: z.enum(['none', 'gzip', 'client-zstd', 'server-zstd', 'server-lz4'], { message: 'must be none, gzip, client-zstd, server-zstd or server-lz4' }).nullable(),
  retentionWeeks: z.number().int().min(1).max(520),
};

/** The runbook's base backup: weekly, Sunday 01:00, kept 8 weeks. */
export const BASE_PRESET = { cron: '0 1 * * 0', retentionWeeks: 8 } as const;

export const scheduleInput = z.object({
  targetId: z.uuid(),
  // logical: a backup; drill: a restore drill of the latest good backup (runbook: monthly); base: a physical base
  // backup (runbook: weekly, Sunday 01:00, kept 8 weeks).
  kind: z.enum(['logical', 'drill', 'base']).default('logical'),
  cron: fields.cron,
  timezone: fields.timezone.default('UTC'),
  format: fields.format.default('custom-zstd'),
  compressLevel: fields.compressLevel.default(0),
  zstdLevel: fields.zstdLevel.default(2), // defaultDumpSettings.zstdLevel (worker/pg/pg-dump.ts); lib may not import worker
  jobs: fields.jobs.default(2),
  retentionDays: fields.retentionDays.default(30),
  retentionCount: fields.retentionCount.default(null),
  enabled: fields.enabled.default(true),
  baseCompression: fields.baseCompression.default(null),
  // Base schedules only: whole weeks, stored as retention_days = weeks * 7 (default: the runbook's 8).
  retentionWeeks: fields.retentionWeeks.optional(),
});

/** What is stored: a base schedule keeps whole weeks (retention_days = weeks * 7) and no logical-dump settings matter. */
function toRow(input: z.infer<typeof scheduleInput>) {
  const { retentionWeeks, ...rest } = input;
  if (input.kind !== 'base') {
    if (retentionWeeks !== undefined) throw new UserError('VALIDATION', 'retentionWeeks is for base-backup schedules only.', 'Use retentionDays or retentionCount for this schedule.', { retentionWeeks: 'is for kind base only' });
    if (input.baseCompression !== null) throw new UserError('VALIDATION', 'baseCompression is for base-backup schedules only.', 'Leave it out, or use kind "base".', { baseCompression: 'is for kind base only' });
    return rest;
  }
  return { ...rest, retentionDays: (retentionWeeks ?? BASE_PRESET.retentionWeeks) * 7, retentionCount: null };
}

/** An edit: only what is sent changes (no defaults, which would silently reset other settings). */
export const schedulePatch = z.object(fields).partial();

/** An edit as stored: weeks become days (base schedules). */
function patchRow(input: z.infer<typeof schedulePatch>, kind: string) {
  const { retentionWeeks, ...rest } = input;
  if (retentionWeeks === undefined) return rest;
  if (kind !== 'base') throw new UserError('VALIDATION', 'retentionWeeks is for base-backup schedules only.', 'Use retentionDays or retentionCount for this schedule.', { retentionWeeks: 'is for kind base only' });
  return { ...rest, retentionDays: retentionWeeks * 7 };
}

export type ScheduleInput = z.input<typeof scheduleInput>;

export async function createSchedule(actor: Actor & { role?: Role }, raw: ScheduleInput, ip: string | null) {
  const input = toRow(scheduleInput.parse(raw));
  // Operators may add base-backup schedules (like "Base backup now"); every other kind is an admin's.
  if (input.kind !== 'base' && actor.role !== undefined && !hasRole(actor.role, 'admin')) {
    throw new UserError('FORBIDDEN', `Only an admin can add a ${input.kind} schedule; operators can add base-backup schedules.`);
  }
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
    const s = await tx.schedule.update({ where: { id }, data: { ...patchRow(input, before.kind), nextRunAt: next ?? null } });
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
