// Physical base backups with a real worker, pg_basebackup, zstd and gzip against a throwaway cluster with a
// tablespace: every file stored under <target>/_base/<label>/ with Lifeboat's manifest beside it, the row with its
// WAL range and timeline, verification against backup_manifest (and, independently, pg_verifybackup on an
// extracted copy); a damaged member, a damaged archive and missing WAL each named by the verify step; a cancel
// mid-way leaving nothing complete-looking and no pg_basebackup running; a login without REPLICATION refused.
import { execFileSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { sql, waitFor } from '../helpers/db';
import { Stack, startStack, stopStack, listFiles, sha256File, toolProcsFor, type Spawned } from '../helpers/backups';
import { startBaseBackup } from '../../lib/backups/start-base-backup';
import { cancelJob } from '../../lib/jobs/cancel-job';
import { LocalFolderStorage } from '../../lib/storage/local-folder';
import { requireVerified, verifyBaseBackup } from '../../worker/base/verify';
import { jobScratchPath } from '../../worker/scratch';

let console_: RunningCluster | undefined;
let target: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let storageDir: string;
let targetId: string;
let tablespaceDir: string;
const s = () => stack!;
const never = new AbortController().signal;
const SEG = 16 * 1024 * 1024;

/** Runs a base backup to its end; returns the job row and its backup_log rows. */
async function runBase(options: Parameters<typeof startBaseBackup>[2] = {}, id = targetId) {
  const { id: jobId } = await startBaseBackup(s().operator, id, options);
  const job = await s().waitJob(jobId, ['succeeded', 'failed', 'cancelled'], 120_000, worker);
  return { job, rows: await s().backupRows(jobId) };
}

/** The [offset, size] of a member's data in a plain tar. */
function memberData(tarBytes: Buffer, name: string): [number, number] {
  for (let at = 0; at + 512 <= tarBytes.length; ) {
    const header = tarBytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const member = header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    if (member === name) return [at + 512, size];
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${name} is not in the tar`);
}

beforeAll(async () => {
  ({ cluster: console_, stack } = await startStack('lifeboat_base', {}));
  // The target: PostgreSQL's defaults (wal_level replica, max_wal_senders 10) plus full page writes, a password,
  // and the harness superuser (who may replicate); loopback replication is in initdb's pg_hba.conf.
  target = await createThrowawayCluster({ password: 'base-pw-1', settings: { full_page_writes: 'on' } });
  tablespaceDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-ts-'));
  const pg = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
  if (process.getuid?.() === 0) chownSync(tablespaceDir, Number(pg), Number(pg));
  await sql(target.url(), `CREATE TABLESPACE side LOCATION '${tablespaceDir}'`);
  await sql(target.url(), `CREATE DATABASE shop`);
  await sql(
    target.url('shop'),
    `CREATE TABLE orders (id int PRIMARY KEY, note text);
     INSERT INTO orders SELECT i, md5(i::text) || md5((i * 3)::text) FROM generate_series(1, 600000) i;
     CREATE TABLE archive (id int, note text) TABLESPACE side;
     INSERT INTO archive SELECT i, md5(i::text) FROM generate_series(1, 20000) i;`,
  );
  const store = await s().localStorage();
  storageDir = store.storageDir;
  targetId = (await s().target({ name: 'base-prod', cluster: target, database: null, storageId: store.storageId })).id;
  worker = await s().readyWorker();
}, 240_000);

afterAll(async () => {
  await stopStack(stack, console_, target);
  if (tablespaceDir) rmSync(tablespaceDir, { recursive: true, force: true });
});

let folder: string;

describe('base backup', () => {
  it('stores every archive and backup_manifest under <target>/_base/<label>/, the manifest last, a row with the WAL range, verified', async () => {
    const { job, rows } = await runBase();
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
    const result = job.result as { backupId: string; folder: string; files: { name: string; size: number; sha256: string }[]; startLsn: string; stopLsn: string; timeline: number; verification: { ok: boolean; filesMatched: number; filesInManifest: number; walSegments: string[]; problems: unknown[] } };
    folder = result.folder;
    expect(folder).toMatch(/^base-prod\/_base\/\d{8}T\d{9}Z-base-[0-9a-f]{8}$/);

    // Objects: PostgreSQL's names inside the folder, Lifeboat's manifest beside it, nothing half-written.
    const oid = (await sql<{ oid: string }>(target!.url(), `SELECT oid::text FROM pg_tablespace WHERE spcname = 'side'`))[0]!.oid;
    const inFolder = listFiles(path.join(storageDir, folder));
    expect(inFolder).toEqual([`${oid}.tar.zst`, 'backup_manifest', 'base.tar.zst', 'pg_wal.tar'].sort());
    expect(existsSync(path.join(storageDir, `${folder}.manifest.json`))).toBe(true);
    expect(listFiles(storageDir).filter((f) => f.endsWith('.partial'))).toEqual([]);
    for (const f of result.files) expect(await sha256File(path.join(storageDir, folder, f.name)), f.name).toBe(f.sha256);

    // Verified: every file of backup_manifest matched, the WAL of its range present.
    expect(result.verification.ok).toBe(true);
    expect(result.verification.problems).toEqual([]);
    expect(result.verification.filesMatched).toBe(result.verification.filesInManifest);
    expect(result.verification.filesInManifest).toBeGreaterThan(500);
    expect(result.verification.walSegments.length).toBeGreaterThan(0);

    // The row: backup_type base, the WAL range and timeline of backup_manifest, times, size, the verification.
    expect(rows).toHaveLength(1);
    const [row] = (await sql<Record<string, unknown>>(console_!.url('lifeboat_base'), 'SELECT * FROM backup_log WHERE id = $1', [rows[0]!.id])) as Record<string, unknown>[];
    expect(row).toMatchObject({ backup_type: 'base', status: 'succeeded', backup_file: folder, start_lsn: result.startLsn, stop_lsn: result.stopLsn, timeline_id: 1 });
    expect(row!.start_lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    const pgManifest = JSON.parse(readFileSync(path.join(storageDir, folder, 'backup_manifest'), 'utf8'));
    expect(pgManifest['WAL-Ranges'][0]).toMatchObject({ Timeline: 1, 'Start-LSN': result.startLsn, 'End-LSN': result.stopLsn });
    expect(row!.backup_started_at).toBeInstanceOf(Date);
    expect((row!.backup_stopped_at as Date).getTime()).toBeGreaterThanOrEqual((row!.backup_started_at as Date).getTime() - 1000);
    expect((row!.verification as { ok: boolean }).ok).toBe(true);
    expect(Number(row!.backup_size)).toBe(result.files.reduce((a, f) => a + f.size, 0));

    // Lifeboat's manifest: the same facts and the lines to restore by hand.
    const manifest = JSON.parse(readFileSync(path.join(storageDir, `${folder}.manifest.json`), 'utf8'));
    expect(manifest).toMatchObject({ kind: 'base', startLsn: result.startLsn, stopLsn: result.stopLsn, timeline: 1, files: result.files });
    expect(manifest.restoreByHand.join('\n')).toMatch(/zstd -d -c 'base\.tar\.zst' \| tar -x -C "\$PGDATA"/);

    // Live progress came from pg_basebackup's own lines; its words are in the log.
    const log = await s().logLines(job.id);
    expect(log.some((l) => /write-ahead log start point/.test(l))).toBe(true);
    expect(log.some((l) => /^verified: \d+ of \d+ files/.test(l))).toBe(true);
  });

  it('pg_verifybackup agrees: the archives extracted by hand, as restoreByHand says, pass PostgreSQL\'s own check', async () => {
    const oid = (await sql<{ oid: string }>(target!.url(), `SELECT oid::text FROM pg_tablespace WHERE spcname = 'side'`))[0]!.oid;
    const data = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-extract-'));
    try {
      const src = path.join(storageDir, folder);
      execFileSync('sh', ['-c', `zstd -d -c base.tar.zst | tar -x -C "$0" && mkdir -p "$0/pg_wal" "$0/pg_tblspc/${oid}" && tar -x -f pg_wal.tar -C "$0/pg_wal" && zstd -d -c ${oid}.tar.zst | tar -x -C "$0/pg_tblspc/${oid}" && cp backup_manifest "$0/"`, data], { cwd: src });
      const out = execFileSync(path.join(target!.binDir, 'pg_verifybackup'), ['--no-parse-wal', data], { encoding: 'utf8' });
      expect(out).toMatch(/backup successfully verified/);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe('other compressions', () => {
  it('server-side lz4 with the WAL fetched into base.tar: lz4 archives, no pg_wal.tar, verified (the WAL found in base.tar)', async () => {
    const { job } = await runBase({ compression: 'server-lz4', walMethod: 'fetch' });
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
    const result = job.result as { folder: string; verification: { ok: boolean; walSegments: string[]; filesMatched: number; filesInManifest: number } };
    expect(listFiles(path.join(storageDir, result.folder)).filter((f) => f !== 'backup_manifest').every((f) => f.endsWith('.tar.lz4'))).toBe(true);
    expect(result.verification).toMatchObject({ ok: true, filesMatched: result.verification.filesInManifest });
    expect(result.verification.walSegments.length).toBeGreaterThan(0);
  });
});

describe('an older server', () => {
  it('PostgreSQL 14 without a compression choice: the runbook\'s gzip (no zstd before 15), stored and verified', async () => {
    const old = await createThrowawayCluster({ major: 14, password: 'old-pw-1', settings: { full_page_writes: 'on' } });
    try {
      const id = (await s().target({ name: 'base-old', cluster: old, database: null, storageId: (await s().localStorage('old')).storageId })).id;
      const { job, rows } = await runBase({}, id);
      expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
      const result = job.result as { files: { name: string }[]; verification: { ok: boolean } };
      expect(result.files.map((f) => f.name).sort()).toEqual(['backup_manifest', 'base.tar.gz', 'pg_wal.tar.gz']);
      expect(result.verification.ok).toBe(true);
      expect(rows[0]!.server_version).toMatch(/^14\./);
      expect(rows[0]!.format).toBe('tar, gzip, WAL stream');
      // zstd was asked for explicitly: refused before anything runs, saying what to choose.
      const zstd = await runBase({ compression: 'server-zstd' }, id);
      expect(zstd.job.error_code).toBe('BASE_BACKUP_COMPRESSION_UNSUPPORTED');
      expect(zstd.job.error_hint).toMatch(/^Choose gzip/);
    } finally {
      await old.remove();
    }
  });
});

describe('verification names what is damaged', () => {
  const storage = () => new LocalFolderStorage(storageDir);
  const verify = () => verifyBaseBackup({ storage: storage(), folder, walSegmentSize: SEG, signal: never });
  /** Replaces a stored object's bytes for one check, then puts the original back. */
  async function withDamaged(file: string, damage: (bytes: Buffer) => Buffer | null, check: () => Promise<void>) {
    const at = path.join(storageDir, folder, file);
    const keep = `${at}.orig-test`;
    copyFileSync(at, keep);
    try {
      const damaged = damage(readFileSync(at));
      rmSync(at);
      if (damaged) writeFileSync(at, damaged);
      await check();
    } finally {
      copyFileSync(keep, at);
      rmSync(keep);
    }
  }

  it('a flipped byte in a member of base.tar: that member is named, with its archive, and the job error names it', async () => {
    await withDamaged(
      'base.tar.zst',
      (zst) => {
        const plain = execFileSync('zstd', ['-d', '-c', '-q'], { input: zst, maxBuffer: 1 << 30 });
        const [offset] = memberData(plain, 'PG_VERSION');
        plain[offset] ^= 0x01;
        return execFileSync('zstd', ['-3', '-c', '-q'], { input: plain, maxBuffer: 1 << 30 });
      },
      async () => {
        const { verification } = await verify();
        expect(verification.ok).toBe(false);
        expect(verification.problems).toEqual([{ file: 'PG_VERSION', archive: 'base.tar.zst', problem: expect.stringMatching(/^SHA-256 [0-9a-f]{64} differs from backup_manifest's [0-9a-f]{64}$/) }]);
        let err: (Error & { code?: string }) | undefined;
        try {
          requireVerified(verification);
        } catch (e) {
          err = e as Error & { code?: string };
        }
        expect(err?.code).toBe('BASE_BACKUP_VERIFY_FAILED');
        expect(err?.message).toMatch(/PG_VERSION \(in base\.tar\.zst\) SHA-256/);
      },
    );
  });

  it('a flipped byte in the compressed archive itself: the archive is named with zstd\'s words', async () => {
    // The frame's first byte (its magic number): zstd refuses it whatever the data. A byte flipped in the middle may
    // land in literals that decode without error (pg_basebackup's server-side zstd writes no content checksum); the
    // member's SHA-256 then names it, as the member test above shows.
    await withDamaged(
      'base.tar.zst',
      (zst) => {
        zst[0] ^= 0xff;
        return zst;
      },
      async () => {
        const { verification } = await verify();
        expect(verification.ok).toBe(false);
        expect(verification.problems[0]).toMatchObject({ file: 'base.tar.zst', archive: 'base.tar.zst' });
        expect(verification.problems.map((p) => p.problem).join('\n')).toMatch(/cannot be decompressed \(zstd, exit \d+\)/);
      },
    );
  });

  it('the WAL archive gone: the missing segment is named with the range it is needed for', async () => {
    await withDamaged('pg_wal.tar', () => null, async () => {
      const { verification, manifest } = await verify();
      expect(verification.ok).toBe(false);
      const range = manifest!.walRanges[0]!;
      expect(verification.problems[0]).toEqual({ file: expect.stringMatching(/^pg_wal\/[0-9A-F]{24}$/), archive: null, problem: expect.stringContaining(`${range.startLsn}-${range.endLsn} on timeline 1`) });
    });
  });

  it('the stored backup is whole again once the originals are back (the checks above could fail, and this one passes)', async () => {
    const { verification } = await verify();
    expect(verification.problems).toEqual([]);
  });
});

describe('faults', () => {
  it('cancelled while pg_basebackup runs: job and row cancelled, nothing stored, no pg_basebackup left, no slot left', async () => {
    // gzip at level 9 on the worker: slow enough to cancel mid-way.
    const { id } = await startBaseBackup(s().operator, targetId, { compression: 'gzip', level: 9 });
    const tool = await waitFor('pg_basebackup to run', async () => toolProcsFor(target!.port, 'pg_basebackup')[0], 30_000, 20);
    await waitFor('progress', async () => ((await s().job(id))!.progress ?? 0) > 0, 20_000, 50);
    expect(await cancelJob(s().operator, id, null)).toEqual({ id, status: 'cancelling' });
    const job = await s().waitJob(id, ['cancelled', 'failed', 'succeeded'], 20_000, worker);
    expect(job.status).toBe('cancelled');
    expect(job.error_code).toBe('JOB_CANCELLED');
    const rows = await s().backupRows(id);
    expect(rows.map((r) => [r.status, r.error_code])).toEqual([['cancelled', 'JOB_CANCELLED']]);
    // Nothing of this run in the storage: no folder content, no manifest, no partial file.
    const label = rows[0]!.backup_file;
    expect(listFiles(path.join(storageDir, label))).toEqual([]);
    expect(existsSync(path.join(storageDir, `${label}.manifest.json`))).toBe(false);
    expect(listFiles(storageDir).filter((f) => f.endsWith('.partial'))).toEqual([]);
    // No pg_basebackup running, its scratch folder gone, and the server no longer backing up.
    await waitFor('pg_basebackup to be gone', async () => toolProcsFor(target!.port, 'pg_basebackup').length === 0 || undefined, 10_000, 50);
    expect(existsSync(`/proc/${tool.pid}/stat`) && !readFileSync(`/proc/${tool.pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
    expect(existsSync(jobScratchPath(id))).toBe(false);
    const serverSide = () => sql<{ backups: number; slots: number; senders: string[] }>(target!.url(), `SELECT (SELECT count(*)::int FROM pg_stat_progress_basebackup) AS backups, (SELECT count(*)::int FROM pg_replication_slots) AS slots, ARRAY(SELECT pid || ' ' || state || ' ' || coalesce(wait_event, '') FROM pg_stat_activity WHERE backend_type = 'walsender') AS senders`);
    await waitFor('the server to end the backup', async () => ((await serverSide())[0]!.backups + (await serverSide())[0]!.slots === 0 ? true : undefined), 30_000, 100).catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await serverSide())}`);
    });
    // The target is free again: the next base backup runs.
    const again = await runBase({ compression: 'none' });
    expect(again.job.status, `${again.job.error_code}: ${again.job.error_message}`).toBe('succeeded');
  });

  it('a login without REPLICATION: BASE_BACKUP_REPLICATION_DENIED naming the user, and a failed base row', async () => {
    await sql(target!.url(), `CREATE ROLE plain LOGIN PASSWORD 'plain-pw-1'`);
    const plain = (await s().target({ name: 'base-plain', cluster: target, dbUser: 'plain', password: 'plain-pw-1', database: 'postgres' })).id;
    const { job, rows } = await runBase({}, plain);
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('BASE_BACKUP_REPLICATION_DENIED');
    expect(job.error_message).toMatch(/"plain"/);
    expect(job.error_hint).toMatch(/ALTER ROLE <user> REPLICATION/);
    expect(rows.map((r) => [r.status, r.error_code])).toEqual([['failed', 'BASE_BACKUP_REPLICATION_DENIED']]);
  });
});
