// Four eyes for production: with the setting on, replacing production creates a request instead of a job; another
// admin approves (the swap runs) or refuses; the requester cannot approve their own; everything is audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { seedDemoDatabase } from '../../scripts/lib/seed';
import { sql } from '../helpers/db';
import { Stack, type BackupRow, type Spawned } from '../helpers/backups';
import { backupNow, makeTarget, makeUser, restoreInput, rowCount } from '../helpers/restores';
import { decideRestoreRequest, listRestoreRequests, startRestore } from '../../lib/restores/start-restore';
import { updateSettings } from '../../lib/settings/manage-settings';
import { UserError } from '../../lib/errors';

let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let targetId: string;
let backup: BackupRow;
const s = () => stack!;

async function audit(action: string): Promise<number> {
  const [r] = await sql<{ n: number }>(s().url, 'SELECT count(*)::int AS n FROM audit_log WHERE action = $1', [action]);
  return r!.n;
}

beforeAll(async () => {
  cluster = await createThrowawayCluster();
  stack = await new Stack(cluster, 'lifeboat_approvals').init();
  await seedDemoDatabase(cluster.url('postgres'), 'eitherway');
  targetId = (await makeTarget(s(), { name: 'prod', database: 'eitherway' })).id;
  worker = s().spawnWorker();
  await s().workerReady(worker);
  backup = await backupNow(s(), worker, targetId);
  await updateSettings(s().admin, { requireSecondAdmin: true }, null);
}, 90_000);

afterAll(async () => {
  await stack?.close();
  await cluster?.remove();
}, 60_000);

describe('second-admin approval for production restores', () => {
  const replace = () => ({ ...restoreInput(String(backup.id), { mode: 'replace', method: 'swap' }), confirm: 'eitherway' });

  it('a replace becomes a request, not a job; the requester cannot approve it; another admin approves and the swap runs', async () => {
    await sql(cluster!.url('eitherway'), 'DELETE FROM core.sessions WHERE id IN (SELECT id FROM core.sessions LIMIT 100)');
    const restoreJobs = async () => (await sql<{ n: number }>(s().url, "SELECT count(*)::int AS n FROM jobs WHERE kind = 'restore'"))[0]!.n;
    const jobsBefore = await restoreJobs();
    const req = await startRestore(s().admin, replace(), null);
    expect(req).toMatchObject({ pending: true });
    expect(await restoreJobs()).toBe(jobsBefore);
    expect(await audit('restore.request')).toBe(1);

    const own = await decideRestoreRequest(s().admin, req.id, 'approve', null, null).catch((e: unknown) => e);
    expect(own).toBeInstanceOf(UserError);
    expect((own as UserError).code).toBe('SELF_APPROVAL');

    const second = await makeUser(s(), 'admin');
    const decided = await decideRestoreRequest(second, req.id, 'approve', null, null);
    expect(decided.status).toBe('approved');
    const job = await s().waitJob((decided as { job: { id: string } }).job.id, ['succeeded', 'failed', 'cancelled'], 45_000, worker);
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
    expect(await rowCount(cluster!.url('eitherway'), 'core.sessions')).toBe(2000);
    expect(await audit('restore.approve')).toBe(1);
    const listed = (await listRestoreRequests()).find((r) => r.id === req.id)!;
    expect(listed).toMatchObject({ status: 'approved', requestedBy: s().admin.email, decidedBy: second.email });

    const again = await decideRestoreRequest(second, req.id, 'refuse', null, null).catch((e: unknown) => e);
    expect((again as UserError).code).toBe('CONFLICT');
  }, 90_000);

  it('a refused request starts nothing and is audited; restores into a new database need no approval', async () => {
    const req = await startRestore(s().admin, replace(), null);
    const second = await makeUser(s(), 'admin');
    expect((await decideRestoreRequest(second, req.id, 'refuse', 'not during business hours', null)).status).toBe('refused');
    expect(await audit('restore.refuse')).toBe(1);
    const [row] = await sql(s().url, 'SELECT status, reason, job_id FROM restore_requests WHERE id = $1', [req.id]);
    expect(row).toEqual({ status: 'refused', reason: 'not during business hours', job_id: null });

    const direct = await startRestore(s().operator, restoreInput(String(backup.id), { mode: 'new', targetId, database: 'copy_no_approval' }), null);
    expect('pending' in direct).toBe(false);
  }, 60_000);
});
