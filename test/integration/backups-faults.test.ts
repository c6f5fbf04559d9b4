// Logical backups that go wrong, with a real worker, pg_dump and zstd: each ends failed (or cancelled) with its exact
// code and a clear message, leaves no partial file and no tool running, and never touches an earlier good backup.
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/stack';
import { sql, waitFor } from '../helpers/db';
import {
  childProcs,
  exitWithin,
  holdLock,
  killGroup,
  listFiles,
  makeBigDatabase,
  sha256File,
  tableChecksums,
  toolProcsFor,
  waitForLockWaiter,
  workerTail,
  isAlive,
  type Manifest,
  type Spawned,
  useWorkerStack,
} from '../helpers/backups';
import { startBackup } from '../../lib/backups/start-backup';
import { cancelJob } from '../../lib/jobs/cancel-job';
import { enqueueJob } from '../../lib/jobs/enqueue-job';
import { errorRegistry } from '../../lib/errors';
import { updateTarget } from '../../lib/targets/manage-targets';
import { targetHealth } from '../../lib/overview/target-health';
import { listBackups } from '../../lib/backups/list-backups';

const good: { file: string; sha: string }[] = [];
const targets: Record<string, string> = {};

const ODD = `my "odd" dätabase 'x'`;

/** Starts a backup and waits for it to end; returns the job row and its backup_log rows. */
async function runBackup(targetId: string, w: Spawned = fx.worker, timeoutMs = 30_000) {
  const { id } = await startBackup(fx.stack.operator, targetId);
  const job = await fx.stack.waitJob(id, ['succeeded', 'failed', 'cancelled'], timeoutMs, w);
  return { job, rows: await fx.stack.backupRows(id) };
}

async function expectEarlierBackupsIntact() {
  expect(good.length).toBeGreaterThan(0);
  for (const g of good) {
    expect(existsSync(g.file), g.file).toBe(true);
    expect(await sha256File(g.file)).toBe(g.sha);
  }
}

function expectNoPartials(dir: string) {
  expect(listFiles(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
}

function expectFailure(job: { status: string; error_code: string | null; error_message: string | null; error_hint: string | null }, code: keyof typeof errorRegistry) {
  expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('failed');
  expect(job.error_code, job.error_message ?? '').toBe(code);
  expect(job.error_message!.length).toBeGreaterThan(10);
  expect(job.error_hint).toBeTruthy();
}

const fx = useWorkerStack('lifeboat_faults', { password: true, seed: 'eitherway' }, async (c) => {
  await makeBigDatabase(c.cluster, 'bigdb', 400_000);
  // Earlier good backups that no fault may damage: a small one and one of the big database the faults reuse.
  targets.good = (await c.stack.target({ name: 'good', database: 'eitherway', storageId: c.storageId })).id;
  targets.big = (await c.stack.target({ name: 'big', database: 'bigdb', storageId: c.storageId })).id;
  for (const t of [targets.good, targets.big]) {
    const { job, rows } = await runBackup(t);
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
    const file = path.join(c.storageDir, rows[0]!.backup_file);
    good.push({ file, sha: rows[0]!.checksum_sha256! });
  }
});

describe('connection faults', () => {
  it('an unreachable target (closed port): TARGET_UNREACHABLE naming host and port', async () => {
    const port = await freePort();
    const t = await fx.stack.target({ name: 'unreachable', database: 'eitherway', port, storageId: fx.storageId });
    const { job } = await runBackup(t.id);
    expectFailure(job, 'TARGET_UNREACHABLE');
    expect(job.error_message).toContain(`127.0.0.1:${port}`);
    expectNoPartials(fx.storageDir);
    await expectEarlierBackupsIntact();
  });

  it('a failure before the dump starts still shows on the overview: the target turns "failing" with the message', async () => {
    const t = await fx.stack.target({ name: 'flaky', database: 'eitherway', storageId: fx.storageId });
    expect((await runBackup(t.id)).job.status).toBe('succeeded');
    const port = await freePort();
    await updateTarget(fx.stack.admin, t.id, { port }, null);
    const { job } = await runBackup(t.id);
    expectFailure(job, 'TARGET_UNREACHABLE');
    const health = (await targetHealth()).find((h) => h.id === t.id)!;
    expect(health.protection).toBe('failing');
    expect(health.lastError).toContain(`127.0.0.1:${port}`);
    // The history shows the failed attempt too, not only the last success.
    const history = await listBackups({ targetId: t.id, limit: 10 });
    expect(history.items.map((i) => [i.status, i.errorCode])).toEqual([
      ['failed', 'TARGET_UNREACHABLE'],
      ['succeeded', null],
    ]);
  });

  it('a wrong password: TARGET_AUTH_FAILED naming the user', async () => {
    const t = await fx.stack.target({ name: 'wrong-password', database: 'eitherway', password: 'not-the-password', storageId: fx.storageId });
    const { job } = await runBackup(t.id);
    expectFailure(job, 'TARGET_AUTH_FAILED');
    expect(job.error_message).toContain('"postgres"');
    expect(job.error_message).not.toContain('not-the-password');
    expectNoPartials(fx.storageDir);
    await expectEarlierBackupsIntact();
  });

  it('a user without SELECT on one table: TARGET_PRIVILEGES naming it, and test-connection lists it as unreadable', async () => {
    const admin = fx.cluster.url('eitherway');
    await sql(fx.cluster.url('postgres'), `CREATE ROLE reader LOGIN PASSWORD 'reader-pw'`);
    await sql(admin, `GRANT USAGE ON SCHEMA core TO reader; GRANT SELECT ON core.users TO reader; GRANT SELECT ON ALL SEQUENCES IN SCHEMA core TO reader`);
    const t = await fx.stack.target({ name: 'no-privileges', database: 'eitherway', dbUser: 'reader', password: 'reader-pw', storageId: fx.storageId });
    const { job, rows } = await runBackup(t.id);
    expectFailure(job, 'TARGET_PRIVILEGES');
    expect(job.error_message).toMatch(/sessions/);
    expect(job.error_detail).toMatch(/permission denied for table sessions/);
    expect(rows.map((r) => [r.status, r.error_code])).toEqual([['failed', 'TARGET_PRIVILEGES']]);
    expectNoPartials(fx.storageDir);
    expect(existsSync(path.join(fx.storageDir, rows[0]!.backup_file))).toBe(false);

    const check = await enqueueJob(fx.stack.admin, 'test-connection', { targetId: t.id }, { targetId: t.id });
    const done = await fx.stack.waitJob(check.id, undefined, 30_000, fx.worker);
    expect(done.status, `${done.error_code}: ${done.error_message}`).toBe('succeeded');
    expect(done.result).toMatchObject({ ok: false, user: 'reader', unreadable: ['core.sessions'], toolProblem: null });
    await expectEarlierBackupsIntact();
  });
});

describe('storage faults', () => {
  it('a storage folder that does not exist: STORAGE_MISSING naming it, and nothing is created there', async () => {
    const missing = path.join(fx.stack.tempDir('lifeboat-gone-'), 'mount', 'backups');
    const st = await fx.stack.storage('missing', missing);
    const t = await fx.stack.target({ name: 'storage-missing', database: 'eitherway', storageId: st.id });
    const { job } = await runBackup(t.id);
    expectFailure(job, 'STORAGE_MISSING');
    expect(job.error_message).toContain(missing);
    // A missing mount point must stay visible, not be papered over by a new empty folder.
    expect(existsSync(missing)).toBe(false);
    await expectEarlierBackupsIntact();
  });

  it('a storage path that is a file: STORAGE_MISSING saying it is not a folder', async () => {
    const file = path.join(fx.stack.tempDir('lifeboat-file-'), 'backups');
    writeFileSync(file, 'not a folder');
    const st = await fx.stack.storage('a-file', file);
    const t = await fx.stack.target({ name: 'storage-file', database: 'eitherway', storageId: st.id });
    const { job } = await runBackup(t.id);
    expectFailure(job, 'STORAGE_MISSING');
    expect(job.error_message).toContain('not a folder');
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
  });

  it('a read-only storage (ro tmpfs; root ignores file modes): STORAGE_NOT_WRITABLE', async () => {
    const dir = fx.stack.tempDir('lifeboat-ro-');
    await execa('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]);
    fx.stack.mounts.push(dir);
    const st = await fx.stack.storage('read-only', dir);
    const t = await fx.stack.target({ name: 'storage-ro', database: 'eitherway', storageId: st.id });
    const { job } = await runBackup(t.id);
    expectFailure(job, 'STORAGE_NOT_WRITABLE');
    expect(job.error_message).toContain(dir);
    await expectEarlierBackupsIntact();
  });

  it('a full disk (200 kB tmpfs, a 15 MB dump): DISK_FULL, backup_log failed, no partial, no tool left running', async () => {
    const dir = fx.stack.tempDir('lifeboat-full-');
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', dir]);
    fx.stack.mounts.push(dir);
    const st = await fx.stack.storage('full', dir);
    // Its own pool and worker: if the job hangs, the main worker's backup queue stays free.
    const w = fx.stack.spawnWorker({ LIFEBOAT_WORKER_POOL: 'full' });
    await fx.stack.workerReady(w);
    const t = await fx.stack.target({ name: 'disk-full', database: 'bigdb', storageId: st.id, workerPool: 'full' });
    const { id } = await startBackup(fx.stack.operator, t.id);
    try {
      const job = await fx.stack.waitJob(id, ['succeeded', 'failed', 'cancelled'], 15_000, w);
      expectFailure(job, 'DISK_FULL');
      expect(job.error_message).toContain(dir);
      const rows = await fx.stack.backupRows(id);
      expect(rows.map((r) => [r.status, r.error_code])).toEqual([['failed', 'DISK_FULL']]);
      expect(listFiles(dir)).toEqual([]);
      expect(toolProcsFor(fx.cluster.port, 'pg_dump')).toEqual([]);
      expect(childProcs(w.child.pid!, 'zstd')).toEqual([]);
    } finally {
      // A hung job's passfile would outlive the kill below; remember it for afterAll.
      for (const p of toolProcsFor(fx.cluster.port, 'pg_dump')) if (p.environ.PGPASSFILE) fx.stack.tempDirs.push(path.dirname(p.environ.PGPASSFILE));
      killGroup(w.child, 'SIGKILL');
      await exitWithin(w.child, 5_000);
    }
    await expectEarlierBackupsIntact();
  }, 45_000);

  it('a disk that fills up right after the dump (globals or manifest do not fit): DISK_FULL, and no orphan file left', async () => {
    // Room for the dump (sized from the earlier good one, plus slack) and at most one more 4 kB page.
    const size = statSync(good[0]!.file).size;
    const pages = Math.ceil((size + 1024) / 4096);
    const dir = fx.stack.tempDir('lifeboat-nearly-full-');
    await execa('mount', ['-t', 'tmpfs', '-o', `size=${pages * 4}k`, 'tmpfs', dir]);
    fx.stack.mounts.push(dir);
    const st = await fx.stack.storage('nearly-full', dir);
    const w = fx.stack.spawnWorker({ LIFEBOAT_WORKER_POOL: 'nearly-full' });
    await fx.stack.workerReady(w);
    const t = await fx.stack.target({ name: 'nearly-full', database: 'eitherway', storageId: st.id, workerPool: 'nearly-full' });
    const { id } = await startBackup(fx.stack.operator, t.id);
    try {
      const job = await fx.stack.waitJob(id, ['succeeded', 'failed', 'cancelled'], 15_000, w);
      expectFailure(job, 'DISK_FULL');
      const rows = await fx.stack.backupRows(id);
      expect(rows.map((r) => [r.status, r.error_code])).toEqual([['failed', 'DISK_FULL']]);
      // A failed row's files are never cleaned by retention, so none may stay behind.
      expect(listFiles(dir)).toEqual([]);
    } finally {
      for (const p of toolProcsFor(fx.cluster.port, 'pg_dump')) if (p.environ.PGPASSFILE) fx.stack.tempDirs.push(path.dirname(p.environ.PGPASSFILE));
      killGroup(w.child, 'SIGKILL');
      await exitWithin(w.child, 5_000);
    }
  }, 45_000);

  it('a file name already taken in storage (a backup in the same second): the backup still succeeds and overwrites nothing', async () => {
    // Files are named to the second; take every name of the next 20 seconds for the "good" target.
    const dirOf = path.dirname(good[0]!.file);
    const base = path.basename(good[0]!.file).replace(/^\d{8}T\d{6}Z/, '');
    const squatters: string[] = [];
    for (let i = 0; i < 20; i++) {
      const stamp = new Date(Date.now() + i * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      const f = path.join(dirOf, `${stamp}${base}`);
      if (!existsSync(f)) {
        writeFileSync(f, `squatter ${path.basename(f)}`);
        squatters.push(f);
      }
    }
    try {
      const { job, rows } = await runBackup(targets.good!);
      // What was there first is still there, byte for byte.
      for (const f of squatters) expect(readFileSync(f, 'utf8'), `${f} was overwritten`).toBe(`squatter ${path.basename(f)}`);
      expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
      expect(squatters).not.toContain(path.join(fx.storageDir, rows[0]!.backup_file));
      expect(await sha256File(path.join(fx.storageDir, rows[0]!.backup_file))).toBe(rows[0]!.checksum_sha256);
    } finally {
      for (const f of squatters) await execa('rm', ['-f', f]);
    }
    await expectEarlierBackupsIntact();
  });
});

describe('stopped mid-dump', () => {
  // The dump itself, not the `pg_dump -V` that pg_dumpall (roles and tablespaces, read beside the dump) runs to check
  // its sibling's version: that one inherits the same libpq environment and lives a moment.
  const isTheDump = (p: { cmdline: string }) => p.cmdline.includes('--format=');
  it('pg_dump killed mid-run: BACKUP_TOOL_FAILED, partial removed, earlier backups intact', async () => {
    const { id } = await startBackup(fx.stack.operator, targets.big!);
    // Freeze the compressing zstd as soon as it starts: pg_dump then blocks writing the pipe, mid-data, and cannot
    // finish first. (Not the read-back's `zstd -d`: the compressed bytes buffered in front of it are a whole small dump.)
    const zstd = await waitFor('zstd to start', async () => childProcs(fx.worker.child.pid!, 'zstd').find((p) => !/(^| )-d( |$)/.test(p.cmdline)), 20_000, 2);
    process.kill(zstd.pid, 'SIGSTOP');
    let dumpPid: number;
    let passfile: string;
    try {
      const dump = await waitFor('pg_dump to run', async () => toolProcsFor(fx.cluster.port, 'pg_dump').find((p) => p.environ.PGDATABASE === 'bigdb' && isTheDump(p)), 5_000, 10);
      dumpPid = dump.pid;
      passfile = dump.environ.PGPASSFILE!;
      await waitFor('the data phase', async () => (await fx.stack.logLines(id)).some((l) => l.includes('dumping contents of table "public.big"')), 10_000, 50);
      const job = (await fx.stack.job(id))!;
      expect(job.status).toBe('running');
      // The artifact's .partial and the passfile's folder (a secret on disk, swept like a partial).
      expect(job.partial_paths).toHaveLength(2);
      expect(job.partial_paths).toContain(path.dirname(passfile));
      expect(existsSync(job.partial_paths.find((p) => p.endsWith('.partial'))!)).toBe(true);
      expect(isAlive(dumpPid)).toBe(true);
      process.kill(dumpPid, 'SIGKILL');
    } finally {
      process.kill(zstd.pid, 'SIGCONT');
    }
    const job = await fx.stack.waitJob(id, undefined, 20_000, fx.worker);
    expectFailure(job, 'BACKUP_TOOL_FAILED');
    expect(job.error_message).toMatch(/pg_dump/);
    expect(job.error_message).toMatch(/SIGKILL|signal|killed/i);
    const rows = await fx.stack.backupRows(id);
    expect(rows.map((r) => [r.status, r.error_code])).toEqual([['failed', 'BACKUP_TOOL_FAILED']]);
    expect(job.partial_paths).toEqual([]);
    expectNoPartials(fx.storageDir);
    expect(existsSync(path.join(fx.storageDir, rows[0]!.backup_file))).toBe(false);
    expect(childProcs(fx.worker.child.pid!, 'zstd')).toEqual([]);
    expect(existsSync(path.dirname(passfile!))).toBe(false);
    await expectEarlierBackupsIntact();
  });

  it('cancelled while running: job and backup cancelled, partial removed, no pg_dump or zstd left', async () => {
    const lock = await holdLock(fx.cluster.url('bigdb'), 'small');
    let id: string;
    let partial: string;
    let passfile: string;
    try {
      ({ id } = await startBackup(fx.stack.operator, targets.big!));
      await waitForLockWaiter(fx.cluster.url('postgres'), 'bigdb');
      const running = (await fx.stack.job(id))!;
      expect(running.status).toBe('running');
      partial = running.partial_paths.find((p) => p.endsWith('.partial'))!;
      // The job row names the partial before the write stream has opened it (the open runs on Node's thread pool).
      await expect.poll(() => existsSync(partial), { timeout: 10_000 }).toBe(true);
      const dumps = toolProcsFor(fx.cluster.port, 'pg_dump').filter(isTheDump);
      expect(dumps).toHaveLength(1);
      passfile = dumps[0]!.environ.PGPASSFILE!;
      expect(await cancelJob(fx.stack.operator, id, null)).toEqual({ id, status: 'cancelling' });
      const job = await fx.stack.waitJob(id, ['cancelled', 'failed', 'succeeded'], 8_000, fx.worker);
      expect(job.status).toBe('cancelled');
      expect(job.error_code).toBe('JOB_CANCELLED');
    } finally {
      await lock.release();
    }
    const rows = await fx.stack.backupRows(id!);
    expect(rows.map((r) => [r.status, r.error_code])).toEqual([['cancelled', 'JOB_CANCELLED']]);
    expect(existsSync(partial!)).toBe(false);
    expectNoPartials(fx.storageDir);
    expect(toolProcsFor(fx.cluster.port, 'pg_dump')).toEqual([]);
    expect(childProcs(fx.worker.child.pid!, 'zstd')).toEqual([]);
    expect(existsSync(path.dirname(passfile!))).toBe(false);
    // The target is free again.
    const again = await runBackup(targets.big!);
    expect(again.job.status).toBe('succeeded');
    await expectEarlierBackupsIntact();
  }, 45_000);
});

describe('awkward database names', () => {
  it(`backs up ${ODD} and the manifest's restoreByHand commands bring it back`, async () => {
    const q = `"${ODD.replaceAll('"', '""')}"`;
    await sql(fx.cluster.url('postgres'), `CREATE DATABASE ${q}`);
    await sql(
      fx.cluster.url(ODD),
      `CREATE SCHEMA "sch ""é"""; CREATE TABLE "sch ""é"""."Täble 'one'" (id int PRIMARY KEY, note text);
       INSERT INTO "sch ""é"""."Täble 'one'" SELECT i, 'zeile ' || i || ' ü' FROM generate_series(1, 1000) i;`,
    );
    const source = await tableChecksums(fx.cluster.url(ODD));
    const t = await fx.stack.target({ name: 'odd name', database: ODD, storageId: fx.storageId });
    const { job, rows } = await runBackup(t.id);
    expect(job.status, `${job.error_code}: ${job.error_message}\n${job.error_detail ?? ''}`).toBe('succeeded');
    const row = rows[0]!;
    expect(row.database_name).toBe(ODD);
    const file = path.join(fx.storageDir, row.backup_file);
    expect(await sha256File(file)).toBe(row.checksum_sha256);
    const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as Manifest;
    expect(manifest.database).toBe(ODD);

    // Run the manifest's commands as a person would, in a folder with the two files, naming a new (odd) database.
    const work = fx.stack.tempDir('lifeboat-byhand-');
    copyFileSync(file, path.join(work, manifest.file));
    copyFileSync(`${file}.globals.sql`, path.join(work, manifest.globals.file));
    const fresh = `${ODD} (restored)`;
    for (const cmd of manifest.restoreByHand) {
      const line = cmd.replaceAll('<new_database>', `'${fresh.replaceAll("'", "'\\''")}'`);
      const res = await execa('bash', ['-c', line], { cwd: work, env: { ...process.env, PGPASSWORD: fx.cluster.password! }, reject: false, all: true });
      expect(res.exitCode, `${line}\n${res.all}`).toBe(0);
    }
    expect(await tableChecksums(fx.cluster.url(fresh))).toEqual(source);
    expect(await tableChecksums(fx.cluster.url(ODD))).toEqual(source);
    await expectEarlierBackupsIntact();
  }, 45_000);
});

describe('a worker killed mid-backup', () => {
  let deadWorkerPassfile: string | undefined;

  it('is swept by the next worker: job WORKER_LOST, backup_log failed (not running), partial removed', async () => {
    const t = await fx.stack.target({ name: 'crashy', database: 'bigdb', storageId: fx.storageId, workerPool: 'crash' });
    const doomed = fx.stack.spawnWorker({ LIFEBOAT_WORKER_POOL: 'crash' });
    await fx.stack.workerReady(doomed);
    const lock = await holdLock(fx.cluster.url('bigdb'), 'small');
    let id: string;
    let partial: string;
    let passfile: string;
    try {
      ({ id } = await startBackup(fx.stack.operator, t.id));
      await waitForLockWaiter(fx.cluster.url('postgres'), 'bigdb');
      const running = (await fx.stack.job(id))!;
      expect(running.status).toBe('running');
      partial = running.partial_paths.find((p) => p.endsWith('.partial'))!;
      await expect.poll(() => existsSync(partial), { timeout: 10_000, message: workerTail(doomed) }).toBe(true);
      const [dump] = toolProcsFor(fx.cluster.port, 'pg_dump');
      passfile = dump!.environ.PGPASSFILE!;
      expect(existsSync(passfile)).toBe(true);
      killGroup(doomed.child, 'SIGKILL');
      expect((await exitWithin(doomed.child, 5_000))?.signal).toBe('SIGKILL');
    } finally {
      await lock.release();
    }
    expect((await fx.stack.job(id!))!.status).toBe('running');
    expect((await fx.stack.backupRows(id!)).map((r) => r.status)).toEqual(['running']);

    const next = fx.stack.spawnWorker({ LIFEBOAT_WORKER_POOL: 'crash' });
    const job = await fx.stack.waitJob(id!, ['failed', 'succeeded', 'cancelled'], 20_000, next);
    expectFailure(job, 'WORKER_LOST');
    await waitFor('the partial file to go', async () => !existsSync(partial!), 5_000);
    const rows = await fx.stack.backupRows(id!);
    expect(rows.map((r) => [r.status, r.error_code])).toEqual([['failed', 'WORKER_LOST']]);
    expect(rows[0]!.finished_at).toBeInstanceOf(Date);
    expectNoPartials(fx.storageDir);
    expect(toolProcsFor(fx.cluster.port, 'pg_dump')).toEqual([]);
    killGroup(next.child, 'SIGTERM');
    await exitWithin(next.child, 10_000);
    deadWorkerPassfile = passfile!;
    fx.stack.tempDirs.push(path.dirname(passfile!));
    await expectEarlierBackupsIntact();
  }, 60_000);

  it("leaves no passfile behind: the dead worker's clear-text target password is removed by the sweep", () => {
    expect(deadWorkerPassfile).toBeDefined();
    expect(existsSync(deadWorkerPassfile!), `${deadWorkerPassfile} survived the crash`).toBe(false);
  });
});
