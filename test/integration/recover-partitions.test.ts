// A partitioned table in row recovery, with a real worker, pg_dump/pg_restore 15 and zstd: the archive's table of
// contents lists the parent and its 55 partitions as tables (no "ATTACH" entries) with each partition's parent; the
// parent is compared as one table (all partitions restored into the scratch copy, matched by the parent's key), and
// the re-insert puts rows deleted across several partitions back, with the id sequence caught up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { sql } from '../helpers/db';
import { Stack, startStack, stopStack, rejection, tableChecksums, type BackupRow, type JobRow, type Spawned } from '../helpers/backups';
import { backupNow, databases, why, protectedTarget } from '../helpers/restores';
import { startComparison, startReinsert } from '../../lib/recoveries/start-recovery';
import type { ComparisonResult } from '../../lib/recoveries/comparison';
import { tableChoices } from '../../lib/recoveries/table-choices';
import { readToc } from '../../worker/pg/pg-restore';
import { loadBackup, storedInput } from '../../worker/restore/archive';

let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let backup: BackupRow;
let original: Record<string, string>;

const s = () => stack!;
const url = () => cluster!.url('sales');
const IP = '192.0.2.10';
const MONTHS = 55;
const partition = (i: number) => {
  const d = new Date(Date.UTC(2020, i, 1));
  return `sales.orders_p${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};

const waitDone = (id: string, timeoutMs = 90_000): Promise<JobRow> => s().waitJob(id, ['succeeded', 'failed', 'cancelled'], timeoutMs, worker);

beforeAll(async () => {
  ({ cluster, stack } = await startStack('lifeboat_parts', { password: true }));
  await sql(cluster.url('postgres'), 'CREATE DATABASE sales');
  // 55 monthly partitions (more than the 50 tables a comparison takes), 5 500 orders spread over them.
  await sql(
    url(),
    `CREATE SCHEMA sales;
     CREATE TABLE sales.orders (id bigserial, placed date NOT NULL, customer text NOT NULL, amount numeric(10,2),
       PRIMARY KEY (id, placed)) PARTITION BY RANGE (placed);
     DO $$ BEGIN
       FOR i IN 0..${MONTHS - 1} LOOP
         EXECUTE format('CREATE TABLE sales.%I PARTITION OF sales.orders FOR VALUES FROM (%L) TO (%L)',
           'orders_p' || to_char(date '2020-01-01' + make_interval(months => i), 'YYYY_MM'),
           date '2020-01-01' + make_interval(months => i), date '2020-01-01' + make_interval(months => i + 1));
       END LOOP;
     END $$;
     INSERT INTO sales.orders (placed, customer, amount)
       SELECT date '2020-01-01' + (i * 7) % 1670, 'customer ' || i, i / 100.0 FROM generate_series(1, 5500) i;`,
  );
  ({ worker, backup } = await protectedTarget(s(), { name: 'sales', database: 'sales', keyTables: [], checkStatements: [] }));
  original = await tableChecksums(url());
}, 180_000);

afterAll(() => stopStack(stack, cluster), 60_000);

describe('a partitioned table in row recovery', () => {
  it('the archive lists the parent and its partitions as tables, with each partition under its parent, and no ATTACH entry', async () => {
    const stored = await loadBackup(BigInt(backup.id));
    const signal = new AbortController().signal;
    const toc = await readToc(storedInput(stored.storage, stored.backup, signal), '/usr/lib/postgresql/15/bin/pg_restore', signal);
    const partitions = Array.from({ length: MONTHS }, (_, i) => partition(i));
    expect(toc.tables.filter((t) => !t.startsWith('public.'))).toEqual(['sales.orders', ...partitions]);
    expect(toc.tables.some((t) => t.startsWith('ATTACH.'))).toBe(false);
    expect(toc.partitions).toEqual(partitions.map((child) => ({ parent: 'sales.orders', child })));
    // The row-recovery picker offers it once.
    expect(tableChoices(toc.tables, toc.partitions)).toEqual([{ table: 'sales.orders', partitions: MONTHS }]);
  }, 60_000);

  it('refuses a partitioned table together with one of its partitions', async () => {
    const { id } = await startComparison(s().operator, { backupId: String(backup.id), tables: ['sales.orders', partition(3)] }, IP);
    const job = await waitDone(id);
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('VALIDATION');
    expect(job.error_message).toBe(`${partition(3)} is a partition of sales.orders, which is compared with all its partitions.`);
  });

  it('compares the parent as one table and re-inserts rows deleted across several partitions', async () => {
    // The incident: every 97th order gone (across many months), and the last ten with the sequence set back.
    const deleted = (await sql<{ id: string; part: string }>(url(), `SELECT o.id::text AS id, o.tableoid::regclass::text AS part FROM sales.orders o WHERE o.id % 97 = 0 OR o.id > 5490 ORDER BY o.id`));
    expect(new Set(deleted.map((d) => d.part)).size).toBeGreaterThan(20);
    await sql(url(), 'DELETE FROM sales.orders WHERE id % 97 = 0 OR id > 5490');
    await sql(url(), `UPDATE sales.orders SET amount = amount + 1 WHERE id IN (5, 600)`);
    await sql(url(), `SELECT setval('sales.orders_id_seq', 5490)`);

    const { id } = await startComparison(s().operator, { backupId: String(backup.id), tables: ['sales.orders'] }, IP);
    const job = await waitDone(id, 120_000);
    expect(job.status, why(job)).toBe('succeeded');
    const result = job.result as unknown as ComparisonResult;
    expect(result.tables).toHaveLength(1);
    const t = result.tables[0]!;
    expect(t).toMatchObject({ table: 'sales.orders', schema: 'sales', name: 'orders', primaryKey: ['id', 'placed'], backupRows: 5500, productionRows: 5500 - deleted.length, newInProduction: 0 });
    expect(t.partitions).toHaveLength(MONTHS);
    expect(t.missing.count).toBe(deleted.length);
    const byId = (ids: string[]) => [...ids].sort((x, y) => Number(x) - Number(y));
    expect(byId(t.missing.keys.map((k) => k[0]!))).toEqual(deleted.map((d) => d.id));
    expect(t.changed.count).toBe(2);

    const re = await waitDone((await startReinsert(s().admin, id, { confirm: 'sales' }, IP)).id, 120_000);
    expect(re.status, why(re)).toBe('succeeded');
    expect(re.result).toMatchObject({ order: ['sales.orders'], tables: [{ table: 'sales.orders', inserted: deleted.length, expected: deleted.length }], scratchDropped: true });
    expect(re.result).toMatchObject({ sequences: [{ sequence: 'sales.orders_id_seq', from: '5490', to: '5500' }] });
    // Each row is back in its own partition; apart from the two edited rows, the table is as the backup has it.
    const back = await sql<{ id: string; part: string }>(url(), `SELECT o.id::text AS id, o.tableoid::regclass::text AS part FROM sales.orders o WHERE o.id = ANY($1::bigint[]) ORDER BY o.id`, [deleted.map((d) => d.id)]);
    expect(back).toEqual(deleted);
    await sql(url(), `UPDATE sales.orders SET amount = amount - 1 WHERE id IN (5, 600)`);
    expect(await tableChecksums(url())).toEqual(original);
    expect((await databases(cluster!)).filter((d) => d.includes('_recover_'))).toEqual([]);
    expect((await rejection(startReinsert(s().admin, id, { confirm: 'sales' }, IP))).code).toBe('RECOVERY_SCRATCH_GONE');
  }, 240_000);
});
