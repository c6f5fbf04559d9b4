// Downloads streamed by the worker through the console database (the web process never opens a storage): a real
// backup arrives byte for byte; a slow reader never has more than the window of chunks waiting in the database; a
// browser that goes away cancels the job and leaves no chunks; a damaged file and a worker that dies mid-stream end
// the HTTP body with an error (never a short body that ends cleanly), and leave no chunks either. The HTTP side is
// served the way Next serves a route's Response: the request's signal and the body pipe are Next's own functions.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { pipeToNodeResponse } from 'next/dist/server/pipe-readable';
import { signalFromNodeResponse } from 'next/dist/server/web/spec-extension/adapters/next-request';
import { sql, waitFor } from '../helpers/db';
import { exitWithin, killGroup, makeBigDatabase, sha256File, type Spawned, useStack } from '../helpers/backups';
import { backupNow, why } from '../helpers/restores';
import { getDb } from '../../lib/db';
import { openBackupForDownload } from '../../lib/backups/download-backup';
import { downloadResponse } from '../../lib/downloads/stream-download';
import { DOWNLOAD_CHUNK_BYTES, DOWNLOAD_WINDOW } from '../../lib/downloads/download-window';

let worker: Spawned;
let storageDir: string;
let storageId: string;
let targetId: string;
let server: http.Server;
let base: string;
const IP = '192.0.2.30';
/** More chunks than the window plus what the HTTP buffers hold; not a multiple of the chunk size (a short last chunk). */
const BLOB_SIZE = 12 * DOWNLOAD_CHUNK_BYTES + 12_345;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const rowsLeft = async () =>
  (await sql<{ d: number; c: number }>(fx.stack.url, 'SELECT (SELECT count(*)::int FROM downloads) AS d, (SELECT count(*)::int FROM download_chunks) AS c'))[0]!;
const chunksOf = async (jobId: string) => (await sql<{ n: number }>(fx.stack.url, 'SELECT count(*)::int AS n FROM download_chunks WHERE job_id = $1', [jobId]))[0]!.n;
const downloadJobs = async () => sql<{ id: string; status: string; error_code: string | null }>(fx.stack.url, "SELECT id, status, error_code FROM jobs WHERE kind = 'download' ORDER BY created_at");

/** A backup row for a file the test writes straight into the storage folder (random bytes: a "large" backup). */
async function blobBackup(name: string, bytes: Buffer, recordedSha = sha(bytes)) {
  mkdirSync(path.dirname(path.join(storageDir, name)), { recursive: true });
  writeFileSync(path.join(storageDir, name), bytes);
  const b = await getDb().backupLog.create({
    data: {
      backupType: 'uploaded',
      backupFile: name,
      backupSize: BigInt(bytes.length),
      status: 'succeeded',
      targetId,
      databaseName: 'blob',
      format: 'custom',
      storageId,
      location: storageDir,
      checksumSha256: recordedSha,
      finishedAt: new Date(),
    },
  });
  return b.id;
}

/** GET /download/<backupId>: the admin's download, answered as Next answers the route's Response. */
function serve(): Promise<void> {
  server = http.createServer((req, res) => {
    const id = BigInt(req.url!.split('/').pop()!);
    void (async () => {
      let response: Response;
      try {
        const file = await openBackupForDownload(fx.stack.admin, id, IP, 'dump', signalFromNodeResponse(res));
        response = downloadResponse(file, 'application/octet-stream');
      } catch (err) {
        res.writeHead(409, { 'content-type': 'text/plain' }).end((err as Error).message);
        return;
      }
      res.writeHead(response.status, Object.fromEntries(response.headers));
      await pipeToNodeResponse(response.body!, res).catch(() => {});
    })();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

/** Reads the body (after each MiB: `during`, then `pause` ms); the bytes that came, and how it ended. */
async function readBody(res: Response, opts: { pause?: number; during?: () => Promise<void> } = {}) {
  const reader = res.body!.getReader();
  const parts: Buffer[] = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(parts), ended: 'cleanly' as const };
      parts.push(Buffer.from(value));
      const mib = Math.floor(received / 2 ** 20);
      received += value.length;
      if (Math.floor(received / 2 ** 20) === mib) continue;
      await opts.during?.();
      if (opts.pause) await sleep(opts.pause);
    }
  } catch (err) {
    return { bytes: Buffer.concat(parts), ended: 'with an error' as const, error: err as Error };
  }
}

const fx = useStack('lifeboat_downloads', { timeoutMs: 180_000 }, async ({ cluster, stack }) => {
  storageDir = stack.tempDir('lifeboat-store-');
  storageId = (await stack.storage('downloads', storageDir)).id;
  // A few MB of dump (md5 text compresses only about 2:1): more than one chunk.
  await makeBigDatabase(cluster, 'shop', 120_000);
  targetId = (await stack.target({ name: 'downloads', database: 'shop', storageId })).id;
  worker = await stack.readyWorker();
  await serve();
});

// Registered after the stack's, so it runs first (after-hooks run last-registered first).
afterAll(() => void server?.close());

describe('downloads streamed by the worker', () => {
  it('a real backup arrives byte for byte (the SHA-256 the catalog holds), audited, and leaves no rows', async () => {
    const row = await backupNow(fx.stack, worker, targetId);
    const onDisk = path.join(storageDir, row.backup_file);
    expect(Number(row.backup_size)).toBeGreaterThan(DOWNLOAD_CHUNK_BYTES);

    const file = await openBackupForDownload(fx.stack.admin, BigInt(row.id), IP);
    expect(file.size).toBe(Number(row.backup_size));
    expect(file.sha256).toBe(row.checksum_sha256);
    const parts: Buffer[] = [];
    for await (const c of file.stream) parts.push(c as Buffer);
    const body = Buffer.concat(parts);
    expect(body.length).toBe(file.size);
    expect(sha(body)).toBe(row.checksum_sha256);
    expect(sha(body)).toBe(await sha256File(onDisk));

    const job = await fx.stack.waitJob(file.jobId, ['succeeded', 'failed', 'cancelled'], 30_000, worker);
    expect(job.status, why(job)).toBe('succeeded');
    expect(job.result).toMatchObject({ size: file.size, sha256: row.checksum_sha256 });
    expect(await rowsLeft()).toEqual({ d: 0, c: 0 });
    const [audit] = await sql<{ params: Record<string, unknown> }>(fx.stack.url, "SELECT params FROM audit_log WHERE action = 'backup.download' ORDER BY id DESC LIMIT 1");
    expect(audit!.params).toEqual({ file: row.backup_file, part: 'dump' });
  }, 120_000);

  it(`a slow browser: never more than ${DOWNLOAD_WINDOW} chunks wait in the database, and every byte arrives over HTTP`, async () => {
    const bytes = randomBytes(BLOB_SIZE);
    const id = await blobBackup('blob/slow.dump', bytes);
    const res = await fetch(`${base}/download/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-checksum-sha256')).toBe(sha(bytes));
    expect(Number(res.headers.get('content-length'))).toBe(BLOB_SIZE);
    const [job] = (await downloadJobs()).slice(-1);
    let most = 0;
    const got = await readBody(res, { pause: 100, during: async () => void (most = Math.max(most, await chunksOf(job!.id))) });
    expect(got.ended).toBe('cleanly');
    expect(sha(got.bytes)).toBe(sha(bytes));
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(DOWNLOAD_WINDOW);
    expect((await fx.stack.waitJob(job!.id, ['succeeded', 'failed', 'cancelled'], 30_000, worker)).status).toBe('succeeded');
    expect(await rowsLeft()).toEqual({ d: 0, c: 0 });
  }, 120_000);

  it('a browser that goes away cancels the job, and no chunk is left', async () => {
    const id = await blobBackup('blob/gone.dump', randomBytes(BLOB_SIZE));
    const abort = new AbortController();
    const res = await fetch(`${base}/download/${id}`, { signal: abort.signal });
    const [job] = (await downloadJobs()).slice(-1);
    const reader = res.body!.getReader();
    await reader.read();
    // The worker filled its window and waits for the browser; the browser closes the connection.
    await waitFor('the window to fill', async () => (await chunksOf(job!.id)) === DOWNLOAD_WINDOW, 20_000, 50);
    abort.abort();
    const done = await fx.stack.waitJob(job!.id, ['succeeded', 'failed', 'cancelled'], 20_000, worker);
    expect(done.status, why(done)).toBe('cancelled');
    expect(done.error_code).toBe('JOB_CANCELLED');
    expect(await rowsLeft()).toEqual({ d: 0, c: 0 });
  }, 60_000);

  it('a file that does not match its SHA-256 ends the HTTP body with an error, never a complete-looking file', async () => {
    const bytes = randomBytes(BLOB_SIZE);
    const damaged = Buffer.from(bytes);
    damaged[BLOB_SIZE - 10] ^= 0xff;
    const id = await blobBackup('blob/damaged.dump', damaged, sha(bytes));
    const res = await fetch(`${base}/download/${id}`);
    expect(res.status).toBe(200);
    const got = await readBody(res);
    expect(got.ended).toBe('with an error');
    expect(got.bytes.length).toBeLessThan(BLOB_SIZE);
    const [job] = (await downloadJobs()).slice(-1);
    const done = await fx.stack.waitJob(job!.id, ['succeeded', 'failed', 'cancelled'], 20_000, worker);
    expect(done.status).toBe('failed');
    expect(done.error_code).toBe('BACKUP_CHECKSUM_MISMATCH');
    expect(await rowsLeft()).toEqual({ d: 0, c: 0 });
  }, 60_000);

  it('a worker killed mid-stream ends the HTTP body with an error; the next worker\'s sweep fails the job and deletes its chunks', async () => {
    const id = await blobBackup('blob/killed.dump', randomBytes(BLOB_SIZE));
    const res = await fetch(`${base}/download/${id}`);
    expect(res.status).toBe(200);
    const [job] = (await downloadJobs()).slice(-1);
    await waitFor('the window to fill', async () => (await chunksOf(job!.id)) === DOWNLOAD_WINDOW, 20_000, 50);
    killGroup(worker.child, 'SIGKILL');
    await exitWithin(worker.child, 5_000);
    // A new worker on this host sees the old one's process gone: its boot sweep fails the job.
    worker = fx.stack.spawnWorker();
    await fx.stack.workerReady(worker);
    const got = await readBody(res);
    expect(got.ended).toBe('with an error');
    expect(got.bytes.length).toBeLessThan(BLOB_SIZE);
    const done = await fx.stack.job(job!.id);
    expect(done!.status).toBe('failed');
    expect(done!.error_code).toBe('WORKER_LOST');
    expect(await rowsLeft()).toEqual({ d: 0, c: 0 });
    expect(readFileSync(path.join(storageDir, 'blob/killed.dump')).length).toBe(BLOB_SIZE);
  }, 90_000);
});
