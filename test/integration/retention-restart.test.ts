// Retention removes a backup manifest first, then the dump, then the globals file, and marks the row before the first
// object goes: a run stopped at any point between those steps is finished by the next run, which records what it
// removed and what was already gone. The storage's remove says "missing" for an object that was not there.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { sql } from '../helpers/db';
import { Stack, startStack, stopStack, exitWithin, killGroup, type BackupRow } from '../helpers/backups';
import { backupNow } from '../helpers/restores';
import { createSchedule } from '../../lib/schedules/manage-schedules';
import { applyRetention } from '../../lib/backups/apply-retention';
import { workerHost } from '../../lib/jobs/sweep-jobs';
import { LocalFolderStorage } from '../../lib/storage/local-folder';

let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
const s = () => stack!;

beforeAll(async () => {
  ({ cluster, stack } = await startStack('lifeboat_retention_restart'));
  await sql(cluster.url('postgres'), 'CREATE DATABASE shop');
  await sql(cluster.url('shop'), `CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 200) i;`);
}, 90_000);

afterAll(() => stopStack(stack, cluster), 60_000);

const objects = (b: BackupRow) => [`${b.backup_file}.manifest.json`, b.backup_file, `${b.backup_file}.globals.sql`];

describe('retention stopped halfway', () => {
  it('the next run finishes each backup whose removal began, whatever step it stopped at, and records what it removed', async () => {
    const dir = s().tempDir('lifeboat-retention-restart-');
    const storageId = (await s().storage('restart', dir)).id;
    const t = await s().target({ name: 'restart', database: 'shop', storageId });
    const schedule = await createSchedule(s().admin, { targetId: t.id, cron: '0 2 * * *', timezone: 'UTC', format: 'custom-zstd', compressLevel: 0, zstdLevel: 3, retentionDays: null, retentionCount: null, enabled: false }, null);
    const w = s().spawnWorker();
    await s().workerReady(w);
    const made: BackupRow[] = [];
    for (let i = 0; i < 6; i++) made.push(await backupNow(s(), w, t.id, { scheduleId: schedule.id }));
    killGroup(w.child, 'SIGTERM');
    await exitWithin(w.child, 10_000);
    const [afterManifest, afterDump, afterAll_, otherHostSeen, otherHostUnseen, newest] = made as [BackupRow, BackupRow, BackupRow, BackupRow, BackupRow, BackupRow];
    for (const x of made) for (const o of objects(x)) expect(existsSync(path.join(dir, o)), o).toBe(true);

    // The states a run leaves when it stops between steps (row marked first, then manifest, dump, globals removed):
    const mark = (x: BackupRow, host: string) => sql(s().url, 'UPDATE backup_log SET deleting_on = $2 WHERE id = $1', [x.id, host]);
    const gone = (x: BackupRow, n: number) => objects(x).slice(0, n).forEach((o) => rmSync(path.join(dir, o)));
    await mark(afterManifest, workerHost());
    gone(afterManifest, 1); // stopped after the manifest
    await mark(afterDump, workerHost());
    gone(afterDump, 2); // stopped after the dump
    await mark(afterAll_, workerHost());
    gone(afterAll_, 3); // stopped after the globals file, before the row was marked deleted
    await mark(otherHostSeen, 'another-host');
    gone(otherHostSeen, 1); // began elsewhere; what is left is visible here
    await mark(otherHostUnseen, 'another-host');
    gone(otherHostUnseen, 3); // began elsewhere; nothing visible here: only that host can tell it is done

    // The policy keeps all six: only the removals that began are finished, whatever the policy says now.
    await sql(s().url, 'UPDATE schedules SET retention_count = 10 WHERE id = $1', [schedule.id]);
    const lines: string[] = [];
    const removed = await applyRetention(schedule.id, { log: (l) => lines.push(l) });
    expect(removed.map(String).sort()).toEqual([afterManifest.id, afterDump.id, afterAll_.id, otherHostSeen.id].sort());
    for (const x of [afterManifest, afterDump, afterAll_, otherHostSeen]) for (const o of objects(x)) expect(existsSync(path.join(dir, o)), o).toBe(false);
    for (const o of objects(newest)) expect(existsSync(path.join(dir, o)), o).toBe(true);
    const rows = await sql<{ id: string; deleted: boolean }>(s().url, 'SELECT id, deleted_at IS NOT NULL AS deleted FROM backup_log WHERE target_id = $1 ORDER BY id', [t.id]);
    expect(rows.map((r) => [r.id, r.deleted])).toEqual(made.map((x) => [x.id, [afterManifest, afterDump, afterAll_, otherHostSeen].includes(x)]));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`began on another-host; nothing of it is in .* left for another-host`)));

    // Only what this run really removed is recorded as removed; the rest as already gone.
    const audit = await sql<{ entity_id: string; params: { removed: string[]; alreadyGone: string[] } }>(
      s().url,
      "SELECT entity_id, params FROM audit_log WHERE action = 'backup.delete' ORDER BY entity_id",
    );
    const byId = new Map(audit.map((r) => [r.entity_id, r.params]));
    const [m, dump, g] = [0, 1, 2];
    expect(byId.get(afterManifest.id)).toMatchObject({ removed: [objects(afterManifest)[dump], objects(afterManifest)[g]], alreadyGone: [objects(afterManifest)[m]] });
    expect(byId.get(afterDump.id)).toMatchObject({ removed: [objects(afterDump)[g]], alreadyGone: objects(afterDump).slice(0, 2) });
    expect(byId.get(afterAll_.id)).toMatchObject({ removed: [], alreadyGone: objects(afterAll_) });
    expect(byId.get(otherHostSeen.id)).toMatchObject({ removed: [objects(otherHostSeen)[dump], objects(otherHostSeen)[g]] });
    expect(audit).toHaveLength(4);

    // Again: nothing more to do here; the other host's removal still waits for it.
    expect(await applyRetention(schedule.id)).toEqual([]);
  }, 180_000);

  it('a fresh removal marks the row with its host and finishes; a dump moved away by hand is left alone with its manifest', async () => {
    const dir = s().tempDir('lifeboat-retention-order-');
    const storageId = (await s().storage('order', dir)).id;
    const t = await s().target({ name: 'order', database: 'shop', storageId });
    const schedule = await createSchedule(s().admin, { targetId: t.id, cron: '0 2 * * *', timezone: 'UTC', format: 'custom-zstd', compressLevel: 0, zstdLevel: 3, retentionDays: null, retentionCount: null, enabled: false }, null);
    const w = s().spawnWorker();
    await s().workerReady(w);
    const made: BackupRow[] = [];
    for (let i = 0; i < 3; i++) made.push(await backupNow(s(), w, t.id, { scheduleId: schedule.id }));
    killGroup(w.child, 'SIGTERM');
    await exitWithin(w.child, 10_000);
    const [old, moved] = made as [BackupRow, BackupRow, BackupRow];
    rmSync(path.join(dir, moved.backup_file)); // moved away by hand: its manifest stays, and so does the row

    await sql(s().url, 'UPDATE schedules SET retention_count = 1 WHERE id = $1', [schedule.id]);
    expect((await applyRetention(schedule.id)).map(String)).toEqual([old.id]);
    const [row] = await sql<{ deleting_on: string | null; deleted: boolean }>(s().url, 'SELECT deleting_on, deleted_at IS NOT NULL AS deleted FROM backup_log WHERE id = $1', [old.id]);
    expect(row).toEqual({ deleting_on: workerHost(), deleted: true });
    const [untouched] = await sql<{ deleting_on: string | null; deleted: boolean }>(s().url, 'SELECT deleting_on, deleted_at IS NOT NULL AS deleted FROM backup_log WHERE id = $1', [moved.id]);
    expect(untouched).toEqual({ deleting_on: null, deleted: false });
    expect(existsSync(path.join(dir, `${moved.backup_file}.manifest.json`))).toBe(true);
  }, 120_000);
});

describe('the local folder remove', () => {
  it('says removed when it deleted the object and missing when there was nothing to delete', async () => {
    const st = new LocalFolderStorage(s().tempDir('lifeboat-remove-'));
    await st.put('t/a.txt', 'x');
    expect(await st.remove('t/a.txt')).toBe('removed');
    expect(await st.remove('t/a.txt')).toBe('missing');
    expect(await st.remove('t/never')).toBe('missing');
  });
});
