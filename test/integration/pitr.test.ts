// Point-in-time recovery with a real worker against a throwaway cluster archiving through wal/lifeboat-wal into a
// local storage folder: a base backup by the base-backup job, rows inserted, the time noted, the rows deleted; the
// pitr job recovers a copy to that time on a new port (the rows are there, production still without them), to a
// named restore point and to an LSN; a time before the base backup is refused with the window's start; pitr-discard
// stops a copy and removes its folder.
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { sql, waitFor } from '../helpers/db';
import { Stack, startStack, stopStack, type Spawned } from '../helpers/backups';
import { startBaseBackup } from '../../lib/backups/start-base-backup';
import { enqueueJob } from '../../lib/jobs/enqueue-job';

const SCRIPT = path.resolve(__dirname, '../../wal/lifeboat-wal');
const isRoot = process.getuid?.() === 0;
const pgIds = isRoot ? (/^postgres:[^:]*:(\d+):(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8')) ?? []).slice(1, 3).map(Number) : null;

let console_: RunningCluster | undefined;
let source: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let targetId: string;
let storeDir: string;
let tablespaceDir: string;
const s = () => stack!;
const pw = 'pitr-pw-1';

let baseStoppedAt: Date;
let notedAt: string;
let restorePointLsn: string;
let afterInsertLsn: string;

type PitrResult = { instanceId: string; port: number; folder: string; dataDir: string; promotedAt: string; lastTransactionAt: string | null; connection: string; backupId: string };

async function switchAndWait(): Promise<void> {
  const [{ name }] = (await sql<{ name: string }>(source!.url(), 'SELECT pg_walfile_name(pg_switch_wal()) AS name')) as [{ name: string }];
  await waitFor(`${name} to be archived`, async () => {
    const [r] = await sql<{ last: string | null }>(source!.url(), 'SELECT last_archived_wal AS last FROM pg_stat_archiver');
    return r!.last !== null && r!.last >= name;
  }, 30_000);
}

async function runPitr(recoveryTarget: object, extra: object = {}) {
  const { id } = await enqueueJob(s().admin, 'pitr', { targetId, recoveryTarget, ...extra }, { targetId });
  return s().waitJob(id, ['succeeded', 'failed', 'cancelled'], 180_000, worker);
}

async function discard(instanceId: string) {
  const { id } = await enqueueJob(s().admin, 'pitr-discard', { instanceId }, { targetId });
  return s().waitJob(id, ['succeeded', 'failed', 'cancelled'], 60_000, worker);
}

async function rowsOn(port: number): Promise<number> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: source!.superuser, password: pw, database: 'shop' });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM items')).rows[0]!.n);
  } finally {
    await c.end();
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

beforeAll(async () => {
  ({ cluster: console_, stack } = await startStack('lifeboat_pitr', {}));
  // The postgres OS user must reach the script, its config, the archive and the recovered folders.
  const work = s().tempDir('lifeboat-pitr-');
  chmodSync(work, 0o755);
  chmodSync(s().env.LIFEBOAT_DATA_DIR!, 0o755);
  const bin = path.join(work, 'lifeboat-wal');
  copyFileSync(SCRIPT, bin);
  chmodSync(bin, 0o755);
  storeDir = path.join(work, 'store');
  mkdirSync(path.join(storeDir, 'pitr-prod', '_wal'), { recursive: true, mode: 0o755 });
  if (pgIds) chownSync(path.join(storeDir, 'pitr-prod', '_wal'), pgIds[0]!, pgIds[1]!);
  const conf = path.join(work, 'wal.conf');
  writeFileSync(conf, `root=${storeDir}\ntarget=pitr-prod\n`, { mode: 0o644 });

  source = await createThrowawayCluster({
    password: pw,
    settings: { full_page_writes: 'on', archive_mode: 'on', archive_command: `LIFEBOAT_WAL_CONFIG=${conf} ${bin} push %p`, wal_level: 'replica' },
  });
  // A tablespace: the copy must get its own folder for it, never the production's.
  tablespaceDir = path.join(work, 'side');
  mkdirSync(tablespaceDir, { mode: 0o700 });
  if (pgIds) chownSync(tablespaceDir, pgIds[0]!, pgIds[1]!);
  await sql(source.url(), `CREATE TABLESPACE side LOCATION '${tablespaceDir}'`);
  await sql(source.url(), 'CREATE DATABASE shop');
  await sql(source.url('shop'), "CREATE TABLE sided (id int) TABLESPACE side; INSERT INTO sided SELECT generate_series(1, 10)");
  await sql(source.url('shop'), "CREATE TABLE items (id int PRIMARY KEY, note text); INSERT INTO items SELECT g, 'before the base backup' FROM generate_series(1, 100) g");
  const storageId = (await s().storage('pitr-store', storeDir)).id;
  targetId = (await s().target({ name: 'pitr-prod', cluster: source, database: 'shop', storageId, password: pw })).id;
  worker = await s().readyWorker();

  // The base backup, by the job.
  const { id } = await startBaseBackup(s().operator, targetId, {});
  const job = await s().waitJob(id, ['succeeded', 'failed', 'cancelled'], 120_000, worker);
  expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
  const [row] = await sql<{ backup_stopped_at: Date }>(s().url, "SELECT backup_stopped_at FROM backup_log WHERE job_id = $1 AND backup_type = 'base'", [id]);
  baseStoppedAt = row!.backup_stopped_at;

  // After it: 100 more rows, the time noted, a restore point and the LSN, then every new row deleted.
  await sql(source.url('shop'), "INSERT INTO items SELECT g, 'after the base backup' FROM generate_series(101, 200) g");
  afterInsertLsn = (await sql<{ l: string }>(source.url('shop'), 'SELECT pg_current_wal_insert_lsn()::text AS l'))[0]!.l;
  await new Promise((r) => setTimeout(r, 50));
  notedAt = (await sql<{ t: Date }>(source.url('shop'), 'SELECT clock_timestamp() AS t'))[0]!.t.toISOString();
  restorePointLsn = (await sql<{ l: string }>(source.url('shop'), "SELECT pg_create_restore_point('before-the-delete')::text AS l"))[0]!.l;
  await new Promise((r) => setTimeout(r, 50));
  await sql(source.url('shop'), 'DELETE FROM items WHERE id > 100');
  await switchAndWait();
}, 300_000);

afterAll(async () => {
  await stopStack(stack, console_, source);
}, 120_000);

describe('point-in-time recovery', { timeout: 240_000 }, () => {
  it('recovers to a noted time on a new port with the deleted rows there, production untouched; pitr-discard removes it', async () => {
    const job = await runPitr({ kind: 'time', at: notedAt });
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
    const r = job.result as PitrResult;
    expect(r.port).not.toBe(source!.port);
    expect(r.port).toBeGreaterThanOrEqual(55432);
    expect(r.folder).toBe(path.join(s().env.LIFEBOAT_DATA_DIR!, 'recovered', job.id));
    expect(r.connection).toBe(`postgresql://${source!.superuser}@127.0.0.1:${r.port}/shop`);
    expect(r.connection).not.toContain(pw);
    expect(new Date(r.lastTransactionAt!).getTime()).toBeLessThanOrEqual(new Date(notedAt).getTime());
    expect(await rowsOn(r.port)).toBe(200);
    // The tablespace was extracted under the copy's folder and its link points there.
    expect(readlinkSync(path.join(r.dataDir, 'pg_tblspc', readdirSync(path.join(r.dataDir, 'pg_tblspc'))[0]!))).toMatch(new RegExp(`^${r.folder}/tablespaces/\\d+$`));
    const c = new pg.Client({ host: '127.0.0.1', port: r.port, user: source!.superuser, password: pw, database: 'shop' });
    await c.connect();
    expect(Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM sided')).rows[0]!.n)).toBe(10);
    await c.end();
    expect(Number((await sql<{ n: string }>(source!.url('shop'), 'SELECT count(*) AS n FROM items'))[0]!.n)).toBe(100);
    // The copy archives nothing into production's archive, and runs as the row says.
    const auto = readFileSync(path.join(r.dataDir, 'postgresql.auto.conf'), 'utf8');
    expect(auto).toMatch(/archive_mode = 'off'/);
    expect(auto).toContain(`recovery_target_time = '${notedAt.replace('T', ' ').replace('Z', '+00')}'`);
    const [inst] = await sql<{ status: string; port: number; data_dir: string }>(s().url, 'SELECT status, port, data_dir FROM recovered_instances WHERE id = $1', [r.instanceId]);
    expect(inst).toMatchObject({ status: 'running', port: r.port, data_dir: r.folder });

    const d = await discard(r.instanceId);
    expect(d.status, `${d.error_code}: ${d.error_message}`).toBe('succeeded');
    expect(d.result).toMatchObject({ stopped: true, removed: true });
    expect(existsSync(r.folder)).toBe(false);
    expect(await listening(r.port)).toBe(false);
    const [after] = await sql<{ status: string }>(s().url, 'SELECT status FROM recovered_instances WHERE id = $1', [r.instanceId]);
    expect(after!.status).toBe('removed');
  });

  it('recovers to a named restore point and to an LSN', async () => {
    for (const target of [{ kind: 'name', name: 'before-the-delete', lsn: restorePointLsn }, { kind: 'lsn', lsn: afterInsertLsn }]) {
      const job = await runPitr(target);
      expect(job.status, `${target.kind}: ${job.error_code}: ${job.error_message}`).toBe('succeeded');
      const r = job.result as PitrResult;
      expect(await rowsOn(r.port), target.kind).toBe(200);
      expect((await discard(r.instanceId)).status).toBe('succeeded');
    }
  });

  it('refuses a time before the base backup, naming the window start, and a port in use; leaves nothing behind', async () => {
    const before = new Date(baseStoppedAt.getTime() - 60_000).toISOString();
    const job = await runPitr({ kind: 'time', at: before });
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('PITR_TARGET_OUTSIDE_WINDOW');
    expect(job.error_message).toContain(`starts at ${baseStoppedAt.toISOString()}`);

    const busy = await runPitr({ kind: 'latest' }, { port: source!.port });
    expect(busy.status).toBe('failed');
    expect(busy.error_code).toBe('PITR_PORT_IN_USE');
    expect(existsSync(path.join(s().env.LIFEBOAT_DATA_DIR!, 'recovered', busy.id))).toBe(false);
  });

  it('a target past the end of the archive: the server stops, the job fails with its FATAL line, and what it started is gone', async () => {
    const job = await runPitr({ kind: 'time', at: new Date(Date.now() + 3600_000).toISOString() });
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('PITR_RECOVERY_FAILED');
    expect(job.error_message).toMatch(/FATAL: recovery ended before configured recovery target was reached/);
    expect(existsSync(path.join(s().env.LIFEBOAT_DATA_DIR!, 'recovered', job.id))).toBe(false);
    const [inst] = await sql<{ status: string; port: number }>(s().url, 'SELECT status, port FROM recovered_instances WHERE job_id = $1', [job.id]);
    expect(inst!.status).toBe('removed');
    expect(await listening(inst!.port)).toBe(false);
  });
});
