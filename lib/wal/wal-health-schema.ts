// The shape of the WAL archiving part of a "Test connection" result: zod only, so the job schemas (which the
// browser bundle imports) can include it without pulling in the worker-side reader.
import { z } from 'zod';

/** Settings the check reads (pg_settings); the order the card shows them in. */
export const WAL_SETTINGS = ['wal_level', 'archive_mode', 'archive_command', 'max_wal_senders'] as const;
export type WalSettingName = (typeof WAL_SETTINGS)[number];

const settingRead = z.object({ value: z.string().nullable(), pendingRestart: z.boolean().optional() });

export const walHealthSchema = z.object({
  settings: z.partialRecord(z.enum(WAL_SETTINGS), settingRead),
  segmentBytes: z.number().int(),
  systemIdentifier: z.string().nullable(),
  archiver: z
    .object({
      archivedCount: z.number(),
      lastArchivedWal: z.string().nullable(),
      lastArchivedAt: z.string().nullable(),
      failedCount: z.number(),
      lastFailedWal: z.string().nullable(),
      lastFailedAt: z.string().nullable(),
      statsReset: z.string().nullable(),
    })
    .nullable(),
  archive: z.object({
    /** The folder listed, for messages. */
    location: z.string(),
    segments: z.number().int(),
    oldest: z.string().nullable(),
    newest: z.object({ name: z.string(), archivedAt: z.string() }).nullable(),
    gaps: z.array(z.object({ timeline: z.number(), after: z.string(), before: z.string(), count: z.number(), missing: z.array(z.string()) })),
    /**
     * The continuous runs of segments per timeline (split at the gaps), each with its last segment's archive time: what
     * the recoverable window needs, bounded (the newest RUNS_KEPT) however large the archive. Absent in older checks.
     */
    runs: z.array(z.object({ timeline: z.number(), first: z.string(), last: z.string(), lastArchivedAt: z.string() })).optional(),
    /** Why the archive could not be listed (no storage problem hides the live settings). */
    problem: z.string().nullable(),
  }),
  /** Reading the server failed part-way (the rest is still reported). */
  problems: z.array(z.string()),
});
/** How many runs a check keeps (the newest): a gap-riddled archive still stores a bounded result. */
export const RUNS_KEPT = 100;

export type WalHealth = z.infer<typeof walHealthSchema>;

