// The target page's "WAL archiving" card, end to end below the browser: a real PostgreSQL cluster archives through
// wal/lifeboat-wal into a local-folder storage, "Test connection" runs in process (the worker's code: it reads
// pg_settings and pg_stat_archiver and lists the archive through storageFor), and getWalView (what
// GET /api/targets/:id/wal answers) reports the health: archived count, the newest segment, no gap; then a gap
// named after a middle segment object is removed, and the line to change when wal_level waits for a restart.
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { sql } from '../helpers/db';
import { startStack, stopStack, type Stack } from '../helpers/backups';
import { getDb } from '../../lib/db';
import { runJob } from '../../lib/jobs/lifecycle';
import { storageFor } from '../../lib/storage/storage-for';
import { getWalView } from '../../lib/wal/get-wal-view';
import { markWorkerStopped, registerWorker } from '../../lib/workers/register-worker';
import { testConnection } from '../../worker/tasks/test-connection';

const SCRIPT = path.resolve(__dirname, '../../wal/lifeboat-wal');
const pgIds = process.getuid?.() === 0 ? readFileSync('/etc/passwd', 'utf8').match(/^postgres:[^:]*:(\d+):(\d+):/m) : null;
const ownByPostgres = (p: string) => pgIds && chownSync(p, Number(pgIds[1]), Number(pgIds[2]));

let work: string;
let archive: string;
let source: RunningCluster;
let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
let workerId: string;
let target: { id: string; name: string };
let storageId: string;
let sysid: string;

/** Writes some WAL, ends the segment, and waits until the archiver reports it archived. */
async function switchAndWait(): Promise<string> {
  await sql(source.url('postgres'), "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 2000) g");
  const [row] = await sql<{ name: string }>(source.url('postgres'), 'SELECT pg_walfile_name(pg_switch_wal()) AS name');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [s] = await sql<{ last: string | null }>(source.url('postgres'), 'SELECT last_archived_wal AS last FROM pg_stat_archiver');
    if (s!.last !== null && s!.last >= row!.name) return row!.name;
    if (Date.now() > deadline) throw new Error(`segment ${row!.name} not archived in 30 s`);
    await sleep(100);
  }
}

/** Runs "Test connection" in this process, as the worker would, and returns what the card would show. */
async function check() {
  const { id } = await getDb().job.create({ data: { kind: 'test-connection', queue: 'test-connection.in-process', payload: { targetId: target.id }, targetId: target.id }, select: { id: true } });
  expect(await runJob({ jobId: id, workerId, expireInSeconds: 60 }, testConnection)).toBe('succeeded');
  return getWalView(target.id);
}

beforeAll(async () => {
  // The database host: lifeboat-wal installed as docs/wal.md says, archiving into the storage's folder.
  work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-walhealth-'));
  chmodSync(work, 0o755);
  const bin = path.join(work, 'lifeboat-wal');
  copyFileSync(SCRIPT, bin);
  chmodSync(bin, 0o755);
  archive = path.join(work, 'storage');
  mkdirSync(archive);
  chmodSync(archive, 0o755);
  ownByPostgres(archive);
  ({ cluster, stack } = await startStack('lifeboat_wal_health'));
  storageId = (await stack.storage('wal archive', archive)).id;
  // The wal.conf the card proposes for this target, written where the script reads it.
  target = await stack.target({ name: 'orders-prod', database: null, storageId, cluster });
  const conf = path.join(work, 'wal.conf');
  const { config } = await getWalView(target.id);
  writeFileSync(conf, config.walConf);
  chmodSync(conf, 0o644);
  source = await createThrowawayCluster({ settings: { archive_mode: 'on', archive_command: `LIFEBOAT_WAL_CONFIG=${conf} ${bin} push %p`, wal_level: 'replica' } });
  await getDb().target.update({ where: { id: target.id }, data: { port: source.port, dbUser: source.superuser } });
  sysid = (await sql<{ id: string }>(source.url('postgres'), 'SELECT system_identifier::text AS id FROM pg_control_system()'))[0]!.id;
  await sql(source.url('postgres'), 'CREATE TABLE items (id int, body text)');
  workerId = await registerWorker('in-process', 'test');
}, 180_000);

afterAll(async () => {
  if (workerId) await markWorkerStopped(workerId).catch(() => {});
  await stopStack(stack, cluster, source);
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('WAL archiving health', { timeout: 90_000 }, () => {
  it('shows the lines and wal.conf for the target: root is the storage folder, target its folder name', async () => {
    const { config } = await getWalView(target.id);
    expect(config.walConf).toContain(`\nroot=${archive}\n`);
    expect(config.walConf).toContain('\ntarget=orders-prod\n');
    expect(config.postgresqlConf).toContain("archive_command = '/usr/local/bin/lifeboat-wal push %p'");
  });

  it('reports the archiver, the newest segment in the archive and no gap; then names a removed middle segment', async () => {
    const names = [await switchAndWait(), await switchAndWait(), await switchAndWait()];
    const v = await check();
    expect(v.settingProblems).toEqual([]);
    expect(v.health!.problems).toEqual([]);
    expect(v.health!.systemIdentifier).toBe(sysid);
    expect(v.health!.archiver!.archivedCount).toBeGreaterThan(0);
    expect(v.health!.archiver!.lastArchivedWal).toBe(names[2]);
    expect(v.health!.archiver!.failedCount).toBe(0);
    expect(v.health!.archive.newest!.name).toBe(names[2]);
    expect(Date.now() - Date.parse(v.health!.archive.newest!.archivedAt)).toBeLessThan(120_000);
    expect(v.health!.archive.gaps).toEqual([]);
    expect(v.health!.archive.problem).toBeNull();

    // One middle segment object lost from the storage: the gap is named, the newest segment unchanged.
    const storage = storageFor({ storage: { id: storageId, path: archive } });
    expect(await storage.remove(`orders-prod/_wal/${sysid}/${names[1]!.slice(0, 16)}/${names[1]}.zst`)).toBe('removed');
    const after = await check();
    expect(after.health!.archive.gaps).toEqual([{ timeline: 1, after: names[0], before: names[2], count: 1, missing: [names[1]] }]);
    expect(after.health!.archive.newest!.name).toBe(names[2]);
    // The runs the recoverable window reads: split at the gap, the last one ending at the newest segment's time.
    expect(v.health!.archive.runs!.at(-1)).toMatchObject({ timeline: 1, last: names[2], lastArchivedAt: v.health!.archive.newest!.archivedAt });
    expect(after.health!.archive.runs!.slice(-2).map((r) => [r.last, r.first === names[2]])).toEqual([[names[0], false], [names[2], true]]);
  });

  it('names the line to change when a restart-only change is pending, and a plain login reads it all', async () => {
    // The harness sets archive_command on the server's command line, which ALTER SYSTEM cannot override; wal_level
    // in postgresql.auto.conf is read at reload and waits for a restart.
    await sql(source.url('postgres'), "ALTER SYSTEM SET wal_level = 'minimal'");
    await sql(source.url('postgres'), 'SELECT pg_reload_conf()');
    await sleep(500);
    const v = await check();
    expect(v.settingProblems.map((p) => [p.setting, p.line, p.apply])).toEqual([['wal_level', 'wal_level = replica', 'restart']]);
    expect(v.settingProblems[0]!.message).toMatch(/not in effect until the server restarts/);

    // A login with no privileges at all (the backup role may be one): every setting, the archiver and the system
    // identifier are readable to it, so the check says the same.
    await sql(source.url('postgres'), 'CREATE ROLE plain_watcher LOGIN');
    await getDb().target.update({ where: { id: target.id }, data: { dbUser: 'plain_watcher' } });
    const plain = await check();
    expect((await getDb().target.findUniqueOrThrow({ where: { id: target.id } })).lastCheck).toMatchObject({ user: 'plain_watcher' });
    expect(plain.settingProblems.map((p) => p.setting)).toEqual(['wal_level']);
    expect(plain.health!.problems).toEqual([]);
    expect(plain.health!.systemIdentifier).toBe(sysid);
    expect(plain.health!.archiver!.archivedCount).toBeGreaterThan(0);
  });
});
