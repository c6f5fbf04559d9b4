// A whole-server target ("every database") whose login may not connect to one database, the first alphabetically:
// every other database is still backed up, each database is its own backup_log row and job result, the refusal has
// its own code (not a firewall hint), and "Test connection" lists the database instead of ending INTERNAL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { sql } from '../helpers/db';
import { Stack, startStack, stopStack, type Spawned } from '../helpers/backups';
import { startBackup } from '../../lib/backups/start-backup';
import { enqueueJob } from '../../lib/jobs/enqueue-job';
import { errorRegistry } from '../../lib/errors';
import { targetHealth } from '../../lib/overview/target-health';

let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let targetId: string;
const s = () => stack!;

beforeAll(async () => {
  ({ cluster, stack } = await startStack('lifeboat_whole_server'));
  const admin = cluster.url('postgres');
  await sql(admin, `CREATE ROLE backup_login LOGIN PASSWORD 'backup-pw' IN ROLE pg_read_all_data`);
  for (const db of ['aaa_locked', 'bbb', 'ccc']) {
    await sql(admin, `CREATE DATABASE ${db}`);
    await sql(cluster.url(db), `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100)`);
  }
  await sql(admin, 'REVOKE CONNECT ON DATABASE aaa_locked FROM PUBLIC');
  const { storageId } = await s().localStorage();
  targetId = (await s().target({ name: 'whole', database: null, dbUser: 'backup_login', password: 'backup-pw', storageId })).id;
  worker = await s().readyWorker();
}, 90_000);

afterAll(() => stopStack(stack, cluster), 60_000);

describe('a whole-server target with a database its login cannot connect to', () => {
  it('backs up every other database; the locked one is a failed row of its own with TARGET_CONNECT_DENIED', async () => {
    const { id } = await startBackup(s().operator, targetId);
    const job = await s().waitJob(id, undefined, 90_000, worker);
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('BACKUP_PARTIAL');
    expect(job.error_message).toContain('aaa_locked');
    const rows = await s().backupRows(id);
    expect(rows.map((r) => [r.database_name, r.status, r.error_code])).toEqual([
      ['aaa_locked', 'failed', 'TARGET_CONNECT_DENIED'],
      ['bbb', 'succeeded', null],
      ['ccc', 'succeeded', null],
      ['lifeboat_whole_server', 'succeeded', null], // the console's own database lives on this test cluster
      ['postgres', 'succeeded', null],
    ]);
    expect(rows[0]!.error_message).toMatch(/backup_login.*aaa_locked|aaa_locked.*backup_login/);
    // The job result names each database's outcome, failed ones with code, message and hint.
    const result = job.result as { backups: { database: string }[]; failed: { database: string; code: string; message: string; hint: string }[] };
    expect(result.backups.map((b) => b.database)).toEqual(['bbb', 'ccc', 'lifeboat_whole_server', 'postgres']);
    expect(result.failed).toEqual([{ database: 'aaa_locked', code: 'TARGET_CONNECT_DENIED', message: rows[0]!.error_message, hint: errorRegistry.TARGET_CONNECT_DENIED.hint }]);
    expect(errorRegistry.TARGET_CONNECT_DENIED.hint).not.toMatch(/firewall/i);
  }, 120_000);

  it('the target is failing on the overview, naming the database, although later databases of the same run succeeded', async () => {
    const health = (await targetHealth()).find((t) => t.id === targetId)!;
    expect(health.protection).toBe('failing');
    expect(health.lastError).toContain('aaa_locked');
  });

  it('"Test connection" ends succeeded with ok: false and lists the database the login cannot connect to', async () => {
    const { id } = await enqueueJob(s().admin, 'test-connection', { targetId }, { targetId });
    const job = await s().waitJob(id, undefined, 60_000, worker);
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
    const r = job.result as { ok: boolean; cannotConnect: { database: string; code: string }[]; sizes: { database: string; bytes: number | null }[] };
    expect(r.ok).toBe(false);
    expect(r.cannotConnect).toEqual([{ database: 'aaa_locked', code: 'TARGET_CONNECT_DENIED', message: expect.stringContaining('aaa_locked') }]);
    expect(r.sizes.map((x) => [x.database, x.bytes === null])).toEqual([
      ['aaa_locked', true],
      ['bbb', false],
      ['ccc', false],
      ['lifeboat_whole_server', false],
      ['postgres', false],
    ]);
    expect((await s().logLines(id)).some((l) => /cannot connect to database "aaa_locked"/.test(l))).toBe(true);
    const [t] = await sql<{ last_check: { ok: boolean } }>(s().url, 'SELECT last_check FROM targets WHERE id = $1', [targetId]);
    expect(t!.last_check.ok).toBe(false);
  }, 60_000);
});
