// Replacing production with a real worker: the swap under held connections (short outage, kept copy), roll back,
// dropping kept copies, the in-place method, drills (timed, checked, scratch database dropped), a long production
// name through swap and roll back, and a cancel that arrives after the swap is done.
import { afterAll, describe, expect, it } from 'vitest';
import { seedDemoDatabase } from '../../scripts/lib/seed';
import { sql, waitFor } from '../helpers/db';
import { tableChecksums } from '../helpers/backups';
import {
  allowsConnections,
  backupNow,
  databaseExists,
  databases,
  holdConnection,
  makeTarget,
  queryError,
  restoreAndWait,
  restoreInput,
  targetJobAndWait,
  why,
  type Held,
  useProtectedTarget,
} from '../helpers/restores';
import { keptCopies, listDrills } from '../../lib/restores/restore-history';
import { startRestore } from '../../lib/restores/start-restore';
import { updateTarget } from '../../lib/targets/manage-targets';
import { cancelJob } from '../../lib/jobs/cancel-job';

let atBackup: Record<string, string>;
let modified: Record<string, string>;
const held: Held[] = [];

const PROD = 'eitherway';
const prodUrl = () => fx.cluster.url(PROD);
const stampRe = '\\d{8}t\\d{6}z';

/** Production changes after the backup: 10 users (and their sessions) gone, a table the backup does not have. */
async function modifyProduction(url: string) {
  await sql(url, "DELETE FROM core.users WHERE id <= 10; CREATE TABLE public.marker (note text); INSERT INTO public.marker VALUES ('after the backup')");
}

/** Reads a kept copy, which the swap leaves refusing connections, and puts that flag back. */
async function readBlocked(name: string) {
  const allow = await allowsConnections(fx.cluster, name);
  if (!allow) await sql(fx.cluster.url('postgres'), `ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
  try {
    return await tableChecksums(fx.cluster.url(name));
  } finally {
    if (!allow) await sql(fx.cluster.url('postgres'), `ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
  }
}

const fx = useProtectedTarget('lifeboat_restores_swap', { password: true, seed: PROD }, { name: PROD, database: PROD }, {
  after: async () => {
    atBackup = await tableChecksums(prodUrl());
  },
});

// Registered after the stack's, so it runs first (after-hooks run last-registered first): the cluster is still there.
afterAll(async () => {
  for (const h of held) await h.end();
}, 60_000);

describe('replace production by swapping names', () => {
  let kept: string;
  let rolledBack: string;

  it('swaps in the restored copy while clients hold connections: short outage, connections ended, the old database kept', async () => {
    await modifyProduction(prodUrl());
    modified = await tableChecksums(prodUrl());
    expect(modified['core.users']).toMatch(/^490 rows/);
    expect(modified['public.marker']).toMatch(/^1 rows/);

    const idle1 = await holdConnection(prodUrl());
    const idle2 = await holdConnection(prodUrl());
    const busy = await holdConnection(prodUrl());
    held.push(idle1, idle2, busy);
    const sleeping = queryError(busy.client, 'SELECT pg_sleep(30)');
    await waitFor('the pg_sleep to run', async () => (await sql<{ n: number }>(fx.cluster.url('postgres'), "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'SELECT pg_sleep%' AND state = 'active'", [PROD]))[0]!.n === 1);

    const started = Date.now();
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, fx.backup.id, { mode: 'replace', method: 'swap' }, { confirm: PROD });
    expect(job.status, why(job)).toBe('succeeded');
    const r = job.result as { downtimeMs: number; keptCopy: string; keptCopySize: number; connectionsEnded: number; checksOk: boolean; database: string; method: string };
    expect(r).toMatchObject({ method: 'swap', database: PROD, checksOk: true });
    expect(r.downtimeMs).toBeGreaterThanOrEqual(0);
    expect(r.downtimeMs).toBeLessThan(2000);
    expect(r.keptCopy).toMatch(new RegExp(`^${PROD}_before_restore_${stampRe}$`));
    expect(r.keptCopySize).toBeGreaterThan(0);
    expect(r.connectionsEnded).toBeGreaterThanOrEqual(3);
    kept = r.keptCopy;

    // The held connections were ended: the sleeper's query failed long before its 30 s, the idle ones fail on next use.
    const sleepErr = await sleeping;
    expect(sleepErr, 'pg_sleep(30) finished normally').not.toBeNull();
    expect(Date.now() - started).toBeLessThan(25_000);
    for (const h of [idle1, idle2]) expect(await queryError(h.client, 'SELECT 1')).not.toBeNull();

    // Production is the backup again: the 10 users are back, the marker table is gone; it takes connections.
    expect(await tableChecksums(prodUrl())).toEqual(atBackup);
    expect((await sql<{ t: string | null }>(prodUrl(), "SELECT to_regclass('public.marker')::text AS t"))[0]!.t).toBeNull();
    expect(await allowsConnections(fx.cluster, PROD)).toBe(true);
    // The kept copy holds production as it was just before the swap.
    expect(await databaseExists(fx.cluster, kept)).toBe(true);
    expect(await readBlocked(kept)).toEqual(modified);
    // No side database is left beside them.
    expect((await databases(fx.cluster)).filter((d) => d.includes('_restore_') && !d.includes('_before_restore_'))).toEqual([]);
    expect((await keptCopies(fx.targetId)).map((c) => c.database)).toEqual([kept]);
  }, 60_000);

  it('rolls back: the kept copy is production again and the restored one is set aside as _rolled_back_', async () => {
    const job = await targetJobAndWait(fx.stack, fx.worker, fx.stack.admin, 'rollback', fx.targetId, { keptDatabase: kept });
    expect(job.status, why(job)).toBe('succeeded');
    const r = job.result as { database: string; keptCopy: string; downtimeMs: number };
    expect(r.database).toBe(PROD);
    expect(r.keptCopy).toMatch(new RegExp(`^${PROD}_rolled_back_${stampRe}$`));
    rolledBack = r.keptCopy;
    expect(await tableChecksums(prodUrl())).toEqual(modified);
    expect(await allowsConnections(fx.cluster, PROD)).toBe(true);
    expect(await databaseExists(fx.cluster, kept)).toBe(false);
    expect(await readBlocked(rolledBack)).toEqual(atBackup);
    const copies = await keptCopies(fx.targetId);
    expect(copies.map((c) => c.database)).toEqual([rolledBack]);
    expect(copies[0]!.reason).toMatch(/rollback/);
  });

  it('a second roll back of the same copy answers NOTHING_TO_ROLL_BACK and changes nothing', async () => {
    const dbs = await databases(fx.cluster);
    const job = await targetJobAndWait(fx.stack, fx.worker, fx.stack.admin, 'rollback', fx.targetId, { keptDatabase: kept });
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('NOTHING_TO_ROLL_BACK');
    expect(await databases(fx.cluster)).toEqual(dbs);
    expect(await tableChecksums(prodUrl())).toEqual(modified);
  });

  it('drops a kept copy; refuses to drop production with VALIDATION', async () => {
    const job = await targetJobAndWait(fx.stack, fx.worker, fx.stack.admin, 'drop-copy', fx.targetId, { database: rolledBack });
    expect(job.status, why(job)).toBe('succeeded');
    expect(job.result).toMatchObject({ dropped: rolledBack });
    expect(await databaseExists(fx.cluster, rolledBack)).toBe(false);
    expect(await keptCopies(fx.targetId)).toEqual([]);

    const refused = await targetJobAndWait(fx.stack, fx.worker, fx.stack.admin, 'drop-copy', fx.targetId, { database: PROD });
    expect(refused.status).toBe('failed');
    expect(refused.error_code).toBe('VALIDATION');
    expect(await databaseExists(fx.cluster, PROD)).toBe(true);
    expect(await tableChecksums(prodUrl())).toEqual(modified);
  });
});

describe('replace production in place (the runbook method)', () => {
  it('drops and recreates production from the backup, ending its connections, and measures the outage', async () => {
    const dbs = await databases(fx.cluster);
    const idle = await holdConnection(prodUrl());
    held.push(idle);
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, fx.backup.id, { mode: 'replace', method: 'in-place' }, { confirm: PROD });
    expect(job.status, why(job)).toBe('succeeded');
    const r = job.result as { downtimeMs: number; method: string; database: string; checksOk: boolean };
    expect(r).toMatchObject({ method: 'in-place', database: PROD, checksOk: true });
    expect(r.downtimeMs).toEqual(expect.any(Number));
    expect(r.downtimeMs).toBeGreaterThan(0);
    expect(await tableChecksums(prodUrl())).toEqual(atBackup);
    expect(await queryError(idle.client, 'SELECT 1')).not.toBeNull();
    expect(await databases(fx.cluster)).toEqual(dbs);
  });
});

describe('drills', () => {
  const drillDbs = async () => (await databases(fx.cluster)).filter((d) => d.includes('_drill_'));

  it('records a succeeded drill with its restore time and checks, and drops the scratch database', async () => {
    const job = await targetJobAndWait(fx.stack, fx.worker, fx.stack.operator, 'drill', fx.targetId);
    expect(job.status, why(job)).toBe('succeeded');
    const drills = await listDrills(fx.targetId);
    expect(drills).toHaveLength(1);
    const d = drills[0]!;
    expect(d).toMatchObject({ status: 'succeeded', jobId: job.id, backupId: BigInt(fx.backup.id), errorCode: null });
    expect(d.restoreMs).toBeGreaterThan(0);
    expect(d.finishedAt).toBeInstanceOf(Date);
    const checks = d.checks as { name: string; ok: boolean; expected: unknown; actual: unknown }[];
    expect(checks.map((c) => [c.name, c.ok]).sort()).toEqual([
      ['SELECT core.analyze_query_performance()', true],
      ['content checksum core.sessions', true],
      ['content checksum core.users', true],
      ['row count core.sessions', true],
      ['row count core.users', true],
    ]);
    expect(checks.find((c) => c.name === 'row count core.users')).toMatchObject({ expected: 500, actual: 500 });
    expect((job.result as { drillId: string }).drillId).toBe(d.id);
    expect(await drillDbs()).toEqual([]);
    expect(await tableChecksums(prodUrl())).toEqual(atBackup);
  });

  it('fails with CHECKS_FAILED when a check statement errors, stores the checks on a failed drill row, and still drops the scratch database', async () => {
    await updateTarget(fx.stack.admin, fx.targetId, { checkStatements: ['SELECT core.analyze_query_performance()', 'SELECT 1/0'] }, null);
    try {
      const job = await targetJobAndWait(fx.stack, fx.worker, fx.stack.operator, 'drill', fx.targetId);
      expect(job.status).toBe('failed');
      expect(job.error_code).toBe('CHECKS_FAILED');
      const [d] = await listDrills(fx.targetId);
      expect(d).toMatchObject({ status: 'failed', jobId: job.id, errorCode: 'CHECKS_FAILED' });
      expect(d!.restoreMs).toBeGreaterThan(0);
      const checks = d!.checks as { name: string; ok: boolean; actual: unknown }[];
      expect(checks.find((c) => c.name === 'SELECT 1/0')).toMatchObject({ ok: false, actual: expect.stringMatching(/division by zero/) });
      expect(checks.filter((c) => c.ok).map((c) => c.name).sort()).toEqual(['SELECT core.analyze_query_performance()', 'content checksum core.sessions', 'content checksum core.users', 'row count core.sessions', 'row count core.users']);
      expect(await drillDbs()).toEqual([]);
      expect((await listDrills(fx.targetId)).map((x) => x.status)).toEqual(['failed', 'succeeded']);
    } finally {
      await updateTarget(fx.stack.admin, fx.targetId, { checkStatements: ['SELECT core.analyze_query_performance()'] }, null);
    }
  });
});

describe('a production database with a long name', () => {
  it('rolls back to the original name (kept copy names are shortened to fit 63 bytes)', async () => {
    const long = 'eitherway_customer_accounts_production_eu_west'; // 46 bytes: "<long>_before_restore_<stamp>" must be cut
    await seedDemoDatabase(fx.cluster.url('postgres'), long, 50);
    const t = await makeTarget(fx.stack, { name: 'long-name', database: long });
    const b = await backupNow(fx.stack, fx.worker, t.id);
    const before = await tableChecksums(fx.cluster.url(long));
    await modifyProduction(fx.cluster.url(long));
    const changed = await tableChecksums(fx.cluster.url(long));

    const swap = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, b.id, { mode: 'replace', method: 'swap' }, { confirm: long });
    expect(swap.status, why(swap)).toBe('succeeded');
    const keptLong = (swap.result as { keptCopy: string }).keptCopy;
    expect(Buffer.byteLength(keptLong)).toBeLessThanOrEqual(63);
    expect(await tableChecksums(fx.cluster.url(long))).toEqual(before);

    const dbs = await databases(fx.cluster);
    const rb = await targetJobAndWait(fx.stack, fx.worker, fx.stack.admin, 'rollback', t.id, { keptDatabase: keptLong });
    expect(rb.status, why(rb)).toBe('succeeded');
    // The previous production is back under its own name, not under the shortened prefix of the kept copy's name.
    const now = await databases(fx.cluster);
    expect(now.filter((d) => !dbs.includes(d) && !d.includes('_rolled_back_')), `rollback result ${JSON.stringify(rb.result)}`).toEqual([]);
    expect(await tableChecksums(fx.cluster.url(long))).toEqual(changed);
    expect((rb.result as { database: string }).database).toBe(long);
  }, 45_000);
});

describe('a cancel that arrives after the swap', () => {
  it('does not report a completed swap as cancelled: the job succeeds and the kept copy is recorded', async () => {
    // Production differs from the backup again, and a post-restore hook keeps the job busy after the swap.
    await modifyProduction(prodUrl());
    await sql(fx.stack.url, "UPDATE targets SET post_restore_hook = 'sleep 4' WHERE id = $1", [fx.targetId]);
    try {
      const { id } = await startRestore(fx.stack.admin, restoreInput(fx.backup.id, { mode: 'replace', method: 'swap' }, { confirm: PROD }), null);
      await waitFor('the post-restore hook to run', async () => (await fx.stack.job(id))?.step === 'running the post-restore hook', 30_000, 50);
      // Past the swap a cancel is refused (the point of no return is on the job row).
      await expect(cancelJob(fx.stack.admin, id, null)).rejects.toMatchObject({ code: 'JOB_PAST_POINT_OF_NO_RETURN' });
      const job = await fx.stack.waitJob(id, undefined, 30_000, fx.worker);
      // The swap happened whatever the job says.
      expect(await tableChecksums(prodUrl())).toEqual(atBackup);
      const kept = (await databases(fx.cluster)).filter((d) => d.startsWith(`${PROD}_before_restore_`));
      expect(kept).toHaveLength(1);
      expect(job.status, `${why(job)} (production was replaced; the kept copy is ${kept[0]})`).toBe('succeeded');
      expect((job.result as { keptCopy?: string } | null)?.keptCopy).toBe(kept[0]);
      expect((await keptCopies(fx.targetId)).map((c) => c.database)).toContain(kept[0]);
    } finally {
      await sql(fx.stack.url, 'UPDATE targets SET post_restore_hook = NULL WHERE id = $1', [fx.targetId]);
    }
  }, 45_000);
});
