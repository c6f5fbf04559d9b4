// Uploaded dumps are their own kind: they restore like any backup, but never count as a target's last good backup,
// never turn a failing target green, never enter its size trend, and every list says which backups were uploaded.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTarget, why, useProtectedTarget } from '../helpers/restores';
import { storeUpload } from '../../lib/uploads/store-upload';
import { startBackup } from '../../lib/backups/start-backup';
import { getOverview } from '../../lib/overview/get-overview';
import { listTargets } from '../../lib/targets/manage-targets';
import { backupTrend, getBackup, listBackups } from '../../lib/backups/list-backups';

let failingId: string;

async function upload(targetId: string, database: string, fileName: string): Promise<string> {
  const up = await storeUpload(fx.stack.admin, { targetId, database, fileName }, createReadStream(path.join(fx.storageDir, fx.backup.backup_file)), null);
  const job = await fx.stack.waitJob(up.job.id, undefined, 30_000, fx.worker);
  expect(job.status, why(job)).toBe('succeeded');
  return (job.result as { backupId: string }).backupId;
}

const fx = useProtectedTarget('lifeboat_uploads_health', { seed: 'eitherway', timeoutMs: 120_000 }, { name: 'prod', database: 'eitherway' }, {
  after: async (c) => {
    // A target whose database does not exist: every backup of it fails.
    failingId = (await makeTarget(c.stack, { name: 'failing', database: 'no_such_database', storageId: c.storageId })).id;
    const failed = await startBackup(c.stack.operator, failingId);
    const job = await c.stack.waitJob(failed.id, undefined, 30_000, c.worker);
    expect(job.error_code).toBe('TARGET_DATABASE_MISSING');
  },
});

describe('uploaded backups never count for a target', () => {
  it('a failing target with a fresh upload of another database stays red, with no last good backup', async () => {
    const id = await upload(failingId, 'eitherway', 'someone-elses.dump.zst');
    const overview = await getOverview();
    const t = overview.targets.find((x) => x.id === failingId)!;
    expect({ protection: t.protection, lastGoodAt: t.lastGoodAt }).toEqual({ protection: 'failing', lastGoodAt: null });
    expect(t.lastError).toContain('no_such_database');
    const listed = (await listTargets()).find((x) => x.id === failingId)!;
    expect(listed.lastGoodAt).toBeNull();
    expect(listed.lastBackup?.status).toBe('failed');
    // It is still offered for restores, labelled as uploaded.
    const rows = (await listBackups({ targetId: failingId, status: 'succeeded', limit: 10 })).items;
    expect(rows.map((r) => ({ id: String(r.id), uploaded: r.uploaded }))).toEqual([{ id, uploaded: true }]);
  }, 60_000);

  it("an upload of the target's own database is not its last good backup either, nor a point of its size trend", async () => {
    const id = await upload(fx.targetId, 'eitherway', 'nightly.dump.zst');
    const t = (await getOverview()).targets.find((x) => x.id === fx.targetId)!;
    expect(new Date(t.lastGoodAt!).getTime()).toBe(new Date(fx.backup.created_at).getTime());
    expect((await listTargets()).find((x) => x.id === fx.targetId)!.lastGoodAt).toEqual(new Date(fx.backup.created_at));
    expect((await backupTrend(fx.targetId)).map((p) => String(p.id))).toEqual([String(fx.backup.id)]);
    const rows = (await listBackups({ targetId: fx.targetId, limit: 10 })).items;
    expect(rows.map((r) => [String(r.id), r.uploaded])).toEqual([[id, true], [String(fx.backup.id), false]]);
    expect((await getBackup(BigInt(id))).backup).toMatchObject({ uploaded: true, uploadedFileName: 'nightly.dump.zst' });
  }, 60_000);
});
