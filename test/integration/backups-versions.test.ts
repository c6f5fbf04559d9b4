// Logical backups across server majors with the system pg_dump 15: PostgreSQL 13 and 14 round trips (backup, restore
// by hand, identical tables), and a PostgreSQL 17 server refused before anything is dumped (TOOL_TOO_OLD).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { seedDemoDatabase } from '../../scripts/lib/seed';
import { Stack, stopStack, listFiles, restoreByHand, sha256File, tableChecksums, type Spawned } from '../helpers/backups';
import { startBackup } from '../../lib/backups/start-backup';
import { enqueueJob } from '../../lib/jobs/enqueue-job';
import { errorRegistry } from '../../lib/errors';

const clusters: Partial<Record<13 | 14 | 17, RunningCluster>> = {};
let stack: Stack | undefined;
let worker: Spawned;
const s = () => stack!;

beforeAll(async () => {
  const [c13, c14, c17] = await Promise.all([
    createThrowawayCluster({ major: 13 }),
    createThrowawayCluster({ major: 14, password: `pw-${randomBytes(6).toString('hex')}` }),
    createThrowawayCluster({ major: 17 }),
  ]);
  Object.assign(clusters, { 13: c13, 14: c14, 17: c17 });
  // The console's own database lives on the 17 cluster; targets are databases on each.
  stack = await new Stack(c17, 'lifeboat_versions').init();
  await Promise.all([13, 14, 17].map((m) => seedDemoDatabase(clusters[m as 13]!.url('postgres'), 'eitherway')));
  worker = await s().readyWorker();
}, 90_000);

afterAll(() => stopStack(stack, ...Object.values(clusters)), 60_000);

let lastCheckJob: { error_code: string | null; lines: string[] } | undefined;

async function testConnection(targetId: string, status = 'succeeded') {
  const { id } = await enqueueJob(s().admin, 'test-connection', { targetId }, { targetId });
  const job = await s().waitJob(id, undefined, 30_000, worker);
  expect(job.status, `${job.error_code}: ${job.error_message}`).toBe(status);
  lastCheckJob = { ...job, lines: await s().logLines(id) };
  return job.result as { serverMajor: number; tool: { version: string } | null; toolProblem: { code: string; message: string; hint: string } | null; ok: boolean };
}

describe.each([13, 14] as const)('a PostgreSQL %i server', (major) => {
  it('is backed up with pg_dump 15 and restores by hand to identical tables', async () => {
    const cluster = clusters[major]!;
    expect(cluster.major).toBe(major);
    const dir = s().tempDir(`lifeboat-pg${major}-`);
    const st = await s().storage(`pg${major}`, dir);
    const target = await s().target({ name: `pg${major}`, cluster, database: 'eitherway', keyTables: ['core.users', 'core.sessions'], storageId: st.id });

    const check = await testConnection(target.id);
    expect(check).toMatchObject({ serverMajor: major, ok: true, toolProblem: null });
    expect(check.tool!.version).toMatch(/^15\./);

    const { id } = await startBackup(s().operator, target.id);
    const job = await s().waitJob(id, undefined, 30_000, worker);
    expect(job.status, `${job.error_code}: ${job.error_message}\n${job.error_detail ?? ''}`).toBe('succeeded');
    const [row] = await s().backupRows(id);
    expect(row!.status).toBe('succeeded');
    expect(row!.server_version).toMatch(new RegExp(`^${major}\\.`));
    expect(row!.tool_version).toMatch(/^15\./);
    expect(row!.key_table_counts).toEqual({ 'core.users': 500, 'core.sessions': 2000 });
    const file = path.join(dir, row!.backup_file);
    expect(row!.checksum_sha256).toBe(await sha256File(file));
    expect(row!.manifest).toMatchObject({ serverVersion: row!.server_version, toolVersion: `pg_dump ${row!.tool_version}` });
    expect(listFiles(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect((await s().logLines(id)).some((l) => l.includes('dumping contents of table "core.sessions"'))).toBe(true);

    const source = await tableChecksums(cluster.url('eitherway'));
    await restoreByHand(cluster, file, 'eitherway_restored', s().tempDir('lifeboat-restore-'));
    expect(await tableChecksums(cluster.url('eitherway_restored'))).toEqual(source);
  }, 45_000);
});

describe('a PostgreSQL 17 server', () => {
  it('fails before dumping with TOOL_TOO_OLD naming 17 and 15 and the client package to install', async () => {
    const cluster = clusters[17]!;
    const dir = s().tempDir('lifeboat-pg17-');
    const st = await s().storage('pg17', dir);
    const target = await s().target({ name: 'pg17', cluster, database: 'eitherway', storageId: st.id });
    const { id } = await startBackup(s().operator, target.id);
    const job = await s().waitJob(id, undefined, 30_000, worker);
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('TOOL_TOO_OLD');
    expect(job.error_message).toMatch(/PostgreSQL 17\b/);
    expect(job.error_message).toMatch(/pg_dump found is 15\b/);
    expect(job.error_hint).toContain('postgresql-client-17');
    expect(job.error_hint).not.toBe(errorRegistry.INTERNAL.hint);
    const lines = await s().logLines(id);
    expect(lines.some((l) => /dumping contents/.test(l))).toBe(false);
    expect(listFiles(dir)).toEqual([]);
    expect((await s().backupRows(id)).filter((r) => r.status !== 'failed')).toEqual([]);

    // No fitting pg_dump means no backup can run: the test fails with the code a backup would, says so in its
    // log, and still records what it found about the server.
    const check = await testConnection(target.id, 'failed');
    expect(lastCheckJob!.error_code).toBe('TOOL_TOO_OLD');
    expect(lastCheckJob!.lines.some((l) => /no pg_dump on this worker can back up this server/.test(l))).toBe(true);
    expect(check.ok).toBe(false);
    expect(check.serverMajor).toBe(17);
    expect(check.tool).toBeNull();
    expect(check.toolProblem).toMatchObject({ code: 'TOOL_TOO_OLD' });
    expect(check.toolProblem!.message).toMatch(/17/);
    expect(check.toolProblem!.hint).toContain('postgresql-client-17');
  });
});
