// Job kinds: the contract between console and worker (payload schema, who may start it, how long it may run).
import { z } from 'zod';
import type { Role } from '../auth/roles';

export interface JobKind<P extends z.ZodType = z.ZodType> {
  label: string;
  payload: P;
  role: Role;
  /** Seconds the job may run before it is stopped and failed; sized to the work. */
  expireInSeconds: (payload: z.infer<P>) => number;
}

const pingPayload = z.object({
  message: z.string().trim().min(1).max(200).default('ping'),
  // Lets the ping take long enough to watch its progress and to cancel it.
  seconds: z.number().int().min(0).max(300).default(3),
  // Proves that a failure with a code, message and hint reaches the console.
  fail: z.boolean().default(false),
});

const backupPayload = z.object({
  targetId: z.uuid({ message: 'must be a target id' }),
  scheduleId: z.uuid().optional(),
});

const targetPayload = z.object({ targetId: z.uuid({ message: 'must be a target id' }) });

export const jobKinds = {
  ping: {
    label: 'Ping the worker',
    payload: pingPayload,
    role: 'operator',
    expireInSeconds: (p: z.infer<typeof pingPayload>) => p.seconds + 60,
  } satisfies JobKind<typeof pingPayload>,
  backup: {
    label: 'Logical backup',
    payload: backupPayload,
    role: 'operator',
    // Sized for large databases; a hung pg_dump is stopped after this and the job failed.
    expireInSeconds: () => Number(process.env.LIFEBOAT_BACKUP_TIMEOUT_SECONDS ?? 6 * 3600),
  } satisfies JobKind<typeof backupPayload>,
  'test-connection': {
    label: 'Test connection',
    payload: targetPayload,
    role: 'admin',
    expireInSeconds: () => 120,
  } satisfies JobKind<typeof targetPayload>,
} as const;

export type JobKindName = keyof typeof jobKinds;
export type JobPayload<K extends JobKindName> = z.infer<(typeof jobKinds)[K]['payload']>;

export const jobKindNames = Object.keys(jobKinds) as JobKindName[];

/** The pg-boss queue for a kind in a worker pool (a target names its pool). */
export function queueName(kind: JobKindName, pool = 'default'): string {
  return `${kind}.${pool}`;
}

/** What pg-boss carries: only our job id; the job row holds the payload. */
export interface QueueMessage {
  jobId: string;
}
