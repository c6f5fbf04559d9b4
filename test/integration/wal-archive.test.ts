// wal/lifeboat-wal against a real PostgreSQL 15 cluster archiving through it: segments arrive compressed with
// their SHA-256, a second push of the same segment is accepted and a different one refused (original kept), a
// push killed mid-way leaves nothing complete-looking, fetch is quiet for a missing file and loud for a damaged
// one (recovery stops rather than promotes), prefetch spools only verified segments, and a base backup recovers
// through fetch (with and without prefetch) to the newest archived rows.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, execaSync } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, startCluster, type RunningCluster } from '../../scripts/lib/cluster';

const SCRIPT = path.resolve(__dirname, '../../wal/lifeboat-wal');
const isRoot = process.getuid?.() === 0;
// Absolute, so a test can hand the script a PATH without runuser in it.
const RUNUSER = isRoot ? execaSync('sh', ['-c', 'command -v runuser']).stdout.trim() : '';
const pgIds = isRoot ? { uid: Number(readFileSync('/etc/passwd', 'utf8').match(/^postgres:[^:]*:(\d+):(\d+):/m)?.[1]), gid: Number(readFileSync('/etc/passwd', 'utf8').match(/^postgres:[^:]*:(\d+):(\d+):/m)?.[2]) } : undefined;

let work: string; // 0755 folder: the postgres OS user must reach the script, the archive and the config
let bin: string; // the script, installed the way docs/wal.md says (one file, chmod 755)
let archive: string;
let conf: string;
let cluster: RunningCluster;
let restored: RunningCluster | undefined;
let sysid: string;
let baseDir: string;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const sha256Of = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

function ownByPostgres(p: string) {
  if (pgIds) chownSync(p, pgIds.uid, pgIds.gid);
}

/** Runs the script as PostgreSQL would: as the postgres OS user, from a data folder, with the config file. */
function wal(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}) {
  const cmd = isRoot ? RUNUSER : bin;
  const argv = isRoot ? ['-u', 'postgres', '--', bin, ...args] : args;
  return execa(cmd, argv, {
    cwd: opts.cwd ?? cluster.dataDir,
    env: { LIFEBOAT_WAL_CONFIG: conf, ...opts.env },
    reject: false,
    timeout: opts.timeout ?? 20_000,
  });
}

async function query<T extends pg.QueryResultRow>(c: RunningCluster, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: c.url() });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Ends the current segment and waits until the archiver reports it archived. */
async function switchAndWait(): Promise<string> {
  const [row] = await query<{ name: string }>(cluster, 'SELECT pg_walfile_name(pg_switch_wal()) AS name');
  const name = row!.name;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [s] = await query<{ last: string | null; failed: string; lastfail: string | null }>(
      cluster,
      'SELECT last_archived_wal AS last, failed_count::text AS failed, last_failed_wal AS lastfail FROM pg_stat_archiver',
    );
    if (s!.last !== null && s!.last >= name) return name;
    if (Date.now() > deadline) {
      const log = readFileSync(`${cluster.dataDir}.log`, 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`segment ${name} not archived in 30 s (failed ${s!.failed}, last failed ${s!.lastfail}):\n${log}`);
    }
    await sleep(100);
  }
}

/** pg_basebackup -X none: every byte of WAL a recovery needs must then come from the archive, through fetch. */
async function baseBackup(dir: string) {
  mkdirSync(dir, { mode: 0o700 });
  ownByPostgres(dir);
  const exe = path.join(cluster.binDir, 'pg_basebackup');
  const args = ['-h', cluster.host, '-p', String(cluster.port), '-U', cluster.superuser, '-D', dir, '-Fp', '-X', 'none', '-c', 'fast', '--no-sync'];
  const bb = await execa(isRoot ? RUNUSER : exe, isRoot ? ['-u', 'postgres', '--', exe, ...args] : args, { reject: false, cwd: '/' });
  expect(bb.exitCode, bb.stderr).toBe(0);
}

/** recovery.signal and restore_command, as PostgreSQL 12+ read them. */
function writeRecovery(dir: string, restoreCommand: string) {
  writeFileSync(path.join(dir, 'recovery.signal'), '');
  ownByPostgres(path.join(dir, 'recovery.signal'));
  const auto = path.join(dir, 'postgresql.auto.conf');
  writeFileSync(auto, `${readFileSync(auto, 'utf8')}\nrestore_command = '${restoreCommand}'\n`);
}

const segDir = (name: string, target = 'orders-prod') => path.join(archive, target, '_wal', sysid, name.slice(0, 16));

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-wal-'));
  chmodSync(work, 0o755);
  mkdirSync(path.join(work, 'bin'));
  bin = path.join(work, 'bin', 'lifeboat-wal');
  copyFileSync(SCRIPT, bin);
  chmodSync(bin, 0o755);
  archive = path.join(work, 'archive');
  mkdirSync(archive);
  ownByPostgres(archive);
  conf = path.join(work, 'wal.conf');
  writeFileSync(conf, `# Lifeboat WAL archive\nroot=${archive}\ntarget=orders-prod\n`);
  chmodSync(conf, 0o644);

  cluster = await createThrowawayCluster({
    settings: {
      archive_mode: 'on',
      archive_command: `LIFEBOAT_WAL_CONFIG=${conf} ${bin} push %p`,
      wal_level: 'replica',
    },
  });
  sysid = (await query<{ id: string }>(cluster, 'SELECT system_identifier::text AS id FROM pg_control_system()'))[0]!.id;
  await query(cluster, 'CREATE TABLE items (id int PRIMARY KEY, body text)');
  await query(cluster, "INSERT INTO items SELECT g, repeat('before base backup ', 20) FROM generate_series(1, 1000) g");
}, 120_000);

afterAll(async () => {
  await restored?.remove().catch(() => {});
  await cluster?.remove().catch(() => {});
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('lifeboat-wal', { timeout: 60_000 }, () => {
  it('archives each segment compressed, with the SHA-256 of the original beside it, under the system identifier', async () => {
    await query(cluster, "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1001, 20000) g");
    const name = await switchAndWait();
    const dir = segDir(name);
    const obj = path.join(dir, `${name}.zst`);
    expect(existsSync(obj)).toBe(true);
    // A segment is 16 MB; compressed, it is far smaller.
    expect(statSync(obj).size).toBeLessThan(4 * 1024 * 1024);
    const [hex, file] = readFileSync(path.join(dir, `${name}.sha256`), 'utf8').trim().split(/\s+/);
    expect(file).toBe(name);
    const plain = (await execa('zstd', ['-dcq', '--', obj], { encoding: 'buffer' })).stdout;
    expect(plain.length).toBe(16 * 1024 * 1024);
    expect(sha256Of(Buffer.from(plain))).toBe(hex);
    // The frame carries zstd's content checksum (--check): `zstd -lv` reports it.
    expect((await execa('zstd', ['-lv', obj])).stdout).toMatch(/Check:\s+XXH64/);
    // No temporary file is left behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('accepts the same segment twice and refuses a different one under the same name, keeping the original', async () => {
    const name = await switchAndWait();
    const dir = segDir(name);
    const obj = path.join(dir, `${name}.zst`);
    const storedBefore = sha256(obj);
    const sumBefore = readFileSync(path.join(dir, `${name}.sha256`), 'utf8');
    // PostgreSQL may archive a segment again after a crash: the same bytes, from a pg_wal-like folder.
    const again = path.join(work, 'again', 'pg_wal');
    mkdirSync(again, { recursive: true });
    ownByPostgres(path.dirname(again));
    ownByPostgres(again);
    await execa('zstd', ['-dq', '-o', path.join(again, name), '--', obj]);
    ownByPostgres(path.join(again, name));
    const same = await wal(['push', `pg_wal/${name}`], { cwd: path.dirname(again) });
    expect(same.exitCode).toBe(0);
    expect(same.stderr).toContain('already archived with the same content');

    // One byte changed past the header (a segment of another server's history under the same name).
    const seg = readFileSync(path.join(again, name));
    seg[100_000] = seg[100_000]! ^ 0xff;
    writeFileSync(path.join(again, name), seg);
    const different = await wal(['push', `pg_wal/${name}`], { cwd: path.dirname(again) });
    expect(different.exitCode).toBe(1);
    expect(different.stderr.trim().split('\n')).toHaveLength(1);
    expect(different.stderr).toMatch(new RegExp(`^lifeboat-wal: refusing ${name}: the archive already holds a DIFFERENT`));
    expect(sha256(obj)).toBe(storedBefore);
    expect(readFileSync(path.join(dir, `${name}.sha256`), 'utf8')).toBe(sumBefore);
  });

  it('archives history and backup history files as written, with the same rules', async () => {
    const pgwal = path.join(work, 'hist', 'pg_wal');
    mkdirSync(pgwal, { recursive: true });
    ownByPostgres(path.dirname(pgwal));
    ownByPostgres(pgwal);
    const hist = path.join(pgwal, '00000002.history');
    writeFileSync(hist, '1\t0/3000000\tno recovery target specified\n');
    ownByPostgres(hist);
    const opts = { cwd: path.dirname(pgwal), env: { LIFEBOAT_WAL_SYSID: sysid } };
    expect((await wal(['push', 'pg_wal/00000002.history'], opts)).exitCode).toBe(0);
    const stored = path.join(archive, 'orders-prod', '_wal', sysid, '00000002.history');
    expect(readFileSync(stored, 'utf8')).toBe('1\t0/3000000\tno recovery target specified\n');
    expect(readFileSync(`${stored}.sha256`, 'utf8')).toBe(`${sha256(hist)}  00000002.history\n`);
    expect((await wal(['push', 'pg_wal/00000002.history'], opts)).exitCode).toBe(0);
    writeFileSync(hist, '1\t0/4000000\tno recovery target specified\n');
    const refused = await wal(['push', 'pg_wal/00000002.history'], opts);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('DIFFERENT');
    expect(readFileSync(stored, 'utf8')).toBe('1\t0/3000000\tno recovery target specified\n');

    // The server's own backup history file, archived when a base backup ends (next test), lands as written.
    const backupFile = path.join(pgwal, '000000010000000000000002.00000028.backup');
    writeFileSync(backupFile, 'START WAL LOCATION: 0/2000028\n');
    ownByPostgres(backupFile);
    expect((await wal(['push', `pg_wal/${path.basename(backupFile)}`], opts)).exitCode).toBe(0);
    const storedBackup = path.join(archive, 'orders-prod', '_wal', sysid, '0000000100000000', path.basename(backupFile));
    expect(readFileSync(storedBackup, 'utf8')).toBe('START WAL LOCATION: 0/2000028\n');
    // Then remove the fake ones so the recovery below sees only the server's own files.
    for (const f of [stored, storedBackup]) {
      rmSync(f);
      rmSync(`${f}.sha256`);
    }
  });

  it('hashes with coreutils sha256sum where openssl is not installed, to the same checksum', async () => {
    // A PATH holding only what the script may use, without openssl.
    const minimal = path.join(work, 'minimal-path');
    mkdirSync(minimal, { recursive: true });
    for (const tool of ['zstd', 'od', 'cp', 'ln', 'mv', 'rm', 'mkdir', 'sync', 'sha256sum']) {
      const real = (await execa('sh', ['-c', `command -v ${tool}`])).stdout.trim();
      copyFileSync(real, path.join(minimal, tool));
      chmodSync(path.join(minimal, tool), 0o755);
    }
    const pgwal = path.join(work, 'nossl', 'pg_wal');
    mkdirSync(pgwal, { recursive: true });
    ownByPostgres(path.dirname(pgwal));
    ownByPostgres(pgwal);
    const name = '000000010000000000000001';
    const first = path.join(segDir(name), `${name}.zst`);
    await execa('zstd', ['-dq', '-o', path.join(pgwal, name), '--', first]);
    ownByPostgres(path.join(pgwal, name));
    const env = { PATH: minimal, LIFEBOAT_WAL_TARGET: 'nossl' };
    const pushed = await wal(['push', `pg_wal/${name}`], { cwd: path.dirname(pgwal), env });
    expect(pushed.stderr).toBe('');
    expect(pushed.exitCode).toBe(0);
    expect(readFileSync(path.join(segDir(name, 'nossl'), `${name}.sha256`), 'utf8')).toBe(`${sha256(path.join(pgwal, name))}  ${name}\n`);
    const fetched = await wal(['fetch', name, path.join(pgwal, 'RECOVERYXLOG')], { cwd: path.dirname(pgwal), env: { ...env, LIFEBOAT_WAL_SYSID: sysid } });
    expect(fetched.stderr).toBe('');
    expect(fetched.exitCode).toBe(0);
    expect(sha256(path.join(pgwal, 'RECOVERYXLOG'))).toBe(sha256(path.join(pgwal, name)));
  });

  it('leaves no complete-looking object when a push is killed mid-way, and a retry archives it', async () => {
    const name = await switchAndWait();
    // Take a copy of a real archived segment, renamed as a later one that is not archived yet.
    const next = `${name.slice(0, 8)}${(BigInt(`0x${name.slice(8)}`) + 0x80n).toString(16).toUpperCase().padStart(16, '0')}`;
    const pgwal = path.join(work, 'killed', 'pg_wal');
    mkdirSync(pgwal, { recursive: true });
    ownByPostgres(path.dirname(pgwal));
    ownByPostgres(pgwal);
    await execa('zstd', ['-dq', '-o', path.join(pgwal, next), '--', path.join(segDir(name), `${name}.zst`)]);
    ownByPostgres(path.join(pgwal, next));
    // A `sync` that hangs: the push stops after its temporary files are written, before anything is named.
    const shims = path.join(work, 'shims');
    mkdirSync(shims, { recursive: true });
    writeFileSync(path.join(shims, 'sync'), '#!/bin/sh\nexec sleep 30\n');
    chmodSync(path.join(shims, 'sync'), 0o755);
    const child = execa(isRoot ? 'runuser' : bin, isRoot ? ['-u', 'postgres', '--', bin, 'push', `pg_wal/${next}`] : ['push', `pg_wal/${next}`], {
      cwd: path.dirname(pgwal),
      env: { LIFEBOAT_WAL_CONFIG: conf, PATH: `${shims}:${process.env.PATH}` },
      reject: false,
      detached: true,
    });
    const dir = segDir(next);
    const deadline = Date.now() + 20_000;
    while (!(existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(`${next}.zst.`) && f.endsWith('.partial')))) {
      if (Date.now() > deadline) throw new Error('the push never wrote its temporary file');
      await sleep(50);
    }
    await sleep(300); // let zstd finish writing; the shim holds the push at its first fsync
    process.kill(-child.pid!, 'SIGKILL');
    await child;
    const left = readdirSync(dir).filter((f) => f.startsWith(next));
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((f) => f.endsWith('.partial'))).toBe(true);
    // Not archived: fetch says so quietly.
    const fetched = await wal(['fetch', next, path.join(work, 'killed', 'RECOVERYXLOG')]);
    expect(fetched.exitCode).toBe(1);
    // PostgreSQL retries: the retry archives it whole.
    const retry = await wal(['push', `pg_wal/${next}`], { cwd: path.dirname(pgwal) });
    expect(retry.stderr).toBe('');
    expect(retry.exitCode).toBe(0);
    expect(readFileSync(path.join(dir, `${next}.sha256`), 'utf8')).toBe(`${sha256(path.join(pgwal, next))}  ${next}\n`);
    // Remove it again: it is not part of this cluster's history.
    for (const f of readdirSync(dir).filter((f) => f.startsWith(next))) rmSync(path.join(dir, f));
  });

  it('fetch exits 1 quickly and quietly for a file not in the archive, and 255 when the archive is not there', async () => {
    const started = Date.now();
    const missing = await wal(['fetch', '0000000100000000000000FE', 'pg_wal/RECOVERYXLOG']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toBe('');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await wal(['fetch', '00000009.history', 'pg_wal/RECOVERYHISTORY'])).exitCode).toBe(1);
    expect(existsSync(path.join(cluster.dataDir, 'pg_wal', 'RECOVERYXLOG'))).toBe(false);
    // An archive root that is not mounted is a configuration error, never "the end of the WAL".
    const unmounted = await wal(['fetch', '0000000100000000000000FE', 'pg_wal/RECOVERYXLOG'], { env: { LIFEBOAT_WAL_ROOT: path.join(work, 'nowhere') } });
    expect(unmounted.exitCode).toBe(255);
    expect(unmounted.stderr).toMatch(/archive root .* is not a folder/);
  });

  it('fetch fails loudly (exit 255) on a damaged object and on a checksum that does not match', async () => {
    const name = await switchAndWait();
    // Damage copies under another target, so the real archive stays intact for the recovery below.
    const src = segDir(name);
    const copy = segDir(name, 'damaged');
    mkdirSync(copy, { recursive: true });
    copyFileSync(path.join(src, `${name}.zst`), path.join(copy, `${name}.zst`));
    copyFileSync(path.join(src, `${name}.sha256`), path.join(copy, `${name}.sha256`));
    for (const p of [path.join(archive, 'damaged'), path.join(archive, 'damaged', '_wal'), path.join(archive, 'damaged', '_wal', sysid), copy]) ownByPostgres(p);
    chmodSync(path.join(copy, `${name}.zst`), 0o644);
    chmodSync(path.join(copy, `${name}.sha256`), 0o644);
    const dest = path.join(work, 'fetch-dest');
    mkdirSync(dest);
    ownByPostgres(dest);
    const env = { LIFEBOAT_WAL_TARGET: 'damaged' };

    const good = await wal(['fetch', name, path.join(dest, 'RECOVERYXLOG')], { env });
    expect(good.exitCode).toBe(0);
    expect(sha256(path.join(dest, 'RECOVERYXLOG'))).toBe(readFileSync(path.join(copy, `${name}.sha256`), 'utf8').split(' ')[0]);
    rmSync(path.join(dest, 'RECOVERYXLOG'));

    const obj = readFileSync(path.join(copy, `${name}.zst`));
    const flipped = Buffer.from(obj);
    flipped[Math.floor(obj.length / 2)] = flipped[Math.floor(obj.length / 2)]! ^ 0x01;
    writeFileSync(path.join(copy, `${name}.zst`), flipped);
    const damaged = await wal(['fetch', name, path.join(dest, 'RECOVERYXLOG')], { env });
    expect(damaged.exitCode).toBe(255);
    expect(damaged.stderr).toContain(`${name}: ${path.join(copy, `${name}.zst`)} is damaged`);
    expect(readdirSync(dest)).toEqual([]); // nothing half-written under %p or beside it

    writeFileSync(path.join(copy, `${name}.zst`), obj);
    writeFileSync(path.join(copy, `${name}.sha256`), `${'0'.repeat(64)}  ${name}\n`);
    const mismatch = await wal(['fetch', name, path.join(dest, 'RECOVERYXLOG')], { env });
    expect(mismatch.exitCode).toBe(255);
    expect(mismatch.stderr).toMatch(/is damaged \(SHA-256 [0-9a-f]{64} differs from the recorded 0{64}\)/);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('prefetches the next segments verified, hands them over by rename, leaves a damaged one to fetch, and clears the spool at the end', async () => {
    for (let i = 0; i < 3; i++) {
      await query(cluster, `INSERT INTO items SELECT g, 'segment ${i}' FROM generate_series(${100_000 + i * 1000}, ${100_999 + i * 1000}) g`);
      await switchAndWait();
    }
    const folder = segDir('0000000100000000');
    const names = readdirSync(folder).filter((f) => /^[0-9A-F]{24}\.zst$/.test(f)).map((f) => f.slice(0, 24)).sort();
    const [a, b, c] = names as [string, string, string];
    expect(BigInt(`0x${c.slice(16)}`) - BigInt(`0x${a.slice(16)}`)).toBe(2n); // three consecutive segments
    // A copy of the archive's first folder under another target, with c damaged.
    const copy = segDir(a, 'prefetch');
    mkdirSync(copy, { recursive: true });
    for (const n of [a, b, c]) for (const ext of ['zst', 'sha256']) copyFileSync(path.join(folder, `${n}.${ext}`), path.join(copy, `${n}.${ext}`));
    const damaged = readFileSync(path.join(copy, `${c}.zst`));
    damaged[Math.floor(damaged.length / 2)] = damaged[Math.floor(damaged.length / 2)]! ^ 0x01;
    writeFileSync(path.join(copy, `${c}.zst`), damaged);
    await execa('chown', ['-R', isRoot ? 'postgres:postgres' : `${process.getuid!()}`, path.join(archive, 'prefetch')]);
    await execa('chmod', ['-R', 'u+rwX', path.join(archive, 'prefetch')]);

    const pgwal = path.join(work, 'prefetch', 'pg_wal');
    mkdirSync(pgwal, { recursive: true });
    ownByPostgres(path.dirname(pgwal));
    ownByPostgres(pgwal);
    const spool = path.join(pgwal, 'lifeboat-prefetch', `prefetch.${sysid}`);
    const env = { LIFEBOAT_WAL_TARGET: 'prefetch', LIFEBOAT_WAL_SYSID: sysid, LIFEBOAT_WAL_PREFETCH: '2' };
    const opts = { cwd: path.dirname(pgwal), env };
    const xlog = path.join(pgwal, 'RECOVERYXLOG');

    expect((await wal(['fetch', a, 'pg_wal/RECOVERYXLOG'], opts)).exitCode).toBe(0);
    const deadline = Date.now() + 15_000;
    while (existsSync(path.join(spool, '.lock')) || !existsSync(path.join(spool, b))) {
      if (Date.now() > deadline) throw new Error(`the prefetcher did not finish: ${existsSync(spool) ? readdirSync(spool).join(', ') : 'no spool'}`);
      await sleep(50);
    }
    // b was verified and spooled; the damaged c was not (nor any temporary file left).
    expect(readdirSync(spool).sort()).toEqual(['.segsize', b]);
    expect(readFileSync(path.join(spool, '.segsize'), 'utf8').trim()).toBe(String(16 * 1024 * 1024));

    const gotB = await wal(['fetch', b, 'pg_wal/RECOVERYXLOG'], opts);
    expect(gotB.exitCode).toBe(0);
    expect(`${sha256(xlog)}  ${b}\n`).toBe(readFileSync(path.join(folder, `${b}.sha256`), 'utf8'));
    expect(existsSync(path.join(spool, b))).toBe(false); // handed over by rename

    // The damaged segment is found by the fetch that needs it, loudly.
    const gotC = await wal(['fetch', c, 'pg_wal/RECOVERYXLOG'], opts);
    expect(gotC.exitCode).toBe(255);
    expect(gotC.stderr).toContain('is damaged');

    // The end of the archive (a segment it does not hold) removes the spool.
    const end = await wal(['fetch', '0000000100000000000000FE', 'pg_wal/RECOVERYXLOG'], opts);
    expect(end.exitCode).toBe(1);
    expect(end.stderr).toBe('');
    expect(existsSync(path.join(pgwal, 'lifeboat-prefetch'))).toBe(false);
  });

  it.each([0, 4])('recovers a base backup through fetch to the newest archived rows (prefetch=%i)', async (prefetch) => {
    baseDir = path.join(work, `restored-${prefetch}`);
    await baseBackup(baseDir);
    // Rows written after the base backup exist only in archived WAL.
    const from = 20001 + prefetch * 10_000;
    await query(cluster, `INSERT INTO items SELECT g, 'after base backup' FROM generate_series(${from}, ${from + 4999}) g`);
    await query(cluster, `DELETE FROM items WHERE id <= ${500 + prefetch * 100}`);
    const expected = (await query<{ n: string; s: string }>(cluster, "SELECT count(*)::text AS n, md5(string_agg(id::text || body, ',' ORDER BY id)) AS s FROM items"))[0]!;
    await switchAndWait();
    // The backup history file, as written by the server, was archived beside its segment.
    const backupFiles = readdirSync(path.join(archive, 'orders-prod', '_wal', sysid), { recursive: true }).map(String).filter((f) => f.endsWith('.backup'));
    expect(backupFiles.length).toBeGreaterThanOrEqual(1);

    writeRecovery(baseDir, `LIFEBOAT_WAL_CONFIG=${conf} LIFEBOAT_WAL_PREFETCH=${prefetch} ${bin} fetch %f %p`);
    await restored?.remove();
    restored = await startCluster({ dataDir: baseDir, binDir: cluster.binDir, settings: { archive_mode: 'off', fsync: 'off' } });
    expect(restored.port).not.toBe(cluster.port);
    const deadline = Date.now() + 30_000;
    while ((await query<{ r: boolean }>(restored, 'SELECT pg_is_in_recovery() AS r'))[0]!.r) {
      if (Date.now() > deadline) throw new Error('the restored cluster did not finish recovery in 30 s');
      await sleep(200);
    }
    const got = (await query<{ n: string; s: string }>(restored, "SELECT count(*)::text AS n, md5(string_agg(id::text || body, ',' ORDER BY id)) AS s FROM items"))[0]!;
    expect(got).toEqual(expected);
    expect(Number(got.n)).toBeGreaterThan(20_000);
    const log = readFileSync(`${baseDir}.log`, 'utf8');
    expect(log).toMatch(/restored log file "[0-9A-F]{24}" from archive/);
    expect(log).toContain('archive recovery complete');
    // Recovery ended on a segment the archive does not hold, which cleared the prefetch spool.
    const leftover = path.join(baseDir, 'pg_wal', 'lifeboat-prefetch');
    expect(existsSync(leftover) ? readdirSync(leftover, { recursive: true }) : 'none').toBe('none');
  });

  it('stops recovery (FATAL, no promotion) at a damaged segment instead of ending it there', async () => {
    const dir = path.join(work, 'restored-damaged');
    await baseBackup(dir);
    await query(cluster, "INSERT INTO items SELECT g, 'after second base backup' FROM generate_series(30001, 31000) g");
    const name = await switchAndWait();
    // A copy of the archive under another target, with the last segment damaged.
    await execa('cp', ['-a', path.join(archive, 'orders-prod'), path.join(archive, 'broken')]);
    const obj = path.join(segDir(name, 'broken'), `${name}.zst`);
    const bytes = readFileSync(obj);
    bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0x01;
    writeFileSync(obj, bytes);
    writeRecovery(dir, `LIFEBOAT_WAL_CONFIG=${conf} LIFEBOAT_WAL_TARGET=broken ${bin} fetch %f %p`);

    let started: RunningCluster | undefined;
    try {
      // It may accept connections once consistent, before it reaches the damaged segment; or never.
      started = await startCluster({ dataDir: dir, binDir: cluster.binDir, settings: { archive_mode: 'off', fsync: 'off' } }).catch(() => undefined);
      const log = () => readFileSync(`${dir}.log`, 'utf8');
      const deadline = Date.now() + 30_000;
      while (!/could not restore file .* from archive/.test(log())) {
        if (Date.now() > deadline) throw new Error(`no restore failure in the log:\n${log().slice(-2000)}`);
        await sleep(200);
      }
      expect(log()).toContain(`lifeboat-wal: ${name}: ${obj} is damaged`);
      expect(log()).toMatch(new RegExp(`FATAL: .*could not restore file "${name}" from archive: child process exited with exit code 255`));
      expect(log()).not.toContain('archive recovery complete');
      expect(log()).not.toContain('selected new timeline ID');
      expect(existsSync(path.join(dir, 'recovery.signal'))).toBe(true);
    } finally {
      await started?.stop('immediate').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
