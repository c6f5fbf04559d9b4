// A backup whose removal retention has begun (the row marked `deleting_on`, objects going manifest first, `deleted_at`
// not yet set, for ever if that worker crashed) is no longer a kept backup: listed as being removed, refused as a
// restore, recovery or download source, skipped by the drill's "latest" pick and by the target's last good backup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { sql } from '../helpers/db';
import { Stack, startStack, stopStack, rejection, type BackupRow } from '../helpers/backups';
import { backupNow, makeUser, restoreInput, targetJobAndWait, why } from '../helpers/restores';
import { getDb } from '../../lib/db';
import { getBackup, listBackups } from '../../lib/backups/list-backups';
import { openBackupForDownload } from '../../lib/backups/download-backup';
import { startRestore } from '../../lib/restores/start-restore';
import { startComparison } from '../../lib/recoveries/start-recovery';
import { enqueueJob } from '../../lib/jobs/enqueue-job';
import { restorePayload } from '../../lib/jobs/kinds';
import { decideRestoreRequest, listRestoreRequests } from '../../lib/restores/approval-requests';
import { updateSettings } from '../../lib/settings/manage-settings';
import { targetHealth } from '../../lib/overview/target-health';
import { listTargets } from '../../lib/targets/manage-targets';

let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
const s = () => stack!;

beforeAll(async () => {
  ({ cluster, stack } = await startStack('lifeboat_being_removed'));
  await sql(cluster.url('postgres'), 'CREATE DATABASE shop');
  await sql(cluster.url('shop'), `CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 100) i;`);
}, 90_000);

afterAll(() => stopStack(stack, cluster), 60_000);

describe('a backup whose removal began (a retention run that crashed after marking it)', () => {
  it('is listed as being removed, refused as a source, and neither the latest nor the last good backup', async () => {
    const { storageId } = await s().localStorage();
    const t = await s().target({ name: 'removing', database: 'shop', storageId });
    const w = await s().readyWorker();
    const previous: BackupRow = await backupNow(s(), w, t.id);
    const newest: BackupRow = await backupNow(s(), w, t.id);
    // A production restore that waits for a second admin, asked for while the backup was still kept.
    await updateSettings(s().admin, { requireSecondAdmin: true }, null);
    const request = await startRestore(s().admin, { ...restoreInput(newest.id, { mode: 'replace', method: 'swap' }), confirm: 'shop' }, null);
    expect(request).toMatchObject({ pending: true });
    await updateSettings(s().admin, { requireSecondAdmin: false }, null);
    // What retention does first, and all a crashed run leaves: the row marked, deleted_at still null.
    await sql(s().url, "UPDATE backup_log SET deleting_on = 'crashed-host' WHERE id = $1", [newest.id]);

    // The list and the detail say so (the page and the wizards' pickers read these).
    const listed = (await listBackups({ targetId: t.id, limit: 10 })).items;
    expect(listed.map((b) => [String(b.id), b.removal])).toEqual([[newest.id, 'being-removed'], [previous.id, 'kept']]);
    expect((await getBackup(BigInt(newest.id))).backup.removal).toBe('being-removed');

    // Refused as a source, with the reason and what to do.
    const message = new RegExp(`Backup ${newest.id} is being removed by retention`);
    for (const attempt of [
      () => startRestore(s().admin, restoreInput(newest.id, { mode: 'new', targetId: t.id, database: 'shop_copy' }), null),
      () => openBackupForDownload(s().admin, BigInt(newest.id), null),
      () => startComparison(s().operator, { backupId: newest.id, tables: ['public.items'] }, null),
    ]) {
      const err = await rejection(attempt());
      expect(err.code, err.message).toBe('BACKUP_UNUSABLE');
      expect(err.message).toMatch(message);
      expect(err.hint).toMatch(/another backup/);
    }
    // The waiting request shows its backup as gone, and approving it is refused, with no job.
    const waiting = (await listRestoreRequests()).find((r) => r.id === request.id)!;
    expect(waiting.backup).toMatchObject({ id: newest.id, removed: true });
    const approval = await rejection(decideRestoreRequest(await makeUser(s(), 'admin'), request.id, 'approve', null, null));
    expect(approval.code, approval.message).toBe('BACKUP_UNUSABLE');
    expect(approval.message).toMatch(message);
    // A restore queued before the mark (or started past the console) is refused by the worker too, before any file.
    const queued = await enqueueJob(s().admin, 'restore', restorePayload.parse(restoreInput(newest.id, { mode: 'new', targetId: t.id, database: 'shop_copy' })), { targetId: t.id, pool: 'default' });
    const refused = await s().waitJob(queued.id, ['succeeded', 'failed', 'cancelled'], 45_000, w);
    expect([refused.status, refused.error_code], why(refused)).toEqual(['failed', 'BACKUP_UNUSABLE']);
    expect(refused.error_message).toMatch(message);

    // "Latest" is the previous backup: the drill restores it.
    const drill = await targetJobAndWait(s(), w, s().operator, 'drill', t.id);
    expect(drill.status, why(drill)).toBe('succeeded');
    const [row] = await sql<{ backup_id: string }>(s().url, 'SELECT backup_id FROM drills WHERE job_id = $1', [drill.id]);
    expect(row!.backup_id).toBe(previous.id);

    // The target's newest good backup (overview and target list) is the previous one.
    const health = (await targetHealth()).find((h) => h.id === t.id)!;
    expect(health.lastGoodAt).toEqual(new Date(previous.created_at));
    expect((await listTargets()).find((x) => x.id === t.id)!.lastGoodAt).toEqual(new Date(previous.created_at));
    expect(await getDb().backupLog.count({ where: { targetId: t.id } })).toBe(2);
  }, 180_000);
});
