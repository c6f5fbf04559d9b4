// A backup is good only when every byte of it was read back and decoded: a stored file cut short (by a zstd that
// loses its tail and says it succeeded, or one that fails) ends the job failed with no succeeded row and no file;
// real pg_dump archives cut at any point or with a flipped byte are refused by the archive check.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { sql } from '../helpers/db';
import { Stack, startStack, stopStack, exitWithin, killGroup, listFiles, makeBigDatabase, pgEnv, type Manifest, type Spawned } from '../helpers/backups';
import { startBackup } from '../../lib/backups/start-backup';
import { ArchiveChecker, ArchiveDamaged } from '../../worker/pg/archive-check';

let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
let storageDir: string;
let storageId: string;
const s = () => stack!;

/** A folder with a `zstd` that passes decoding through but mangles compression as `body` says. */
function fakeZstd(body: string): string {
  const dir = s().tempDir('lifeboat-fake-zstd-');
  const file = path.join(dir, 'zstd');
  writeFileSync(
    file,
    `#!/bin/sh
for a in "$@"; do case "$a" in -d|-dc|-t) exec /usr/bin/zstd "$@";; esac; done
${body}
`,
  );
  chmodSync(file, 0o755);
  return dir;
}

async function backupWith(pathDir: string, pool: string) {
  const w: Spawned = s().spawnWorker({ LIFEBOAT_WORKER_POOL: pool, PATH: `${pathDir}:${process.env.PATH}` });
  await s().workerReady(w);
  const t = await s().target({ name: `verify-${pool}`, database: 'bigdb', storageId, workerPool: pool });
  try {
    const { id } = await startBackup(s().operator, t.id);
    const job = await s().waitJob(id, ['succeeded', 'failed', 'cancelled'], 60_000, w);
    const succeeded = await sql(s().url, "SELECT id FROM backup_log WHERE target_id = $1 AND status = 'succeeded'", [t.id]);
    return { job, rows: await s().backupRows(id), logs: await s().logLines(id), succeeded, files: listFiles(storageDir).filter((f) => f.startsWith(`verify-${pool}/`)) };
  } finally {
    killGroup(w.child, 'SIGKILL');
    await exitWithin(w.child, 5_000);
  }
}

beforeAll(async () => {
  ({ cluster, stack } = await startStack('lifeboat_verify'));
  await makeBigDatabase(cluster, 'bigdb', 150_000);
  // Large objects, an empty table and a partitioned table: every kind of data block the archive can hold.
  await sql(
    cluster.url('bigdb'),
    `CREATE TABLE empty_one (id int);
     CREATE TABLE parted (id int, at date) PARTITION BY RANGE (at);
     CREATE TABLE parted_2024 PARTITION OF parted FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
     INSERT INTO parted SELECT i, date '2024-01-01' + (i % 300) FROM generate_series(1, 5000) i;
     SELECT lo_from_bytea(0, 'a small large object'); SELECT lo_from_bytea(0, decode(repeat('ab', 70000), 'hex'));`,
  );
  ({ storageDir, storageId } = await s().localStorage());
}, 120_000);

afterAll(() => stopStack(stack, cluster), 60_000);

describe('a backup whose stored bytes are incomplete', () => {
  it('a zstd that loses the end of its output and exits 0: BACKUP_VERIFY_FAILED, row failed, no file kept', async () => {
    const dir = fakeZstd(`/usr/bin/zstd "$@" | { head -c 200000; cat > /dev/null; }`);
    const { job, rows, succeeded, files } = await backupWith(dir, 'lying');
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('failed');
    expect(job.error_code).toBe('BACKUP_VERIFY_FAILED');
    expect(job.error_message).toMatch(/zstd cannot decode it/);
    expect(rows.map((r) => [r.status, r.error_code])).toEqual([['failed', 'BACKUP_VERIFY_FAILED']]);
    expect(succeeded).toEqual([]);
    // Nothing complete-looking stays: no dump, no manifest, no globals, no partial.
    expect(files).toEqual([]);
  }, 90_000);

  it('a zstd that fails half-way (exit 1): failed, no succeeded row, no file kept', async () => {
    const dir = fakeZstd(`/usr/bin/zstd "$@" | { head -c 200000; cat > /dev/null; }; exit 1`);
    const { job, rows, succeeded, files } = await backupWith(dir, 'failing');
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('BACKUP_TOOL_FAILED');
    expect(rows.map((r) => r.status)).toEqual(['failed']);
    expect(succeeded).toEqual([]);
    expect(files).toEqual([]);
  }, 90_000);

  it('with the real zstd the same database backs up, and the log says every data block was read', async () => {
    const { job, rows, logs } = await backupWith('/usr/bin', 'honest');
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
    expect(logs.some((l) => /verified: \d+ TOC entries, the data of all \d+ read to its end \(every zstd frame decoded\)/.test(l))).toBe(true);
    const file = path.join(storageDir, rows[0]!.backup_file);
    const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as Manifest;
    const list = await execa('sh', ['-c', 'zstd -dc "$1" | pg_restore --list', 'sh', file]);
    const entries = list.stdout.split('\n').filter((l) => l.trim() && !l.startsWith(';'));
    expect(manifest.toc).toEqual({ entries: entries.length, tableData: entries.filter((l) => / TABLE DATA /.test(l)).length });
  }, 90_000);
});

describe('the archive check on real pg_dump archives', () => {
  const check = async (bytes: Buffer) => {
    const c = new ArchiveChecker();
    // Pipe-sized pieces, so integers and the TOC are split across chunks as they are in a real stream.
    const pieces = function* () {
      for (let i = 0; i < bytes.length; i += 65_536) yield bytes.subarray(i, i + 65_536);
    };
    await pipeline(Readable.from(pieces()), c).catch(() => {});
    return c.summary();
  };

  for (const [label, args] of [
    ['uncompressed (-Z0, as streamed to zstd)', ['--compress=0']],
    ['gzip inside the archive (-Z6)', ['--compress=6']],
  ] as const) {
    it(`${label}: the whole file passes; cut anywhere, or one byte flipped, it is refused`, async () => {
      const file = path.join(s().tempDir('lifeboat-archive-'), 'a.dump');
      // --file: a seekable file (offsets in the TOC), as an upload would be; stdout (no offsets) is what backups store.
      await execa('pg_dump', ['--format=custom', ...args, `--file=${file}`], { env: { ...process.env, ...pgEnv(cluster!), PGDATABASE: 'bigdb' } });
      const piped = (await execa('pg_dump', ['--format=custom', ...args], { env: { ...process.env, ...pgEnv(cluster!), PGDATABASE: 'bigdb' }, encoding: 'buffer' })).stdout as unknown as Buffer;
      for (const whole of [readFileSync(file), Buffer.from(piped)]) {
        const ok = await check(whole);
        expect(ok.bytes).toBe(whole.length);
        expect(ok.tableData).toBe(4); // big, small, empty_one, parted_2024
        expect(ok.dataBlocks).toBeGreaterThanOrEqual(5); // and the large objects
        for (const at of [10, 200, 2_000, Math.floor(whole.length / 2), whole.length - 6, whole.length - 1]) {
          const err = await check(whole.subarray(0, at)).catch((e: unknown) => e);
          expect(err, `cut at ${at} of ${whole.length}`).toBeInstanceOf(ArchiveDamaged);
        }
        // A byte flipped inside the data: a length or block id gone wrong, or (gzip) a stream that no longer decodes.
        if (args[0] === '--compress=6') {
          const bad = Buffer.from(whole);
          bad[Math.floor(bad.length * 0.6)] ^= 0xff;
          expect(await check(bad).catch((e: unknown) => e)).toBeInstanceOf(ArchiveDamaged);
        }
        expect(await check(Buffer.concat([whole, Buffer.from([1, 0, 0, 0, 0])])).catch((e: unknown) => e)).toBeInstanceOf(ArchiveDamaged);
      }
      expect(existsSync(file)).toBe(true);
    }, 60_000);
  }
});
