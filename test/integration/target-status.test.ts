// A target's status comes from the newest evidence: saving its connection tests it at once (a wrong password shows red
// "cannot connect", not grey "not tested"), and a failed backup or test after the database was dropped turns it red even
// though an older test said "ok".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { sql, waitFor } from '../helpers/db';
import { Stack, startStack, stopStack, type Spawned } from '../helpers/backups';
import { why } from '../helpers/restores';
import { getTarget, listTargets, updateTarget } from '../../lib/targets/manage-targets';
import { getOverview } from '../../lib/overview/get-overview';
import { startBackup } from '../../lib/backups/start-backup';

let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let storageId: string;
const s = () => stack!;

/** The newest test-connection job of the target, once the worker finished it. */
async function testJobDone(targetId: string, after = new Date(0)) {
  const id = await waitFor(`a connection test of ${targetId}`, async () => {
    const [j] = await sql<{ id: string }>(s().url, "SELECT id FROM jobs WHERE kind = 'test-connection' AND target_id = $1 AND created_at > $2 ORDER BY created_at DESC LIMIT 1", [targetId, after]);
    return j?.id;
  }, 5_000);
  return s().waitJob(id, undefined, 30_000, worker);
}

async function statusOf(targetId: string) {
  const listed = (await listTargets()).find((t) => t.id === targetId)!;
  const overview = (await getOverview()).targets.find((t) => t.id === targetId)!;
  return { listed: listed.connection, overview: { protection: overview.protection, connection: overview.connection } };
}

beforeAll(async () => {
  ({ cluster, stack } = await startStack('lifeboat_target_status', { password: true, seed: 'eitherway' }));
  await sql(cluster.url('postgres'), 'CREATE DATABASE "drop me"');
  ({ storageId } = await s().localStorage());
  worker = await s().readyWorker();
}, 120_000);

afterAll(() => stopStack(stack, cluster), 60_000);

describe('target status from the newest evidence', () => {
  it('a target saved with a wrong password and no test is red "cannot connect" with the reason once the worker ran', async () => {
    const t = await s().target({ name: 'wrong password', database: 'eitherway', password: 'not-the-password', storageId });
    const job = await testJobDone(t.id);
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('TARGET_AUTH_FAILED');
    const st = await statusOf(t.id);
    expect(st.listed).toMatchObject({ state: 'cannot-connect', tone: 'red', label: 'cannot connect', code: 'TARGET_AUTH_FAILED', source: 'test' });
    expect(st.listed.reason).toContain('password authentication failed');
    expect(st.overview.protection).toBe('unreachable');
    expect(st.overview.connection).toEqual(st.listed);
    expect((await getTarget(t.id)).connection).toEqual(st.listed);

    // Fixing the password is a connection edit: tested again at once, and green when it connects.
    const before = new Date();
    await updateTarget(s().admin, t.id, { password: cluster!.password! }, null);
    const again = await testJobDone(t.id, before);
    expect(again.status, why(again)).toBe('succeeded');
    expect((await statusOf(t.id)).listed).toMatchObject({ state: 'ok', tone: 'green', source: 'test' });
    // Editing what is not the connection runs no test.
    const n = async () => (await sql<{ n: number }>(s().url, "SELECT count(*)::int AS n FROM jobs WHERE kind = 'test-connection' AND target_id = $1", [t.id]))[0]!.n;
    const tests = await n();
    await updateTarget(s().admin, t.id, { keyTables: ['core.users'] }, null);
    expect(await n()).toBe(tests);
  }, 90_000);

  it('a dropped database turns red after the next test, and after the next backup attempt, although a backup and a test said ok', async () => {
    const t = await s().target({ name: 'dropped', database: 'drop me', storageId });
    expect((await testJobDone(t.id)).status).toBe('succeeded');
    const good = await startBackup(s().operator, t.id);
    expect((await s().waitJob(good.id, undefined, 30_000, worker)).status).toBe('succeeded');
    expect(await statusOf(t.id)).toMatchObject({ listed: { state: 'ok', tone: 'green', source: 'backup' }, overview: { protection: 'unscheduled' } });
    await sql(cluster!.url('postgres'), 'DROP DATABASE "drop me"');

    // The next test (saving the connection runs one) finds it gone: red, although the last backup succeeded.
    const before = new Date();
    await updateTarget(s().admin, t.id, { sslMode: 'disable' }, null);
    const test = await testJobDone(t.id, before);
    expect(test.error_code).toBe('TARGET_DATABASE_MISSING');
    let st = await statusOf(t.id);
    expect(st.listed).toMatchObject({ state: 'database-missing', tone: 'red', label: 'database missing', code: 'TARGET_DATABASE_MISSING', source: 'test' });
    expect(st.listed.reason).toContain('drop me');
    expect(st.overview.protection).toBe('unreachable');

    // The next backup attempt fails the same way: the newest evidence is now the backup.
    const b = await startBackup(s().operator, t.id);
    const job = await s().waitJob(b.id, undefined, 30_000, worker);
    expect(job.error_code).toBe('TARGET_DATABASE_MISSING');
    st = await statusOf(t.id);
    expect(st.listed).toMatchObject({ state: 'database-missing', tone: 'red', code: 'TARGET_DATABASE_MISSING', source: 'backup' });
    expect(st.overview.protection).toBe('failing');
  }, 90_000);
});
