// The pitr and pitr-discard job kinds' payload and result schemas (lib/jobs/kinds.ts registers them).
import { z } from 'zod';

const lsn = z.string().trim().regex(/^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/, 'must be an LSN as PostgreSQL prints it, e.g. 0/3000060');

export const recoveryTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('time'), at: z.iso.datetime({ offset: true, message: 'must be a date and time with its zone, e.g. 2026-12-07T16:00:00Z' }) }),
  z.object({ kind: z.literal('lsn'), lsn }),
  // lsn: where the restore point was created, when known; it picks the base backup.
  z.object({ kind: z.literal('name'), name: z.string().trim().min(1, 'is required').max(63, 'is longer than a restore point name may be (63 bytes)'), lsn: lsn.optional() }),
  z.object({ kind: z.literal('latest') }),
]);

export const pitrPayload = z.object({
  targetId: z.uuid({ message: 'must be a target id' }),
  recoveryTarget: recoveryTargetSchema,
  // Default: the first free port from 55432 upward on the worker host.
  port: z.number().int().min(1024, 'must be 1024 or more').max(65535, 'must be at most 65535').optional(),
  // Default: <LIFEBOAT_DATA_DIR>/recovered/<job id>; must not exist yet (or be empty).
  destination: z.string().trim().startsWith('/', 'must be an absolute path').optional(),
});

export const pitrResult = z.object({
  instanceId: z.string(),
  targetId: z.string(),
  backupId: z.string(),
  baseBackupFolder: z.string(),
  recoveryTarget: z.string(),
  host: z.string(),
  port: z.number().int(),
  folder: z.string(),
  dataDir: z.string(),
  serverMajor: z.number().int(),
  promotedAt: z.string(),
  lastReplayedLsn: z.string().nullable(),
  lastTransactionAt: z.string().nullable(),
  // postgresql://user@127.0.0.1:port/database: the password is the target's own (the recovered copy has its roles).
  connection: z.string(),
  durationMs: z.number(),
});

export const pitrDiscardPayload = z.object({ instanceId: z.uuid({ message: 'must be a recovered instance id' }) });
export const pitrDiscardResult = z.object({ instanceId: z.string(), dataDir: z.string(), port: z.number().int(), stopped: z.boolean(), removed: z.boolean() });
