// Base-backup schedules and their retention with a real worker and real base backups (pg_basebackup, verified)
// of a throwaway cluster: the scheduler's tick enqueues a base-backup job for a due base schedule, and retention
// in weeks removes the oldest base backup (manifest, then every object under <target>/_base/<label>/), keeps the
// newest good (verified) one although older than N weeks, and frees the archived WAL before the oldest kept base
// backup's start segment, keeping the WAL from it on and every history file. The WAL objects are placed by the test
// under <target>/_wal/<sysid>/ with the names lifeboat-wal push gives them (retention judges WAL by name only).
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { sql } from '../helpers/db';
import { Stack, startStack, stopStack, type Spawned } from '../helpers/backups';
import { startBaseBackup } from '../../lib/backups/start-base-backup';
import { applyRetention } from '../../lib/backups/apply-retention';
import { createSchedule } from '../../lib/schedules/manage-schedules';
import { runDueSchedules } from '../../lib/schedules/run-due-schedules';
import { lsnSegment } from '../../lib/wal/wal-retention';
import { segmentName } from '../../lib/wal/wal-names';

let console_: RunningCluster | undefined;
let target: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let storageDir: string;
let targetId: string;
const s = () => stack!;
const WEEK = 7 * 86_400_000;

interface BaseRow { id: string; backup_file: string; start_lsn: string; timeline_id: number; manifest: { systemIdentifier: string }; status: string; schedule_id: string | null }

async function runBase(scheduleId: string): Promise<BaseRow> {
  const { id: jobId } = await startBaseBackup(s().operator, targetId, { scheduleId });
  const job = await s().waitJob(jobId, ['succeeded', 'failed', 'cancelled'], 120_000, worker);
  expect(job.status, JSON.stringify(job)).toBe('succeeded');
  const [row] = await sql<BaseRow>(s().url, 'SELECT * FROM backup_log WHERE job_id = $1', [jobId]);
  return row!;
}

beforeAll(async () => {
  ({ cluster: console_, stack } = await startStack('lifeboat_base_retention', {}));
  target = await createThrowawayCluster({ password: 'base-ret-pw', settings: { full_page_writes: 'on' } });
  await sql(target.url(), 'CREATE TABLE t (id int PRIMARY KEY, note text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 20000) i');
  const store = await s().localStorage();
  storageDir = store.storageDir;
  targetId = (await s().target({ name: 'base-ret', cluster: target, database: null, storageId: store.storageId })).id;
  worker = await s().readyWorker();
}, 240_000);

afterAll(() => stopStack(stack, console_, target), 60_000);

describe('base-backup schedules', () => {
  it('the runbook preset: weekly Sunday 01:00, 8 weeks kept, and a due one enqueues a base-backup job with the schedule id', async () => {
    const sch = await createSchedule(s().operator, { targetId, kind: 'base', cron: '0 1 * * 0', timezone: 'UTC' }, null);
    expect(sch).toMatchObject({ kind: 'base', cron: '0 1 * * 0', retentionDays: 56, retentionCount: null, baseCompression: null });
    expect(sch.nextRunAt!.getUTCDay()).toBe(0);
    expect(sch.nextRunAt!.getUTCHours()).toBe(1);
    // An operator adds base schedules only; logical ones stay an admin's.
    await expect(createSchedule(s().operator, { targetId, cron: '0 2 * * *', timezone: 'UTC' }, null)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await sql(s().url, `UPDATE schedules SET next_run_at = now() - interval '1 minute', base_compression = 'server-zstd' WHERE id = $1`, [sch.id]);
    // The worker's own tick may claim it first (compare-and-set): either way exactly one job is enqueued.
    await runDueSchedules(new Date());
    const jobs = await sql<{ id: string; kind: string; payload: { scheduleId: string; compression: string; targetId: string } }>(s().url, `SELECT id, kind, payload FROM jobs WHERE payload->>'scheduleId' = $1`, [sch.id]);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ kind: 'base-backup', payload: { scheduleId: sch.id, compression: 'server-zstd', targetId } });
    const jobId = jobs[0]!.id;
    const done = await s().waitJob(jobId, ['succeeded', 'failed', 'cancelled'], 120_000, worker);
    expect(done.status).toBe('succeeded');
    const [row] = await sql<BaseRow>(s().url, 'SELECT * FROM backup_log WHERE job_id = $1', [jobId]);
    expect(row).toMatchObject({ status: 'succeeded', schedule_id: sch.id });
    await sql(s().url, 'DELETE FROM schedules WHERE id = $1', [sch.id]);
    // Its row stays (schedule_id set null); remove it from the picture for the retention test below.
    await sql(s().url, `UPDATE backup_log SET deleted_at = now() WHERE id = $1`, [row!.id]);
  }, 180_000);
});

describe('base retention', () => {
  it('removes the oldest, keeps the newest good one although older than N weeks, and frees only the WAL no kept one needs', async () => {
    const sch = await createSchedule(s().admin, { targetId, kind: 'base', cron: '0 1 * * 0', timezone: 'UTC', retentionWeeks: 2, enabled: false }, null);
    const rows: BaseRow[] = [];
    for (let i = 0; i < 3; i++) {
      rows.push(await runBase(sch.id));
      // Later backups start in later segments.
      await sql(target!.url(), `INSERT INTO t SELECT i, md5(i::text) FROM generate_series(${(i + 1) * 100000}, ${(i + 1) * 100000 + 2000}) i; SELECT pg_switch_wal()`);
    }
    const [a, b, c] = rows as [BaseRow, BaseRow, BaseRow];
    const seg = (r: BaseRow) => lsnSegment(r.start_lsn);
    expect(seg(a)).toBeLessThan(seg(b));
    expect(seg(b)).toBeLessThan(seg(c));
    for (const r of rows) expect(existsSync(path.join(storageDir, r.backup_file)), r.backup_file).toBe(true);

    // a: 6 weeks old; b: 5 weeks old and the newest good one; c: new, but not verified (never a restore source).
    const now = new Date();
    await sql(s().url, 'UPDATE backup_log SET created_at = $2 WHERE id = $1', [a.id, new Date(now.getTime() - 6 * WEEK)]);
    await sql(s().url, 'UPDATE backup_log SET created_at = $2 WHERE id = $1', [b.id, new Date(now.getTime() - 5 * WEEK)]);
    await sql(s().url, 'UPDATE backup_log SET verified_at = NULL WHERE id = $1', [c.id]);

    // The archive: timeline 1 segments from two before a's start to one after c's, each with its sidecar; a history
    // file; a's .backup file.
    const sysid = a.manifest.systemIdentifier;
    const walDir = path.join(storageDir, 'base-ret', '_wal', sysid);
    const put = (name: string) => {
      const dir = path.join(walDir, name.slice(0, 16));
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, name), 'x');
    };
    const segs: number[] = [];
    for (let n = Math.max(0, seg(a) - 2); n <= seg(c) + 1; n++) {
      segs.push(n);
      put(`${segmentName(1, n)}.zst`);
      put(`${segmentName(1, n)}.sha256`);
    }
    mkdirSync(walDir, { recursive: true });
    writeFileSync(path.join(walDir, '00000002.history'), 'x');
    put(`${segmentName(1, seg(a))}.00000028.backup`);
    // Files only (the folders are 16 hex digits, no dot).
    const walLeft = () => (readdirSync(walDir, { recursive: true }) as string[]).map((p) => path.basename(p)).filter((n) => n.includes('.')).sort();

    const removed = await applyRetention(sch.id, { now });
    expect(removed.map(String)).toEqual([a.id]);
    // a's objects are gone: the manifest and every object under its folder.
    expect(existsSync(path.join(storageDir, `${a.backup_file}.manifest.json`))).toBe(false);
    expect(existsSync(path.join(storageDir, a.backup_file)) ? readdirSync(path.join(storageDir, a.backup_file)) : []).toEqual([]);
    // b stays although 5 weeks old (the newest good one), c stays (young).
    for (const r of [b, c]) {
      expect(existsSync(path.join(storageDir, `${r.backup_file}.manifest.json`))).toBe(true);
      expect(readdirSync(path.join(storageDir, r.backup_file)).length).toBeGreaterThan(0);
    }
    const [ra, rb] = await sql<{ deleted_at: Date | null }>(s().url, 'SELECT deleted_at FROM backup_log WHERE id = ANY($1::bigint[]) ORDER BY id', [[a.id, b.id]]);
    expect(ra!.deleted_at).not.toBeNull();
    expect(rb!.deleted_at).toBeNull();

    // WAL: before b's start segment gone (with sidecars and a's .backup file), from it on kept, history kept.
    const expected = ['00000002.history', ...segs.filter((n) => n >= seg(b)).flatMap((n) => [`${segmentName(1, n)}.sha256`, `${segmentName(1, n)}.zst`])].sort();
    expect(walLeft()).toEqual(expected);
    const [audit] = await sql<{ params: { removed: string[]; objectsRemoved: number; systemIdentifier: string } }>(s().url, `SELECT params FROM audit_log WHERE action = 'wal.delete' ORDER BY at DESC LIMIT 1`);
    const freed = segs.filter((n) => n < seg(b));
    expect(audit!.params.systemIdentifier).toBe(sysid);
    expect(audit!.params.objectsRemoved).toBe(freed.length * 2 + 1);
    expect(audit!.params.removed).toContain(`base-ret/_wal/${sysid}/${segmentName(1, seg(a)).slice(0, 16)}/${segmentName(1, seg(a))}.zst`);

    // A second run removes nothing more and frees nothing more.
    expect(await applyRetention(sch.id, { now })).toEqual([]);
    expect(walLeft()).toEqual(expected);
  }, 300_000);
});
