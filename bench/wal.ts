// npm run bench:wal: about 1 GB of pgbench WAL (BENCH_WAL_MB) archived segment by segment, one process a
// segment as PostgreSQL's archiver does, through wal/lifeboat-wal push and through pgBackRest's archive-push
// (compress-type=zst, the same level), alternating rounds with fresh archives; then the same WAL replayed in a
// recovery from a base backup through lifeboat-wal fetch and through a plain `cp` restore_command.
// Last line: bench:wal push_vs_pgbackrest=X replay_vs_cp=Y replay_mb_s=Z
//   push_vs_pgbackrest: segments per second, Lifeboat / pgBackRest (median of rounds); goal >= 1.0
//   replay_vs_cp: replay time with cp / with lifeboat-wal fetch; goal >= 0.8
//   replay_mb_s: WAL replayed through lifeboat-wal fetch, MB per second of recovery
// Settings: BENCH_WAL_MB (1024), BENCH_ROUNDS (2), BENCH_ZSTD_LEVEL (1, both tools), BENCH_WAL_PREFETCH (8).
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import pg from 'pg';
import { createThrowawayCluster, startCluster, type RunningCluster } from '../scripts/lib/cluster';
import { pgCtlStart } from '../worker/pg/pg-ctl';
import { say, showStats, stats } from './harness';

const walMb = Number(process.env.BENCH_WAL_MB ?? 1024);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const level = process.env.BENCH_ZSTD_LEVEL ?? '1';
const prefetch = process.env.BENCH_WAL_PREFETCH ?? '8'; // lifeboat-wal fetch's prefetch= for the replay
const SCRIPT = fileURLToPath(new URL('../wal/lifeboat-wal', import.meta.url));
const isRoot = process.getuid?.() === 0;
const never = new AbortController().signal;
const SEGMENT = /^[0-9A-F]{24}$/;

function postgresIds(): { uid: number; gid: number } | undefined {
  if (!isRoot) return undefined;
  const m = /^postgres:[^:]*:(\d+):(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'));
  if (!m) throw new Error('running as root but there is no postgres OS user');
  return { uid: Number(m[1]), gid: Number(m[2]) };
}
const ids = postgresIds();
const own = (p: string) => ids && chownSync(p, ids.uid, ids.gid);
function mkdirOwned(p: string) {
  mkdirSync(p, { recursive: true, mode: 0o755 });
  own(p);
  return p;
}
/** As the postgres OS user, as PostgreSQL runs archive and restore commands. */
function asPostgres(exe: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  return execa(isRoot ? 'runuser' : exe, isRoot ? ['-u', 'postgres', '--', exe, ...args] : args, { cwd: opts.cwd ?? '/', env: opts.env, reject: false });
}
async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const du = async (dir: string) => Number((await execa('du', ['-sb', dir])).stdout.split('\t')[0]);

async function main() {
  const work = await mkdtemp(join(tmpdir(), 'lifeboat-bench-wal-'));
  chmodSync(work, 0o755);
  const bin = join(mkdirOwned(join(work, 'bin')), 'lifeboat-wal');
  copyFileSync(SCRIPT, bin);
  chmodSync(bin, 0o755);
  const corpus = mkdirOwned(join(work, 'corpus'));
  const sock = mkdirOwned(join(work, 'sock'));
  let source: RunningCluster | undefined;
  const restored: RunningCluster[] = [];
  try {
    // The source cluster: archive_command copies every segment into the corpus; a unix socket for pgBackRest.
    source = await createThrowawayCluster();
    await source.stop();
    const settings = {
      port: String(source.port),
      listen_addresses: '127.0.0.1',
      unix_socket_directories: sock,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'on', // as on a production server: pgbench WAL with full-page images
      max_wal_size: '2GB',
      archive_mode: 'on',
      archive_command: `test ! -f ${corpus}/%f && cp %p ${corpus}/%f`,
    };
    const started = await pgCtlStart(source.binDir, { dataDir: source.dataDir, logFile: `${source.dataDir}.log`, settings, timeoutSeconds: 60 }, never);
    if (started.exitCode !== 0) throw new Error(`restart of the source cluster failed: ${started.output}`);
    const url = source.url();
    const pgbench = join(source.binDir, 'pgbench');
    const conn = ['-h', '127.0.0.1', '-p', String(source.port), '-U', 'postgres'];

    say(`pgbench -i -s 10, base backup (-X none), then pgbench until ${walMb} MB of WAL`);
    await execa(pgbench, ['-i', '-q', '-s', '10', ...conn, 'postgres']);
    const base = mkdirOwned(join(work, 'base'));
    chmodSync(base, 0o700);
    const bb = await asPostgres(join(source.binDir, 'pg_basebackup'), [...conn, '-D', base, '-Fp', '-X', 'none', '-c', 'fast', '--no-sync']);
    if (bb.exitCode !== 0) throw new Error(`pg_basebackup failed: ${bb.stderr}`);
    const [{ lsn: startLsn }] = (await query<{ lsn: string }>(url, 'SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
    for (;;) {
      const [row] = await query<{ mb: string }>(url, `SELECT (pg_wal_lsn_diff(pg_current_wal_lsn(), '${startLsn}') / 1048576)::int::text AS mb`);
      if (Number(row!.mb) >= walMb) break;
      await execa(pgbench, ['-n', '-c', '2', '-j', '2', '-t', '2000', ...conn, 'postgres']);
    }
    const [end] = await query<{ name: string; bytes: string }>(
      url,
      `SELECT pg_walfile_name(pg_switch_wal()) AS name, pg_wal_lsn_diff(pg_current_wal_lsn(), '${startLsn}')::bigint::text AS bytes`,
    );
    const replayBytes = Number(end!.bytes);
    for (;;) {
      const [s] = await query<{ last: string | null }>(url, 'SELECT last_archived_wal AS last FROM pg_stat_archiver');
      if (s!.last !== null && s!.last >= end!.name) break;
      await sleep(200);
    }
    const segments = readdirSync(corpus).filter((f) => SEGMENT.test(f)).sort();
    say(`${segments.length} segments (${((segments.length * 16) / 1024).toFixed(2)} GB) in the corpus; ${(replayBytes / 1048576).toFixed(0)} MB of WAL after the base backup`);

    // pgBackRest needs a stanza per repository, made while the cluster runs; one fresh repository per round.
    const pgbrConf = (r: number) => join(work, `pgbackrest-${r}.conf`);
    for (let r = 0; r < rounds; r++) {
      const repo = mkdirOwned(join(work, `pgbr-repo-${r}`));
      writeFileSync(
        pgbrConf(r),
        [
          '[global]',
          `repo1-path=${repo}`,
          'compress-type=zst',
          `compress-level=${level}`,
          'log-level-console=warn',
          'log-level-stderr=warn',
          'log-level-file=off',
          `lock-path=${mkdirOwned(join(work, 'pgbr-lock'))}`,
          `spool-path=${mkdirOwned(join(work, 'pgbr-spool'))}`,
          '[bench]',
          `pg1-path=${source.dataDir}`,
          `pg1-port=${source.port}`,
          `pg1-socket-path=${sock}`,
          'pg1-user=postgres',
          '',
        ].join('\n'),
      );
      chmodSync(pgbrConf(r), 0o644);
      const sc = await asPostgres('pgbackrest', [`--config=${pgbrConf(r)}`, '--stanza=bench', 'stanza-create']);
      if (sc.exitCode !== 0) throw new Error(`pgbackrest stanza-create failed: ${sc.stderr}${sc.stdout}`);
    }
    // The pushes read the segments, not the server: stop it so it does not compete for the two cores.
    await source.stop();

    // Push: one process per segment, in order, as PostgreSQL's archiver runs archive_command.
    type Tool = 'lifeboat' | 'pgbackrest';
    const rate: Record<Tool, number[]> = { lifeboat: [], pgbackrest: [] };
    const size: Record<Tool, number> = { lifeboat: 0, pgbackrest: 0 };
    const lbArchive = (r: number) => join(work, `lb-archive-${r}`);
    for (let r = 0; r < rounds; r++) {
      const order: Tool[] = r % 2 === 0 ? ['lifeboat', 'pgbackrest'] : ['pgbackrest', 'lifeboat'];
      for (const tool of order) {
        const env = tool === 'lifeboat' ? { LIFEBOAT_WAL_ROOT: mkdirOwned(lbArchive(r)), LIFEBOAT_WAL_TARGET: 'bench', LIFEBOAT_WAL_LEVEL: level, LIFEBOAT_WAL_CONFIG: '/nonexistent' } : undefined;
        const t0 = performance.now();
        for (const seg of segments) {
          const res =
            tool === 'lifeboat'
              ? await asPostgres(bin, ['push', join(corpus, seg)], { env, cwd: source.dataDir })
              : await asPostgres('pgbackrest', [`--config=${pgbrConf(r)}`, '--stanza=bench', 'archive-push', join(corpus, seg)], { cwd: source.dataDir });
          if (res.exitCode !== 0) throw new Error(`${tool} push of ${seg} failed (exit ${res.exitCode}): ${res.stderr}${res.stdout}`);
        }
        const secs = (performance.now() - t0) / 1000;
        rate[tool].push(segments.length / secs);
        size[tool] = await du(tool === 'lifeboat' ? lbArchive(r) : join(work, `pgbr-repo-${r}`));
        say(`round ${r + 1} ${tool}: ${secs.toFixed(2)} s, ${(segments.length / secs).toFixed(2)} segments/s, archive ${(size[tool] / 1048576).toFixed(0)} MB`);
      }
    }

    // Replay: the base backup recovered to the end of the WAL, restore_command through fetch or cp.
    const replaySecs: Record<'fetch' | 'cp', number> = { fetch: 0, cp: 0 };
    for (const variant of ['fetch', 'cp'] as const) {
      const dir = join(work, `replay-${variant}`);
      await execa('cp', ['-a', base, dir]);
      const restore =
        variant === 'fetch'
          ? `LIFEBOAT_WAL_CONFIG=/nonexistent LIFEBOAT_WAL_ROOT=${lbArchive(rounds - 1)} LIFEBOAT_WAL_TARGET=bench LIFEBOAT_WAL_PREFETCH=${prefetch} ${bin} fetch %f %p`
          : `cp ${corpus}/%f %p`;
      writeFileSync(join(dir, 'recovery.signal'), '');
      own(join(dir, 'recovery.signal'));
      writeFileSync(join(dir, 'postgresql.auto.conf'), `${readFileSync(join(dir, 'postgresql.auto.conf'), 'utf8')}\nrestore_command = '${restore}'\n`);
      const t0 = performance.now();
      const c = await startCluster({ dataDir: dir, binDir: source.binDir, settings: { fsync: 'off', archive_mode: 'off', max_wal_size: '2GB' } });
      restored.push(c);
      while ((await query<{ r: boolean }>(c.url(), 'SELECT pg_is_in_recovery() AS r'))[0]!.r) await sleep(100);
      replaySecs[variant] = (performance.now() - t0) / 1000;
      const log = readFileSync(`${dir}.log`, 'utf8');
      const fetched = (log.match(/restored log file "[0-9A-F]{24}" from archive/g) ?? []).length;
      say(`replay through ${variant}${variant === 'fetch' ? ` (prefetch=${prefetch})` : ''}: ${replaySecs[variant].toFixed(2)} s, ${fetched} segments restored`);
      await c.remove();
      restored.pop();
    }

    const push = stats(rate.lifeboat).median / stats(rate.pgbackrest).median;
    say(`push segments/s: lifeboat ${showStats(stats(rate.lifeboat))}, pgBackRest ${showStats(stats(rate.pgbackrest))}`);
    say(`archive size: lifeboat ${(size.lifeboat / 1048576).toFixed(0)} MB, pgBackRest ${(size.pgbackrest / 1048576).toFixed(0)} MB (zstd level ${level})`);
    const replayVsCp = replaySecs.cp / replaySecs.fetch;
    const mbs = replayBytes / 1048576 / replaySecs.fetch;
    console.log(`bench:wal push_vs_pgbackrest=${push.toFixed(2)} replay_vs_cp=${replayVsCp.toFixed(2)} replay_mb_s=${mbs.toFixed(1)}`);
  } finally {
    for (const c of restored) await c.remove().catch(() => {});
    await source?.remove().catch(() => {});
    if (existsSync(work)) await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
