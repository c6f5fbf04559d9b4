// Replacing production in place, and what every replace must carry: a file cut short refused before production is
// dropped, an honest account after the drop, no cancel past the point of no return, production closed to clients
// until the checked copy takes its name, database properties through a swap, hooks without the worker's secrets and
// with a time limit, a swap over a production that is gone, one side-database name from preflight to restore, the
// kept copy's size after a rollback, and drills that use only the target's own backups.
import { copyFileSync, readFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { seedDemoDatabase } from '../../scripts/lib/seed';
import { sql, waitFor } from '../helpers/db';
import { sha256File, tableChecksums } from '../helpers/backups';
import {
  backupNow,
  databaseExists,
  databases,
  databaseSnapshot,
  makeTarget,
  recordDatabaseProperties,
  restoreAndWait,
  restoreInput,
  targetJobAndWait,
  why,
  useProtectedTarget,
} from '../helpers/restores';
import { startRestore } from '../../lib/restores/start-restore';
import { cancelJob } from '../../lib/jobs/cancel-job';
import { keptCopies, listDrills } from '../../lib/restores/restore-history';

let atBackup: Record<string, string>;

const PROD = 'eitherway';
const prodUrl = () => fx.cluster.url(PROD);
const inPlace = { mode: 'replace', method: 'in-place' } as const;
const swap = { mode: 'replace', method: 'swap' } as const;

const fx = useProtectedTarget(
  'lifeboat_restores_inplace',
  { password: true, seed: PROD, timeoutMs: 120_000 },
  { name: PROD, database: PROD, workerEnv: { LIFEBOAT_HOOK_TIMEOUT_SECONDS: '3' } },
  {
    // A table whose CHECK sleeps per row keeps pg_restore busy for a few seconds (long enough to watch and to cancel).
    before: async () => {
      await sql(
        prodUrl(),
        `CREATE FUNCTION public.slow_ok(x int) RETURNS boolean LANGUAGE sql AS 'SELECT true';
         CREATE TABLE public.slow (x int CHECK (public.slow_ok(x)));
         INSERT INTO public.slow SELECT generate_series(1, 1500);
         CREATE OR REPLACE FUNCTION public.slow_ok(x int) RETURNS boolean LANGUAGE sql AS 'SELECT pg_sleep(0.002) IS NOT NULL';`,
      );
    },
    after: async () => {
      atBackup = await tableChecksums(prodUrl());
    },
  },
);

const sideCopies = async () => (await databases(fx.cluster)).filter((d) => /_restore_\d{8}t\d{6}z$/.test(d) && !d.includes('_before_restore_'));

describe('in place: the file is read to its end before production is dropped', () => {
  it('refuses an archive cut short inside a valid zstd stream (catalog checksum matching) before anything is dropped', async () => {
    const file = path.join(fx.storageDir, fx.backup.backup_file);
    const original = path.join(fx.stack.tempDir('lifeboat-orig-'), 'original');
    copyFileSync(file, original);
    const inner = path.join(fx.stack.tempDir('lifeboat-cut-'), 'cut.dump');
    try {
      // The dump itself is cut in half, then compressed again: zstd is happy, the table of contents still lists.
      await execa('zstd', ['-d', '-q', '-f', file, '-o', inner]);
      truncateSync(inner, Math.floor(readFileSync(inner).length / 2));
      await execa('zstd', ['-q', '-f', inner, '-o', file]);
      await sql(fx.stack.url, 'UPDATE backup_log SET checksum_sha256 = $2 WHERE id = $1', [fx.backup.id, await sha256File(file)]);
      const dbs = await databases(fx.cluster);

      // The in-place preflight reads it to its end as well.
      const pf = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, fx.backup.id, inPlace, { preflightOnly: true });
      expect(pf.status, why(pf)).toBe('failed');
      expect(pf.error_code).toBe('BACKUP_UNREADABLE');
      const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, fx.backup.id, inPlace, { confirm: PROD });
      expect(job.status, why(job)).toBe('failed');
      expect(job.error_code, why(job)).toBe('BACKUP_UNREADABLE');
      expect(job.error_message).toContain(`Production "${PROD}" was not dropped or renamed (checked: it is still there).`);
      expect(await tableChecksums(prodUrl())).toEqual(atBackup);
      expect(await databases(fx.cluster)).toEqual(dbs);
    } finally {
      copyFileSync(original, file);
      await sql(fx.stack.url, 'UPDATE backup_log SET checksum_sha256 = $2 WHERE id = $1', [fx.backup.id, fx.backup.checksum_sha256]);
    }
  }, 60_000);

  it('after the drop, a failure says production is gone, where the restored copy is, and which backup to restore', async () => {
    // The copy will not match what the backup recorded (one user fewer recorded): its checks fail after the drop.
    await sql(fx.stack.url, `UPDATE backup_log SET key_table_counts = jsonb_set(key_table_counts, '{core.users}', '499') WHERE id = $1`, [fx.backup.id]);
    try {
      const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, fx.backup.id, inPlace, { confirm: PROD });
      expect(job.status, why(job)).toBe('failed');
      expect(job.error_code, why(job)).toBe('CHECKS_FAILED');
      const [copy] = await sideCopies();
      expect(copy, `databases: ${(await databases(fx.cluster)).join(', ')}`).toMatch(new RegExp(`^${PROD}_restore_`));
      expect(job.error_message).toContain(`Production "${PROD}" does not exist now: this in-place restore dropped it at`);
      expect(job.error_message).toContain(`The restored copy is whole and kept as "${copy}"`);
      expect(job.error_message).not.toMatch(/not touched/);
      expect(job.error_hint).toContain(`backup #${fx.backup.id}`);
      expect(job.error_hint).not.toMatch(/not touched/);
      expect(await databaseExists(fx.cluster, PROD)).toBe(false);
      expect(await tableChecksums(fx.cluster.url(copy!))).toEqual(atBackup);
      // As the message says: the kept copy can be put in place by hand.
      await sql(fx.cluster.url('postgres'), `ALTER DATABASE "${copy}" RENAME TO "${PROD}"`);
    } finally {
      await sql(fx.stack.url, `UPDATE backup_log SET key_table_counts = jsonb_set(key_table_counts, '{core.users}', '500') WHERE id = $1`, [fx.backup.id]);
    }
    expect(await tableChecksums(prodUrl())).toEqual(atBackup);
  }, 60_000);
});

describe('in place: past the drop', () => {
  it('a cancel asked after production was dropped does not stop the restore: it finishes and production has its rows', async () => {
    const { id } = await startRestore(fx.stack.admin, restoreInput(fx.backup.id, inPlace, { confirm: PROD }), null);
    await waitFor('the restore to drop production and start pg_restore', async () => (await fx.stack.job(id))?.step?.startsWith('restoring into'), 60_000, 25);
    expect(await databaseExists(fx.cluster, PROD)).toBe(false);
    // The point of no return is on the job row: the cancel is refused and says why (item 2).
    await expect(cancelJob(fx.stack.admin, id, null)).rejects.toMatchObject({ code: 'JOB_PAST_POINT_OF_NO_RETURN' });
    const job = await fx.stack.waitJob(id, undefined, 60_000, fx.worker);
    expect(job.status, why(job)).toBe('succeeded');
    expect(await tableChecksums(prodUrl())).toEqual(atBackup);
    expect(await sideCopies()).toEqual([]);
  }, 90_000);

  it('keeps production closed: a client connecting every 25 ms sees it whole before, then absent, then whole and checked', async () => {
    await sql(prodUrl(), 'DELETE FROM core.users WHERE id <= 10');
    const count = async (c: pg.Client) =>
      (await c.query<{ u: string; s: string; sl: string }>('SELECT (SELECT count(*) FROM core.users) u, (SELECT count(*) FROM core.sessions) s, (SELECT count(*) FROM public.slow) sl')).rows[0]!;
    const probe = new pg.Client({ connectionString: prodUrl() });
    await probe.connect();
    const before = JSON.stringify(await count(probe));
    await probe.end();
    const after = JSON.stringify({ u: '500', s: '2000', sl: '1500' });

    const seen: string[] = [];
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        const c = new pg.Client({ connectionString: prodUrl(), connectionTimeoutMillis: 2000 });
        c.on('error', () => {});
        try {
          await c.connect();
          seen.push(JSON.stringify(await count(c)));
        } catch (err) {
          const e = err as Error & { code?: string };
          seen.push(`error ${e.code ?? ''} ${e.message}`);
        } finally {
          await c.end().catch(() => {});
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, fx.backup.id, inPlace, { confirm: PROD, timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await loop;
    expect(job.status, why(job)).toBe('succeeded');

    // Only the whole database as it was, "does not exist" / "not accepting connections" / "terminated", and the restored one.
    const allowed = (x: string) => x === before || x === after || /^error (3D000|55000|57P01) /.test(x) || /^error .*(terminat|timeout expired)/i.test(x);
    expect(seen.filter((x) => !allowed(x)), `a client saw production partial: ${[...new Set(seen)].join(' | ')}`).toEqual([]);
    expect(seen.filter((x) => x.startsWith('error 3D000')).length).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(after);
    // Once the restored copy answered, it stayed (it took production's name after its checks).
    expect(seen.slice(seen.indexOf(after)).every((x) => x === after)).toBe(true);
    expect(await tableChecksums(prodUrl())).toEqual(atBackup);
  }, 90_000);
});

describe('database properties', () => {
  it('a swap carries the owner, privileges, settings, role settings, comment and connection limit; the preflight shows them', async () => {
    await sql(
      fx.cluster.url('postgres'),
      `CREATE ROLE app_owner; CREATE ROLE reader LOGIN;
       ALTER DATABASE ${PROD} OWNER TO app_owner;
       REVOKE CONNECT ON DATABASE ${PROD} FROM PUBLIC;
       GRANT CONNECT ON DATABASE ${PROD} TO reader;
       ALTER DATABASE ${PROD} SET work_mem = '8MB';
       ALTER DATABASE ${PROD} SET search_path = core, public;
       ALTER ROLE reader IN DATABASE ${PROD} SET statement_timeout = '5s';
       COMMENT ON DATABASE ${PROD} IS 'the shop''s database';
       ALTER DATABASE ${PROD} CONNECTION LIMIT 50;`,
    );
    const before = await databaseSnapshot(fx.cluster, PROD);
    expect(before.owner).toBe('app_owner');

    // A backup without recorded properties (taken before they were recorded) says so in its preflight.
    await sql(fx.stack.url, "UPDATE backup_log SET manifest = manifest - 'databaseProperties' WHERE id = $1", [fx.backup.id]);
    const old = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, fx.backup.id, swap, { preflightOnly: true });
    expect((old.result as { databaseProperties: { summary: string } }).databaseProperties.summary).toBe('database properties not recorded in this backup');

    const b = await backupNow(fx.stack, fx.worker, fx.targetId);
    await recordDatabaseProperties(fx.stack.url, b.id, fx.cluster, PROD);
    const pf = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, b.id, swap, { preflightOnly: true });
    expect(pf.status, why(pf)).toBe('succeeded');
    expect((pf.result as { databaseProperties: { summary: string } }).databaseProperties.summary).toMatch(/^owner app_owner; privileges: .*CONNECT to reader.*; settings: .*work_mem=8MB.*reader in db: statement_timeout=5s.*; comment "the shop's database"; connection limit 50$/);

    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, b.id, swap, { confirm: PROD, timeoutMs: 60_000 });
    expect(job.status, why(job)).toBe('succeeded');
    expect(await databaseSnapshot(fx.cluster, PROD)).toEqual(before);
  }, 120_000);
});

describe('hooks', () => {
  it('run with a minimal environment, not as root, and their output is in the result, not the log', async () => {
    await sql(fx.stack.url, "UPDATE targets SET pre_restore_hook = 'env; id -u', post_restore_hook = 'echo post-ran' WHERE id = $1", [fx.targetId]);
    try {
      const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, fx.backup.id, swap, { confirm: PROD, timeoutMs: 60_000 });
      expect(job.status, why(job)).toBe('succeeded');
      const hooks = (job.result as { hooks?: { pre?: { output: string; exitCode: number; ms: number }; post?: { output: string } } }).hooks;
      expect(hooks?.pre, JSON.stringify(job.result)).toBeDefined();
      const out = hooks!.pre!.output;
      for (const secret of ['DATABASE_URL', 'NEXTAUTH_SECRET', 'LIFEBOAT_MASTER_KEY', 'PGPASSWORD', 'PGPASSFILE']) expect(out).not.toContain(secret);
      expect(out).toContain(`LIFEBOAT_DATABASE=${PROD}`);
      expect(out).toContain('LIFEBOAT_HOOK=pre-restore');
      const uid = out.trim().split('\n').at(-1);
      expect(uid).toMatch(/^\d+$/);
      expect(uid).not.toBe('0');
      expect(hooks!.pre!.exitCode).toBe(0);
      expect(hooks!.post!.output.trim()).toBe('post-ran');
      expect((await fx.stack.logLines(job.id)).filter((l) => l.includes('LIFEBOAT_DATABASE=') || l.includes('post-ran') || l.includes('id -u'))).toEqual([]);
    } finally {
      await sql(fx.stack.url, 'UPDATE targets SET pre_restore_hook = NULL, post_restore_hook = NULL WHERE id = $1', [fx.targetId]);
    }
  }, 90_000);

  it('a hook that runs past its limit fails the restore with HOOK_FAILED within seconds, production untouched', async () => {
    await sql(fx.stack.url, "UPDATE targets SET pre_restore_hook = 'sleep 60' WHERE id = $1", [fx.targetId]);
    try {
      const sums = await tableChecksums(prodUrl());
      const t0 = Date.now();
      const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, fx.backup.id, swap, { confirm: PROD, timeoutMs: 40_000 });
      const took = Date.now() - t0;
      expect(job.status, why(job)).toBe('failed');
      expect(job.error_code).toBe('HOOK_FAILED');
      expect(job.error_message).toContain('ran longer than its limit of 3 s');
      expect(job.error_message).not.toContain('sleep');
      // The restore itself takes a few seconds (the slow table); the hook adds its 3 s limit, not its 60 s.
      expect(took).toBeLessThan(30_000);
      expect(await tableChecksums(prodUrl())).toEqual(sums);
      expect(await sideCopies()).toEqual([]);
    } finally {
      await sql(fx.stack.url, 'UPDATE targets SET pre_restore_hook = NULL WHERE id = $1', [fx.targetId]);
    }
  }, 60_000);
});

describe('names and sizes', () => {
  it('the side database the preflight names is the one the restore uses', async () => {
    const pf = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, fx.backup.id, swap, { preflightOnly: true });
    expect(pf.status, why(pf)).toBe('succeeded');
    const side = (pf.result as { destination: { database: string } }).destination.database;
    expect(side).toMatch(new RegExp(`^${PROD}_restore_\\d{8}t\\d{6}z$`));
    await new Promise((r) => setTimeout(r, 1100)); // a later stamp would be another name
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, fx.backup.id, swap, { confirm: PROD, sideDatabase: side, timeoutMs: 60_000 });
    expect(job.status, why(job)).toBe('succeeded');
    expect(await fx.stack.logLines(job.id)).toContain(`step: restoring into "${side}"`);
  }, 90_000);

  it('a rollback records the size of the copy it sets aside', async () => {
    const [kept] = await keptCopies(fx.targetId);
    expect(kept?.database).toMatch(/_before_restore_/);
    const rb = await targetJobAndWait(fx.stack, fx.worker, fx.stack.admin, 'rollback', fx.targetId, { keptDatabase: kept!.database });
    expect(rb.status, why(rb)).toBe('succeeded');
    const r = rb.result as { keptCopy: string; keptCopySize: number };
    expect(r.keptCopySize).toBeGreaterThan(1_000_000);
    expect((await keptCopies(fx.targetId)).find((c) => c.database === r.keptCopy)?.sizeBytes).toBe(r.keptCopySize);
  }, 60_000);

  it('a swap over a production database that no longer exists reports no kept copy', async () => {
    await seedDemoDatabase(fx.cluster.url('postgres'), 'gone', 20);
    const t = await makeTarget(fx.stack, { name: 'gone', database: 'gone', storageId: fx.storageId });
    const b = await backupNow(fx.stack, fx.worker, t.id);
    await sql(fx.cluster.url('postgres'), 'DROP DATABASE gone');
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, b.id, swap, { confirm: 'gone' });
    expect(job.status, why(job)).toBe('succeeded');
    expect((job.result as { keptCopy: string | null }).keptCopy).toBeNull();
    expect((await fx.stack.logLines(job.id)).filter((l) => /kept as/.test(l))).toEqual([]);
    expect(await keptCopies(t.id)).toEqual([]);
    expect((await databases(fx.cluster)).filter((d) => d.startsWith('gone_'))).toEqual([]);
  }, 60_000);
});

describe('drills', () => {
  it("use the target's own backups of its database, never a newer upload of another database", async () => {
    const [own] = await sql<{ id: string }>(fx.stack.url, "SELECT id::text FROM backup_log WHERE target_id = $1 AND backup_type = 'logical' AND status = 'succeeded' ORDER BY created_at DESC LIMIT 1", [fx.targetId]);
    const [upload] = await sql<{ id: string }>(
      fx.stack.url,
      `INSERT INTO backup_log (backup_type, backup_file, backup_size, status, target_id, database_name, checksum_sha256, location, format, storage_id, manifest, created_at, finished_at)
       SELECT 'uploaded', backup_file, backup_size, 'succeeded', target_id, 'some_other_db', checksum_sha256, location, format, storage_id, '{"uploaded": true}'::jsonb, now() + interval '1 minute', now()
         FROM backup_log WHERE id = $1 RETURNING id::text`,
      [own!.id],
    );
    try {
      const job = await targetJobAndWait(fx.stack, fx.worker, fx.stack.operator, 'drill', fx.targetId);
      expect(job.status, why(job)).toBe('succeeded');
      const [d] = await listDrills(fx.targetId);
      expect(String(d!.backupId)).toBe(own!.id);
      expect(String(d!.backupId)).not.toBe(upload!.id);
    } finally {
      await sql(fx.stack.url, 'DELETE FROM backup_log WHERE id = $1', [upload!.id]);
    }
  }, 60_000);
});

