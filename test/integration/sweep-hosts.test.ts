// Files belong to a host: a worker's crash sweep fails a dead worker's jobs wherever it ran, but removes (and marks
// removed) only the partial files and passfile folders of jobs that ran on its own host. Retention deletes a backup
// from the storage that holds it, not the target's current one, and records as deleted only what it deleted.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sql, waitFor } from '../helpers/db';
import { exitWithin, killGroup, listFiles, type Spawned, useStack } from '../helpers/backups';
import { backupNow } from '../helpers/restores';
import { createSchedule } from '../../lib/schedules/manage-schedules';
import { updateTarget } from '../../lib/targets/manage-targets';
import { applyRetention } from '../../lib/backups/apply-retention';
import { parseEnv } from '../../lib/env';


const fx = useStack('lifeboat_sweep_hosts', {}, async ({ cluster }) => {
  await sql(cluster.url('postgres'), 'CREATE DATABASE shop');
  await sql(cluster.url('shop'), `CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 500) i;`);
});

async function stopWorker(w: Spawned) {
  killGroup(w.child, 'SIGTERM');
  await exitWithin(w.child, 10_000);
}

describe('the crash sweep', () => {
  it('a worker on another host fails the dead job but leaves its files; a worker on its host removes them', async () => {
    // A worker of host-a that died mid-job: its row silent for minutes, its job running with a partial file and a passfile folder.
    const deadWorker = randomUUID();
    await sql(fx.stack.url, `INSERT INTO workers (id, host, pid, version, pool, last_seen_at) VALUES ($1, 'host-a', 999999, 'test', 'default', now() - interval '10 minutes')`, [deadWorker]);
    const dir = fx.stack.tempDir('lifeboat-host-a-');
    const partial = path.join(dir, 'shop.dump.zst.partial');
    const passDir = path.join(dir, 'lifeboat-pass-x');
    writeFileSync(partial, 'half a backup');
    mkdirSync(passDir);
    writeFileSync(path.join(passDir, 'pgpass'), '*:*:*:postgres:secret\n');
    const job = randomUUID();
    await sql(
      fx.stack.url,
      `INSERT INTO jobs (id, kind, queue, status, payload, worker_id, started_at, partial_paths) VALUES ($1, 'ping', 'ping', 'running', '{"seconds":1}', $2, now(), ARRAY[$3, $4])`,
      [job, deadWorker, partial, passDir],
    );

    // host-b boots: the job is failed (its worker is gone), the files are not its to touch.
    const b = fx.stack.spawnWorker({ LIFEBOAT_WORKER_HOST: 'host-b' });
    await fx.stack.workerReady(b);
    const [swept] = await sql<{ status: string; error_code: string; partial_paths: string[] }>(fx.stack.url, 'SELECT status, error_code, partial_paths FROM jobs WHERE id = $1', [job]);
    expect(swept).toEqual({ status: 'failed', error_code: 'WORKER_LOST', partial_paths: [partial, passDir] });
    expect(existsSync(partial)).toBe(true);
    expect(existsSync(path.join(passDir, 'pgpass'))).toBe(true);
    const [row] = await sql<{ host: string }>(fx.stack.url, 'SELECT host FROM workers WHERE pid = $1', [b.child.pid]);
    expect(row!.host).toBe('host-b');
    await stopWorker(b);

    // host-a comes back: its sweep removes them and only then clears the list.
    const a = fx.stack.spawnWorker({ LIFEBOAT_WORKER_HOST: 'host-a' });
    await fx.stack.workerReady(a);
    await waitFor('host-a to clean its files', async () => (await sql<{ n: number }>(fx.stack.url, 'SELECT cardinality(partial_paths) AS n FROM jobs WHERE id = $1', [job]))[0]!.n === 0, 10_000);
    expect(existsSync(partial)).toBe(false);
    expect(existsSync(passDir)).toBe(false);
    await stopWorker(a);
  }, 60_000);

  it('LIFEBOAT_WORKER_HOST is checked like every variable', () => {
    const base = { DATABASE_URL: 'postgres://x@127.0.0.1/x', NEXTAUTH_SECRET: 'x'.repeat(32), NEXTAUTH_URL: 'http://localhost:3000', LIFEBOAT_MASTER_KEY: Buffer.alloc(32).toString('base64') };
    expect(parseEnv({ ...base, LIFEBOAT_WORKER_HOST: 'db-1.example.net' }).env?.LIFEBOAT_WORKER_HOST).toBe('db-1.example.net');
    expect(parseEnv({ ...base, LIFEBOAT_WORKER_HOST: 'two words' }).problems).toEqual([expect.stringMatching(/^Configuration error: LIFEBOAT_WORKER_HOST /)]);
  });
});

describe('retention after the target moved to another storage', () => {
  it('deletes old backups from the storage that holds them, and marks deleted only what it removed', async () => {
    const oldDir = fx.stack.tempDir('lifeboat-old-store-');
    const newDir = fx.stack.tempDir('lifeboat-new-store-');
    const oldStorage = (await fx.stack.storage('old', oldDir)).id;
    const newStorage = (await fx.stack.storage('new', newDir)).id;
    const t = await fx.stack.target({ name: 'moving', database: 'shop', storageId: oldStorage });
    const schedule = await createSchedule(fx.stack.admin, { targetId: t.id, cron: '0 2 * * *', timezone: 'UTC', format: 'custom-zstd', compressLevel: 0, zstdLevel: 3, retentionDays: null, retentionCount: null, enabled: false }, null);
    const w = fx.stack.spawnWorker();
    await fx.stack.workerReady(w);
    const first = await backupNow(fx.stack, w, t.id, { scheduleId: schedule.id });
    const second = await backupNow(fx.stack, w, t.id, { scheduleId: schedule.id });
    await updateTarget(fx.stack.admin, t.id, { storageId: newStorage }, null);
    const third = await backupNow(fx.stack, w, t.id, { scheduleId: schedule.id });
    await stopWorker(w);
    expect(listFiles(oldDir).filter((f) => f.endsWith('.zst'))).toHaveLength(2);
    expect(listFiles(newDir).filter((f) => f.endsWith('.zst'))).toHaveLength(1);

    // The second backup's file went missing by hand (or lives on another host): nothing to delete, so not "deleted".
    const secondFile = path.join(oldDir, second.backup_file);
    await import('node:fs/promises').then((fs) => fs.rename(secondFile, `${secondFile}.moved-away`));

    await sql(fx.stack.url, 'UPDATE schedules SET retention_count = 1 WHERE id = $1', [schedule.id]);
    const removed = await applyRetention(schedule.id);
    expect(removed.map(String)).toEqual([first.id]);
    const rows = await sql<{ id: string; deleted_at: Date | null }>(fx.stack.url, 'SELECT id, deleted_at FROM backup_log WHERE target_id = $1 ORDER BY id', [t.id]);
    expect(rows.map((r) => [r.id, r.deleted_at !== null])).toEqual([
      [first.id, true],
      [second.id, false],
      [third.id, false],
    ]);
    // The first backup's dump, manifest and globals are gone from the old storage; the newest is untouched.
    expect(listFiles(oldDir).filter((f) => f.includes(path.basename(first.backup_file)))).toEqual([]);
    expect(existsSync(path.join(newDir, third.backup_file))).toBe(true);
    const [audit] = await sql<{ n: number }>(fx.stack.url, "SELECT count(*)::int AS n FROM audit_log WHERE action = 'backup.delete'");
    expect(audit!.n).toBe(1);
  }, 120_000);
});

describe('retention with an uploaded dump newer than every backup', () => {
  it('keeps the newest real backup of the database: an upload never takes its place as the one that always stays', async () => {
    const dir = fx.stack.tempDir('lifeboat-upload-newer-');
    const storageId = (await fx.stack.storage('upload-newer', dir)).id;
    const t = await fx.stack.target({ name: 'upload-newer', database: 'shop', storageId });
    const schedule = await createSchedule(fx.stack.admin, { targetId: t.id, cron: '0 2 * * *', timezone: 'UTC', format: 'custom-zstd', compressLevel: 0, zstdLevel: 3, retentionDays: null, retentionCount: null, enabled: false }, null);
    const w = fx.stack.spawnWorker();
    await fx.stack.workerReady(w);
    const only = await backupNow(fx.stack, w, t.id, { scheduleId: schedule.id });
    await stopWorker(w);
    // The real backup is old; an upload of the same database arrived today.
    await sql(fx.stack.url, "UPDATE backup_log SET created_at = now() - interval '10 days' WHERE id = $1", [only.id]);
    await sql(
      fx.stack.url,
      "INSERT INTO backup_log (backup_type, backup_file, status, target_id, database_name, storage_id, created_at) VALUES ('uploaded', 'upload-newer/shop/x-uploaded-shop.dump', 'succeeded', $1, 'shop', $2, now())",
      [t.id, storageId],
    );
    await sql(fx.stack.url, 'UPDATE schedules SET retention_days = 1 WHERE id = $1', [schedule.id]);
    expect((await applyRetention(schedule.id)).map(String)).toEqual([]);
    expect(existsSync(path.join(dir, only.backup_file))).toBe(true);
  }, 120_000);
});
