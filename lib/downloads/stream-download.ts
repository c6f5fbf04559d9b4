// A download as the route sees it (the web process never opens a storage): a `download` job is enqueued with the
// caller's audit entry; a worker finds the object and reports its size (the Content-Length), then writes its bytes
// into download_chunks a few chunks ahead; this side takes them in order (deleting each as it is passed on) and ends
// when every byte came. A browser that goes away cancels the job; a job that fails, expires or is cancelled errors
// the stream, so the browser marks the download failed instead of keeping a short file that looks complete.
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { getDb, type Tx } from '../db';
import { errorRegistry, UserError, type ErrorCode } from '../errors';
import type { Actor } from '../audit/write-audit';
import { hasRole, type Role } from '../auth/roles';
import { enqueueJob } from '../jobs/enqueue-job';
import { roleToStart, type JobPayload } from '../jobs/kinds';
import { DOWNLOAD_START_MS, pollPauses } from './download-window';

export interface Download {
  jobId: string;
  /** Bytes the stream delivers, as the worker found them in storage. */
  size: number;
  /** Ends after exactly `size` bytes, or errors; destroying it cancels the job. */
  stream: Readable;
}

export interface StartOptions {
  /** The caller's audit entry ("backup.download" ...), written in the job's transaction. */
  audit: (tx: Tx) => Promise<void>;
  /** The target whose worker pool can reach the storage. */
  targetId: string | null;
  pool: string;
  ip: string | null;
  /** The request's signal: a browser that goes away before or during the transfer cancels the job. */
  signal?: AbortSignal;
}

export async function startDownload(actor: Actor & { role: Role }, payload: JobPayload<'download'>, opts: StartOptions): Promise<Download> {
  const db = getDb();
  const needed = roleToStart('download', payload);
  if (!hasRole(actor.role, needed)) throw new UserError('FORBIDDEN', `Downloading this needs the ${needed} role; you are ${actor.role}.`);
  // enqueue: audit entry, job row and queue message in one transaction.
  const job = await db.$transaction(async (tx) => {
    await opts.audit(tx);
    return enqueueJob(actor, 'download', payload, { tx, pool: opts.pool, ip: opts.ip, ...(opts.targetId ? { targetId: opts.targetId } : {}) });
  });
  // size: the worker has the object open; its errors (a missing file, a folder) are this request's answer.
  const size = await waitForSize(job.id, opts.signal);
  return { jobId: job.id, size, stream: chunkStream(job.id, size, opts.signal) };
}

/** The HTTP answer for a download: its bytes as they come, with length, file name and the SHA-256 to compare. */
export function downloadResponse(file: { stream: Readable; size: number; name: string; sha256: string | null }, contentType: string): Response {
  return new Response(toWebStream(file.stream), {
    headers: {
      'content-type': contentType,
      'content-length': String(file.size),
      'content-disposition': `attachment; filename="${file.name.replace(/[^\w.-]/g, '_')}"`,
      'x-checksum-sha256': file.sha256 ?? '',
    },
  });
}

/**
 * The web stream a Response sends, pulling from `stream` one chunk at a time. Not Readable.toWeb: Node 20's adapter
 * still enqueues data that was flowing when the browser went away, which throws "Controller is already closed" as an
 * uncaught exception in the server process.
 */
function toWebStream(stream: Readable): ReadableStream<Uint8Array> {
  const chunks = stream[Symbol.asyncIterator]();
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await chunks.next();
        if (cancelled) return;
        if (done) controller.close();
        else controller.enqueue(value as Buffer);
      },
      cancel() {
        cancelled = true;
        stream.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

/** The browser went away: a queued download ends here, a running one is stopped by its worker (which deletes its rows). */
export async function abandonDownload(jobId: string, message: string): Promise<void> {
  const db = getDb();
  await db.job.updateMany({
    where: { id: jobId, status: 'queued' },
    data: { status: 'cancelled', cancelRequested: true, finishedAt: new Date(), errorCode: 'JOB_CANCELLED', errorMessage: message },
  });
  await db.job.updateMany({ where: { id: jobId, status: 'running' }, data: { cancelRequested: true } });
}

type JobState = { status: string; result: unknown; errorCode: string | null; errorMessage: string | null; errorHint: string | null };

async function jobState(jobId: string): Promise<JobState> {
  const job = await getDb().job.findUnique({ where: { id: jobId }, select: { status: true, result: true, errorCode: true, errorMessage: true, errorHint: true } });
  if (!job) throw new UserError('NOT_FOUND', `The download job ${jobId} is gone.`);
  return job;
}

const ended = (job: JobState) => job.status !== 'queued' && job.status !== 'running';

/** The job's own failure (code, message, hint) as this request's error. */
function jobError(job: JobState): UserError {
  const code = (job.errorCode && job.errorCode in errorRegistry ? job.errorCode : 'INTERNAL') as ErrorCode;
  return new UserError(code, job.errorMessage ?? `The download ${job.status}.`, job.errorHint ?? undefined);
}

/** Waits until the worker has the object open and says how large it is, or the job ends, or nobody takes it. */
async function waitForSize(jobId: string, signal?: AbortSignal): Promise<number> {
  const db = getDb();
  const since = Date.now();
  for (const pause of pollPauses()) {
    if (signal?.aborted) {
      await abandonDownload(jobId, 'The browser went away before the download started.');
      throw new UserError('JOB_CANCELLED', 'The download was cancelled: the browser went away.');
    }
    const download = await db.download.findUnique({ where: { jobId }, select: { size: true } });
    if (download) return Number(download.size);
    const job = await jobState(jobId);
    // An empty file can be sent and done before this side looks.
    if (job.status === 'succeeded' && (job.result as { size?: number } | null)?.size === 0) return 0;
    if (ended(job)) throw jobError(job);
    if (job.status === 'queued' && Date.now() - since > DOWNLOAD_START_MS) {
      await abandonDownload(jobId, `No worker started the download within ${DOWNLOAD_START_MS / 1000} s.`);
      throw new UserError('DOWNLOAD_NOT_STARTED', `No worker started the download within ${DOWNLOAD_START_MS / 1000} s.`);
    }
    await sleep(pause);
  }
  throw new Error('unreachable');
}

/**
 * The chunks of job `jobId` in order, each deleted as it is taken. Ends after `size` bytes (the worker writes the
 * last chunk only after it read the object to its end, at the size it reported), errors when the job ends first.
 */
function chunkStream(jobId: string, size: number, signal?: AbortSignal): Readable {
  const db = getDb();
  const gone = new AbortController();
  let seq = 0;
  let sent = 0;

  const take = async (): Promise<Buffer> => {
    for (const pause of pollPauses()) {
      const [row] = await db.$queryRaw<{ data: Uint8Array }[]>`
        DELETE FROM download_chunks WHERE job_id = ${jobId}::uuid AND seq = ${seq} RETURNING data`;
      if (row) return Buffer.from(row.data);
      const job = await jobState(jobId);
      if (job.status === 'succeeded') throw new UserError('INTERNAL', `The download ended after ${sent} of ${size} bytes.`);
      if (ended(job)) throw jobError(job);
      await sleep(pause, undefined, { signal: gone.signal });
    }
    throw new Error('unreachable');
  };

  const onAbort = () => stream.destroy();
  const stream = new Readable({
    // One chunk ahead of what the response holds; the rest waits in the database.
    highWaterMark: 1,
    read() {
      take().then(
        (data) => {
          seq++;
          sent += data.length;
          this.push(data);
          if (sent >= size) this.push(null);
        },
        (err) => this.destroy(err),
      );
    },
    destroy(err, cb) {
      gone.abort();
      signal?.removeEventListener('abort', onAbort);
      // Not every byte taken: the browser went away, or the job failed (then this is a no-op).
      if (sent < size) abandonDownload(jobId, 'The browser went away during the download.').then(() => cb(err), () => cb(err));
      else cb(err);
    },
  });
  signal?.addEventListener('abort', onAbort, { once: true });
  if (size === 0) stream.push(null);
  return stream;
}
