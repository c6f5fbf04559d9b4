// The job lifecycle, owned by one helper: claim, step and progress, log lines, cancel and expiry, final status.
import { rm } from 'node:fs/promises';
import { makeJobScratch, removeJobScratch } from './scratch';
import { getDb } from '../db';
import { errorRegistry, UserError } from '../errors';
import type { PutOptions } from '../storage/storage';
import { ToolError } from './tool-error';

export { ToolError };

export interface DeferOptions {
  /** Also undone when the job succeeds (a passfile, a connection, a temporary database): cleanup, not rollback. */
  always?: boolean;
}

export interface JobContext<P> {
  jobId: string;
  payload: P;
  /** Aborted on cancel, expiry or worker shutdown; pass it to runTool's signal. */
  signal: AbortSignal;
  step(name: string): Promise<void>;
  progress(percent: number | null, detail?: string): Promise<void>;
  /**
   * Stores a log line. Lines are stored in the order of the calls (ids too), whether or not the caller awaits;
   * the promise settles when this line is stored. The final "finished" line waits for every earlier one.
   */
  log(line: string, level?: 'info' | 'warn' | 'error'): Promise<void>;
  /**
   * This job's own folder in the worker's scratch (<scratch>/<jobId>, 0700), made on the first call; removed when
   * the job ends, whatever the outcome, and by the crash sweep of this host.
   */
  scratch(): Promise<string>;
  /**
   * Puts an undo step on the job's cleanup stack. When the job fails or is cancelled, the steps run last-in
   * first-out, each logged ("cleanup: <what>"); an undo that throws is logged as a warning and never replaces the
   * job's own error. On success the steps are dropped, except those added with { always: true }. The returned
   * function drops the step (call it once the thing is committed or handed over). An undo must not rely on
   * ctx.signal: it is already aborted when a cancel or expiry is being cleaned up.
   */
  defer(what: string, undo: () => Promise<unknown>, opts?: DeferOptions): () => void;
  /** Storage put()'s incomplete-object tracker bound to this job: what it reports the crash sweep discards. */
  incomplete: NonNullable<PutOptions['incomplete']>;
  /** A file being written: removed if the job fails, and by the boot sweep if the worker dies. */
  trackPartial(path: string): Promise<void>;
  untrackPartial(path: string): Promise<void>;
  /**
   * Past the point of no return (a production swap, an in-place restore about to drop production): from now on a
   * cancel, expiry or shutdown no longer turns the job into a failure; the task finishes and its result is
   * recorded. Stored on the job row (committed_at) so the cancel API refuses from then on. Throws when a cancel
   * or stop came first (the task must not go past the point then), or when the job is no longer this worker's.
   */
  commit(): Promise<void>;
  /**
   * Stores what the job found on its row now, for a task about to fail that wants its findings kept beside the
   * error. Guarded by the owner like every write here: a job another worker owns (or the sweep failed) is left
   * alone. Returns whether the row was written.
   */
  storeResult(result: object): Promise<boolean>;
}

type StopReason = { code: 'JOB_CANCELLED' | 'JOB_EXPIRED' | 'WORKER_LOST'; message: string };

const PROGRESS_EVERY_MS = 1_000;
/** Lines per INSERT: a burst of tool output goes in a few statements instead of one connection per line. */
const LOG_BATCH = 500;

type LogEntry = { jobId: string; line: string; level: string; at: Date };

/**
 * One job's log writer: a serial queue, so lines are stored in the order `log` was called (ids are assigned in
 * that order) and never race each other for connections; lines that arrive while a write is in flight go
 * together in the next write.
 */
function logWriter(write: (rows: LogEntry[]) => Promise<unknown>) {
  let waiting: LogEntry[] = [];
  let next: Promise<void> | undefined;
  let tail: Promise<void> = Promise.resolve();
  return {
    add(row: LogEntry): Promise<void> {
      waiting.push(row);
      if (!next) {
        const batch = tail.then(async () => {
          const rows = waiting;
          waiting = [];
          next = undefined;
          for (let i = 0; i < rows.length; i += LOG_BATCH) await write(rows.slice(i, i + LOG_BATCH));
        });
        next = batch;
        // A failed write fails its own callers; the lines after it still get their turn.
        tail = batch.catch(() => {});
      }
      return next;
    },
    /** Settles when every line added so far is stored (or failed). */
    flush(): Promise<void> {
      return tail;
    },
  };
}
const WATCH_EVERY_MS = 1_000;
/** An undo step that has not finished by then is given up (logged), so a hung cleanup cannot hold the job forever. */
const UNDO_TIMEOUT_MS = 10 * 60_000;

type Deferred = { what: string; undo: () => Promise<unknown>; always: boolean };

/**
 * Runs the cleanup stack last-in first-out (only the `always` steps after a success). Each step is logged; a
 * failing or hung step is a warning and the next one still runs. Never throws.
 */
async function runCleanup(stack: Deferred[], failed: boolean, log: (line: string, level?: 'info' | 'warn' | 'error') => Promise<void>) {
  const steps = stack.splice(0).filter((d) => failed || d.always).reverse();
  for (const d of steps) {
    void log(`cleanup: ${d.what}`).catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(d.undo),
        new Promise((_, rej) => {
          timer = setTimeout(() => rej(new Error(`gave up after ${UNDO_TIMEOUT_MS / 1000} s`)), UNDO_TIMEOUT_MS);
          timer.unref();
        }),
      ]);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      void log(`cleanup failed: ${d.what}: ${msg}`, 'warn').catch(() => {});
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface RunOptions {
  jobId: string;
  workerId: string;
  expireInSeconds: number;
  /** Aborted when the worker shuts down. */
  shutdown?: AbortSignal;
}

/**
 * Runs `execute` as the job `jobId` owned by `workerId`. Every status write is guarded by the owner, so a job
 * the sweep already failed is never revived by a slow worker.
 */
export async function runJob<P, R>(
  opts: RunOptions,
  execute: (ctx: JobContext<P>) => Promise<R>,
): Promise<'succeeded' | 'failed' | 'cancelled' | 'skipped'> {
  const db = getDb();
  const { jobId, workerId } = opts;

  // claim: only a queued job can start; a cancelled or swept one is left alone.
  const claimed = await db.job.updateManyAndReturn({
    where: { id: jobId, status: 'queued' },
    data: {
      status: 'running',
      workerId,
      startedAt: new Date(),
      expiresAt: new Date(Date.now() + opts.expireInSeconds * 1000),
      step: 'starting',
      progress: 0,
    },
  });
  const job = claimed[0];
  if (!job) return 'skipped';

  const controller = new AbortController();
  let stopReason: StopReason | undefined;
  const stop = (reason: StopReason) => {
    if (!stopReason) stopReason = reason;
    controller.abort(new UserError(reason.code, reason.message));
  };
  const owned = { id: jobId, workerId, status: 'running' as const };
  let partials: string[] = [];
  let committed = false;
  const cleanups: Deferred[] = [];
  let ended = false;
  let scratchDir: Promise<string> | undefined;
  // One partial-list write at a time, each writing the list as it is then: parallel puts never lose an entry.
  let partialWrites: Promise<unknown> = Promise.resolve();
  const savePartials = () => {
    const write = partialWrites.then(() => db.job.updateMany({ where: owned, data: { partialPaths: partials } }));
    partialWrites = write.catch(() => {});
    return write.then(() => {});
  };

  // watch: cancel requests, the expiry, a sweep that took the job away, worker shutdown.
  const expiry = setTimeout(
    () => stop({ code: 'JOB_EXPIRED', message: `The job ran longer than its limit of ${opts.expireInSeconds} s and was stopped.` }),
    opts.expireInSeconds * 1000,
  );
  const onShutdown = () => stop({ code: 'WORKER_LOST', message: 'The worker was stopped while the job ran.' });
  opts.shutdown?.addEventListener('abort', onShutdown);
  const watcher = setInterval(async () => {
    try {
      const row = await db.job.findUnique({ where: { id: jobId }, select: { cancelRequested: true, status: true, workerId: true } });
      if (!row || row.status !== 'running' || row.workerId !== workerId)
        stop({ code: 'WORKER_LOST', message: 'The job was taken from this worker (marked failed by a sweep).' });
      else if (row.cancelRequested) stop({ code: 'JOB_CANCELLED', message: 'Cancelled on request.' });
    } catch {
      // the database blinked; the next tick tries again
    }
  }, WATCH_EVERY_MS);

  let lastProgressAt = 0;
  let pendingProgress: { progress: number | null; progressDetail: string | null } | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  const flushProgress = async () => {
    progressTimer = undefined;
    if (!pendingProgress) return;
    const data = pendingProgress;
    pendingProgress = undefined;
    lastProgressAt = Date.now();
    await db.job.updateMany({ where: owned, data });
  };

  const logs = logWriter((rows) => db.jobLog.createMany({ data: rows }));
  const entry = (line: string, level: string): LogEntry => ({ jobId, line: line.slice(0, 4000), level, at: new Date() });

  const ctx: JobContext<P> = {
    jobId,
    payload: job.payload as P,
    signal: controller.signal,
    async step(name) {
      await db.job.updateMany({ where: owned, data: { step: name } });
      await ctx.log(`step: ${name}`);
    },
    async progress(percent, detail) {
      pendingProgress = {
        progress: percent === null ? null : Math.max(0, Math.min(100, percent)),
        progressDetail: detail ?? null,
      };
      const wait = PROGRESS_EVERY_MS - (Date.now() - lastProgressAt);
      if (wait <= 0) await flushProgress();
      else progressTimer ??= setTimeout(() => void flushProgress().catch(() => {}), wait);
    },
    log(line, level = 'info') {
      return logs.add(entry(line, level));
    },
    scratch() {
      scratchDir ??= makeJobScratch(jobId);
      return scratchDir;
    },
    defer(what, undo, deferOpts = {}) {
      const d: Deferred = { what, undo, always: deferOpts.always ?? false };
      if (ended) return () => {};
      cleanups.push(d);
      return () => {
        const i = cleanups.indexOf(d);
        if (i >= 0) cleanups.splice(i, 1);
      };
    },
    incomplete: {
      add: (handle) => ctx.trackPartial(handle),
      remove: (handle) => ctx.untrackPartial(handle),
    },
    async trackPartial(path) {
      partials = [...new Set([...partials, path])];
      await savePartials();
    },
    async commit() {
      if (committed) return;
      controller.signal.throwIfAborted();
      // cancelRequested: false makes this and a cancel exclusive (the cancel requires committed_at IS NULL).
      const done = await db.job.updateMany({ where: { ...owned, cancelRequested: false }, data: { committedAt: new Date() } });
      if (done.count === 1) {
        committed = true;
        return;
      }
      const row = await db.job.findUnique({ where: { id: jobId }, select: { cancelRequested: true, status: true, workerId: true } });
      if (row && row.status === 'running' && row.workerId === workerId && row.cancelRequested) stop({ code: 'JOB_CANCELLED', message: 'Cancelled on request.' });
      else stop({ code: 'WORKER_LOST', message: 'The job was taken from this worker (marked failed by a sweep).' });
      controller.signal.throwIfAborted();
    },
    async untrackPartial(path) {
      partials = partials.filter((p) => p !== path);
      await savePartials();
    },
    async storeResult(result) {
      const done = await db.job.updateMany({ where: owned, data: { result } });
      return done.count === 1;
    },
  };

  try {
    if (job.cancelRequested) stop({ code: 'JOB_CANCELLED', message: 'Cancelled before it started.' });
    controller.signal.throwIfAborted();
    const result = await execute(ctx);
    // A task that returned did its work; only an uncommitted one stopped by a cancel in its last moment counts as stopped.
    if (!committed) controller.signal.throwIfAborted();
    if (progressTimer) clearTimeout(progressTimer);
    // clean up: the steps meant for every outcome, then the job's scratch folder.
    ended = true;
    await runCleanup(cleanups, false, ctx.log);
    await removeScratch(jobId, scratchDir, ctx.log);
    // finish: every line the task logged is stored before the final one, and the final line comes with the status.
    await logs.flush();
    await db.$transaction(async (tx) => {
      const done = await tx.job.updateMany({
        where: owned,
        data: {
          status: 'succeeded',
          result: (result ?? {}) as object,
          progress: 100,
          step: 'done',
          progressDetail: null,
          finishedAt: new Date(),
          partialPaths: [],
        },
      });
      // A job the sweep took away keeps the sweep's outcome, and no line that says otherwise.
      if (done.count === 1) await tx.jobLog.create({ data: entry('finished: succeeded', 'info') });
    });
    return 'succeeded';
  } catch (err) {
    if (progressTimer) clearTimeout(progressTimer);
    const failure = describeFailure(err, stopReason);
    // undo: what the task put on its cleanup stack, last first; then its partial files and scratch folder.
    ended = true;
    await runCleanup(cleanups, true, ctx.log);
    await partialWrites;
    await removeFiles(partials);
    await removeScratch(jobId, scratchDir, ctx.log);
    const status = failure.code === 'JOB_CANCELLED' ? 'cancelled' : 'failed';
    await logs.flush();
    await db.$transaction(async (tx) => {
      await tx.job.updateMany({
        where: owned,
        data: {
          status,
          errorCode: failure.code,
          errorMessage: failure.message,
          errorHint: failure.hint,
          errorDetail: failure.detail,
          finishedAt: new Date(),
          partialPaths: [],
        },
      });
      await tx.jobLog.create({ data: entry(`${status}: [${failure.code}] ${failure.message}`, 'error') });
    });
    return status;
  } finally {
    clearTimeout(expiry);
    clearInterval(watcher);
    opts.shutdown?.removeEventListener('abort', onShutdown);
  }
}

/** Code, message, hint and tool output for a failed job; a stop reason wins over the error it caused. */
export function describeFailure(err: unknown, stop?: StopReason) {
  if (stop) return { code: stop.code, message: stop.message, hint: errorRegistry[stop.code].hint, detail: toolDetail(err) };
  if (err instanceof UserError) return { code: err.code, message: err.message, hint: err.hint, detail: toolDetail(err) };
  console.error('[lifeboat] job failed with an unexpected error:', err);
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL' as const, message: `Unexpected error: ${message}`, hint: errorRegistry.INTERNAL.hint, detail: null };
}

function toolDetail(err: unknown): string | null {
  return err instanceof ToolError ? err.detail.slice(-8000) : null;
}

/** Removes the job's scratch folder if the job made one; a failure is a warning (the sweep tries again). */
async function removeScratch(jobId: string, made: Promise<string> | undefined, log: (line: string, level?: 'info' | 'warn' | 'error') => Promise<void>) {
  if (!made) return;
  try {
    await made.catch(() => {});
    await removeJobScratch(jobId);
  } catch (err) {
    void log(`could not remove the scratch folder: ${(err as Error).message}`, 'warn').catch(() => {});
  }
}

export async function removeFiles(paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { force: true, recursive: true }).catch(() => {})));
}
