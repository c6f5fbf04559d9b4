// The recoverable window and named restore points against a real cluster archiving through wal/lifeboat-wal, with a
// real worker: the restore-point job records the name and the LSN the server answered; a verified base backup plus
// archived WAL make one range on timeline 1 (from the backup's stop LSN), a point made after it lies inside; a
// segment removed from the archive ends the range at the gap.
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { sql } from '../helpers/db';
import { startStack, stopStack, type Spawned, type Stack } from '../helpers/backups';
import { getDb } from '../../lib/db';
import { enqueueJob } from '../../lib/jobs/enqueue-job';
import { startBaseBackup } from '../../lib/backups/start-base-backup';
import { storageFor } from '../../lib/storage/storage-for';
import { getWalView } from '../../lib/wal/get-wal-view';
import { getWindowView } from '../../lib/wal/get-window-view';
import { startRestorePoint } from '../../lib/wal/restore-points';
import { parseLsn } from '../../lib/wal/window';

const SCRIPT = path.resolve(__dirname, '../../wal/lifeboat-wal');
const pgIds = process.getuid?.() === 0 ? readFileSync('/etc/passwd', 'utf8').match(/^postgres:[^:]*:(\d+):(\d+):/m) : null;
const ownByPostgres = (p: string) => pgIds && chownSync(p, Number(pgIds[1]), Number(pgIds[2]));

let work: string;
let archive: string;
let source: RunningCluster;
let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let target: { id: string; name: string };
let storageId: string;
let sysid: string;
const s = () => stack!;

/** Writes some WAL, ends the segment, and waits until the archiver reports it archived. */
async function switchAndWait(): Promise<string> {
  await sql(source.url('postgres'), 'INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 2000) g');
  const [row] = await sql<{ name: string }>(source.url('postgres'), 'SELECT pg_walfile_name(pg_switch_wal()) AS name');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [st] = await sql<{ last: string | null }>(source.url('postgres'), 'SELECT last_archived_wal AS last FROM pg_stat_archiver');
    if (st!.last !== null && st!.last >= row!.name) return row!.name;
    if (Date.now() > deadline) throw new Error(`segment ${row!.name} not archived in 30 s`);
    await sleep(100);
  }
}

async function runJob(start: Promise<{ id: string }>) {
  const { id } = await start;
  return s().waitJob(id, ['succeeded', 'failed', 'cancelled'], 120_000, worker);
}

/** "Test connection" through the worker (it lists the archive), then what the card shows. */
async function check() {
  const job = await runJob(enqueueJob(s().admin, 'test-connection', { targetId: target.id }, { targetId: target.id }));
  expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
  return getWindowView(target.id);
}

beforeAll(async () => {
  // The database host: lifeboat-wal installed as docs/wal.md says, archiving into the storage's folder.
  work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-window-'));
  chmodSync(work, 0o755);
  const bin = path.join(work, 'lifeboat-wal');
  copyFileSync(SCRIPT, bin);
  chmodSync(bin, 0o755);
  archive = path.join(work, 'storage');
  mkdirSync(archive);
  chmodSync(archive, 0o755);
  ownByPostgres(archive);
  ({ cluster, stack } = await startStack('lifeboat_window'));
  storageId = (await stack.storage('wal archive', archive)).id;
  target = await stack.target({ name: 'window-prod', database: null, storageId, cluster });
  const conf = path.join(work, 'wal.conf');
  writeFileSync(conf, (await getWalView(target.id)).config.walConf);
  chmodSync(conf, 0o644);
  source = await createThrowawayCluster({ settings: { archive_mode: 'on', archive_command: `LIFEBOAT_WAL_CONFIG=${conf} ${bin} push %p`, wal_level: 'replica' } });
  await getDb().target.update({ where: { id: target.id }, data: { port: source.port, dbUser: source.superuser } });
  sysid = (await sql<{ id: string }>(source.url('postgres'), 'SELECT system_identifier::text AS id FROM pg_control_system()'))[0]!.id;
  await sql(source.url('postgres'), 'CREATE TABLE items (id int, body text)');
  worker = await stack.readyWorker();
}, 240_000);

afterAll(async () => {
  await stopStack(stack, cluster, source);
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('recoverable window and restore points', { timeout: 180_000 }, () => {
  it('no base backup yet: no window, and the reason says to take one', async () => {
    await switchAndWait();
    const v = await check();
    expect(v.window.ranges).toEqual([]);
    expect(v.window.reason).toMatch(/no kept, verified base backup/i);
  });

  it('a restore point: pg_create_restore_point on the target, its name, LSN, timeline and creator recorded; the same name again refused', async () => {
    const name = `before "release" 16:00 'x'`;
    const job = await runJob(startRestorePoint(s().operator, target.id, name));
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
    const [now] = await sql<{ lsn: string }>(source.url('postgres'), 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const rows = await getDb().restorePoint.findMany({ where: { targetId: target.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name, timelineId: 1, createdBy: s().operator.email, jobId: job.id });
    expect(rows[0]!.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    // The server answers the end of the restore point record: at or before where WAL is inserted now.
    expect(parseLsn(rows[0]!.lsn)! <= parseLsn(now!.lsn)!).toBe(true);
    expect(job.result).toMatchObject({ name, lsn: rows[0]!.lsn, timeline: 1 });

    await expect(startRestorePoint(s().operator, target.id, ` ${name} `)).rejects.toMatchObject({ code: 'RESTORE_POINT_NAME_TAKEN' });
  });

  it('a base backup and the WAL after it make one range on timeline 1; a point made after it is inside; a missing segment ends the range', async () => {
    const base = await runJob(startBaseBackup(s().operator, target.id, {}));
    expect(base.status, `${base.error_code}: ${base.error_message}`).toBe('succeeded');
    const stopLsn = (base.result as { stopLsn: string }).stopLsn;
    const after = await runJob(startRestorePoint(s().operator, target.id, 'after the base backup'));
    expect(after.status, `${after.error_code}: ${after.error_message}`).toBe('succeeded');
    const names = [await switchAndWait(), await switchAndWait(), await switchAndWait()];

    const v = await check();
    expect(v.window.reason).toBeNull();
    expect(v.window.ranges).toHaveLength(1);
    const r = v.window.ranges[0]!;
    expect(r).toMatchObject({ timeline: 1, fromLsn: stopLsn, lastSegment: names[2], endsAtGap: null });
    expect(r.startsAt).toMatchObject({ kind: 'base-backup' });
    expect(r.fromTime).not.toBeNull();
    expect(Date.parse(r.toTime!)).toBeGreaterThanOrEqual(Date.parse(r.fromTime!));
    expect(v.restorePoints.map((p) => [p.name, p.reachable])).toEqual([['after the base backup', true], [`before "release" 16:00 'x'`, false]]);

    // One middle segment lost from the storage: the range ends before it, the gap is named.
    const storage = storageFor({ storage: { id: storageId, path: archive } });
    expect(await storage.remove(`window-prod/_wal/${sysid}/${names[1]!.slice(0, 16)}/${names[1]}.zst`)).toBe('removed');
    const holed = await check();
    expect(holed.window.ranges).toHaveLength(1);
    expect(holed.window.ranges[0]).toMatchObject({ fromLsn: stopLsn, lastSegment: names[0] });
    expect(holed.window.gaps).toHaveLength(1);
    expect(holed.window.gaps[0]).toMatchObject({ timeline: 1, missing: [names[1]] });
    expect(holed.window.gaps[0]!.fromTime).not.toBeNull();
  });
});
