// Uploaded dumps are their own kind: they restore like any backup, but never count as a target's last good backup,
// never turn a failing target green, never enter its size trend, and every list says which backups were uploaded.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { Stack, startStack, stopStack, type BackupRow, type Spawned } from '../helpers/backups';
import { makeTarget, why, protectedTarget } from '../helpers/restores';
import { storeUpload } from '../../lib/uploads/store-upload';
import { startBackup } from '../../lib/backups/start-backup';
import { getOverview } from '../../lib/overview/get-overview';
import { listTargets } from '../../lib/targets/manage-targets';
import { backupTrend, getBackup, listBackups } from '../../lib/backups/list-backups';

let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let prodId: string;
let failingId: string;
let storageDir: string;
let backup: BackupRow;
const s = () => stack!;

async function upload(targetId: string, database: string, fileName: string): Promise<string> {
  const up = await storeUpload(s().admin, { targetId, database, fileName }, createReadStream(path.join(storageDir, backup.backup_file)), null);
  const job = await s().waitJob(up.job.id, undefined, 30_000, worker);
  expect(job.status, why(job)).toBe('succeeded');
  return (job.result as { backupId: string }).backupId;
}

beforeAll(async () => {
  ({ cluster, stack } = await startStack('lifeboat_uploads_health', { seed: 'eitherway' }));
  const prod = await protectedTarget(s(), { name: 'prod', database: 'eitherway' });
  ({ storageDir, targetId: prodId, worker, backup } = prod);
  // A target whose database does not exist: every backup of it fails.
  failingId = (await makeTarget(s(), { name: 'failing', database: 'no_such_database', storageId: prod.storageId })).id;
  const failed = await startBackup(s().operator, failingId);
  const job = await s().waitJob(failed.id, undefined, 30_000, worker);
  expect(job.error_code).toBe('TARGET_DATABASE_MISSING');
}, 120_000);

afterAll(() => stopStack(stack, cluster), 60_000);

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
    const id = await upload(prodId, 'eitherway', 'nightly.dump.zst');
    const t = (await getOverview()).targets.find((x) => x.id === prodId)!;
    expect(new Date(t.lastGoodAt!).getTime()).toBe(new Date(backup.created_at).getTime());
    expect((await listTargets()).find((x) => x.id === prodId)!.lastGoodAt).toEqual(new Date(backup.created_at));
    expect((await backupTrend(prodId)).map((p) => String(p.id))).toEqual([String(backup.id)]);
    const rows = (await listBackups({ targetId: prodId, limit: 10 })).items;
    expect(rows.map((r) => [String(r.id), r.uploaded])).toEqual([[id, true], [String(backup.id), false]]);
    expect((await getBackup(BigInt(id))).backup).toMatchObject({ uploaded: true, uploadedFileName: 'nightly.dump.zst' });
  }, 60_000);
});
