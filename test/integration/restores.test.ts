// Restores to new databases with a real worker, pg_restore 15 and zstd: identical data and checks for zstd and directory
// backups, odd database names, selected tables; typed confirmation and roles; damaged or missing files refused at
// preflight with production untouched; an existing destination refused; a failed restore drops what it created.
import { copyFileSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../helpers/db';
import { listFiles, rejection, tableChecksums, type Actor, type BackupRow } from '../helpers/backups';
import {
  allowsConnections,
  backupNow,
  checksumsOf,
  dbConfig,
  databaseExists,
  databases,
  jobCount,
  makeTarget,
  makeUser,
  restoreAndWait,
  restoreInput,
  rowCount,
  why,
  useProtectedTarget,
} from '../helpers/restores';
import { createSchedule } from '../../lib/schedules/manage-schedules';
import { startRestore } from '../../lib/restores/start-restore';
import { UserError } from '../../lib/errors';

let source: Record<string, string>;
let viewer: Actor;

const prodUrl = () => fx.cluster.url('eitherway');

const fx = useProtectedTarget('lifeboat_restores', { password: true, seed: 'eitherway' }, { name: 'eitherway', database: 'eitherway' }, {
  after: async (c) => {
    viewer = await makeUser(c.stack, 'viewer');
    source = await tableChecksums(prodUrl());
  },
});

const expectedChecks = [
  { name: 'SELECT core.analyze_query_performance()', expected: 'runs without error', actual: expect.stringMatching(/^2 row\(s\)/), ok: true },
  // Content fingerprints recorded in the dump's snapshot at backup time, compared on the restored copy.
  { name: 'content checksum core.sessions', expected: expect.stringMatching(/^\d+$/), actual: expect.stringMatching(/^\d+$/), ok: true },
  { name: 'content checksum core.users', expected: expect.stringMatching(/^\d+$/), actual: expect.stringMatching(/^\d+$/), ok: true },
  { name: 'row count core.sessions', expected: 2000, actual: 2000, ok: true },
  { name: 'row count core.users', expected: 500, actual: 500, ok: true },
];
const byName = (checks: { name: string }[]) => [...checks].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

describe('restore to a new database', () => {
  it('preflight of a zstd backup: file matches the catalog, archive tables, no missing roles, no problems', async () => {
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, fx.backup.id, { mode: 'new', targetId: fx.targetId, database: 'eitherway_preflight' }, { preflightOnly: true });
    expect(job.kind).toBe('restore-preflight');
    expect(job.status, why(job)).toBe('succeeded');
    const r = job.result as { file: { matchesCatalog: boolean; sha256: string }; archive: { tables: string[]; schemas: string[]; dumpedBy: string }; roles: { missing: string[] }; problems: unknown[]; destination: { database: string } };
    expect(r.file).toMatchObject({ matchesCatalog: true, sha256: fx.backup.checksum_sha256 });
    expect([...r.archive.tables].sort()).toEqual(['core.sessions', 'core.users']);
    expect(r.archive.schemas).toEqual(['core']);
    expect(r.archive.dumpedBy).toMatch(/^15\./);
    expect(r.roles.missing).toEqual([]);
    expect(r.problems).toEqual([]);
    expect(r.destination.database).toBe('eitherway_preflight');
    // The server runs on this host and shows its data directory: free space is measured against an estimate.
    const space = (job.result as { space: { dataDirectory: string; freeBytes: number; neededBytes: number; basis: string } | null }).space;
    expect(space).not.toBeNull();
    expect(space!.dataDirectory).toBe((await sql<{ d: string }>(fx.cluster.url('postgres'), "SELECT current_setting('data_directory') AS d"))[0]!.d);
    expect(space!.freeBytes).toBeGreaterThan(space!.neededBytes);
    expect(space!.neededBytes).toBeGreaterThan(0);
    expect(await databaseExists(fx.cluster, 'eitherway_preflight')).toBe(false);
  });

  it('an operator restores a zstd backup: identical rows in every table, checks with expected and actual counts, no temp file left', async () => {
    expect(fx.backup.format).toBe('custom-zstd');
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, fx.backup.id, { mode: 'new', targetId: fx.targetId, database: 'eitherway_copy' });
    expect(job.status, why(job)).toBe('succeeded');
    const r = job.result as Record<string, unknown> & { checks: { name: string }[] };
    expect(r).toMatchObject({ mode: 'new', method: null, database: 'eitherway_copy', backupId: String(fx.backup.id), checksOk: true });
    expect(r.restoreMs).toEqual(expect.any(Number));
    expect(byName(r.checks)).toEqual(expectedChecks);
    expect(await tableChecksums(fx.cluster.url('eitherway_copy'))).toEqual(source);
    // The runbook's integrity function came back too, and the source is untouched.
    expect(await tableChecksums(prodUrl())).toEqual(source);
    expect(job.partial_paths).toEqual([]);
    expect(listFiles(fx.storageDir).filter((f) => f.includes('.restore-'))).toEqual([]);
  });

  it('a content fingerprint that does not match what the backup recorded is a red check, even with the same row count', async () => {
    const [row] = await sql<{ manifest: { keyTableChecksums: Record<string, string> } }>(fx.stack.url, 'SELECT manifest FROM backup_log WHERE id = $1', [fx.backup.id]);
    const recorded = row!.manifest.keyTableChecksums['core.users']!;
    await sql(fx.stack.url, `UPDATE backup_log SET manifest = jsonb_set(manifest, '{keyTableChecksums,core.users}', '"1"') WHERE id = $1`, [fx.backup.id]);
    try {
      const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, fx.backup.id, { mode: 'new', targetId: fx.targetId, database: 'eitherway_fp' });
      expect(job.status, why(job)).toBe('succeeded');
      const r = job.result as { checksOk: boolean; checks: { name: string; ok: boolean; expected: unknown; actual: unknown }[] };
      expect(r.checksOk).toBe(false);
      expect(r.checks.find((c) => c.name === 'content checksum core.users')).toEqual({ name: 'content checksum core.users', expected: '1', actual: recorded, ok: false });
      expect(r.checks.find((c) => c.name === 'row count core.users')).toMatchObject({ ok: true });
    } finally {
      await sql(fx.stack.url, `UPDATE backup_log SET manifest = jsonb_set(manifest, '{keyTableChecksums,core.users}', to_jsonb($2::text)) WHERE id = $1`, [fx.backup.id, recorded]);
    }
  });

  it('restores a directory-format backup (pg_dump --jobs) to identical rows with the same checks', async () => {
    const dir = fx.stack.tempDir('lifeboat-dir-');
    const st = await fx.stack.storage('directory', dir);
    const dirTarget = await makeTarget(fx.stack, { name: 'eitherway-dir', database: 'eitherway', storageId: st.id });
    const schedule = await createSchedule(fx.stack.admin, { targetId: dirTarget.id, cron: '0 3 * * *', format: 'directory', jobs: 2, compressLevel: 6, enabled: false }, null);
    const b = await backupNow(fx.stack, fx.worker, dirTarget.id, { scheduleId: schedule.id });
    expect(b.format).toBe('directory');
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, b.id, { mode: 'new', targetId: dirTarget.id, database: 'eitherway_from_dir' });
    expect(job.status, why(job)).toBe('succeeded');
    const r = job.result as { checksOk: boolean; checks: { name: string }[]; database: string };
    expect(r.checksOk).toBe(true);
    expect(r.database).toBe('eitherway_from_dir');
    expect(byName(r.checks)).toEqual(expectedChecks);
    expect(await tableChecksums(fx.cluster.url('eitherway_from_dir'))).toEqual(source);
    expect(listFiles(dir).filter((f) => f.includes('.restore-') || f.includes('.partial'))).toEqual([]);
  }, 45_000);

  it("restores into a database whose name has quotes, a backslash, spaces and '=' (conninfo quoting)", async () => {
    const odd = `it's a "copy" \\ x=1`;
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, fx.backup.id, { mode: 'new', targetId: fx.targetId, database: odd });
    expect(job.status, why(job)).toBe('succeeded');
    expect((job.result as { checksOk: boolean }).checksOk).toBe(true);
    expect(await checksumsOf(dbConfig(fx.cluster, odd))).toEqual(source);
  });

  it('restores only the selected table (as the wizard names it, schema.table) with its rows', async () => {
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, fx.backup.id, { mode: 'new', targetId: fx.targetId, database: 'users_only' }, { tables: ['core.users'] });
    expect(job.status, why(job)).toBe('succeeded');
    const r = job.result as { checksOk: boolean; checks: { name: string; ok: boolean; actual: unknown }[] };
    expect(r.checks.filter((c) => c.name.startsWith('row count')), JSON.stringify(r.checks)).toEqual([{ name: 'row count core.users', expected: 500, actual: 500, ok: true }]);
    expect(r.checksOk).toBe(true);
    const got = await tableChecksums(fx.cluster.url('users_only'));
    expect(got['core.users']).toBe(source['core.users']);
    expect(got['core.sessions']).toBeUndefined();
    // The checks that did not apply are named with their reason, not "no checks configured".
    expect((r as { checksNotRun?: string[] }).checksNotRun).toEqual(['row count core.sessions: not among the restored tables', 'SELECT core.analyze_query_performance(): not run on a partial restore (some tables or schemas)']);
    // Its bigserial came with it: the sequence (at the backup's value), its ownership and the column default.
    const [next] = await sql<{ id: string; seq: string | null }>(fx.cluster.url('users_only'), "INSERT INTO core.users (email, full_name) VALUES ('new@example.test', 'New') RETURNING id::text, pg_get_serial_sequence('core.users', 'id') AS seq");
    expect(next).toEqual({ id: '501', seq: 'core.users_id_seq' });
  });

  describe('picking tables of a partitioned, serial and identity schema', () => {
    let parts: { id: string };
    let partsBackup: BackupRow;
    const PARTS = 'shop_parts';
    beforeAll(async () => {
      await sql(fx.cluster.url('postgres'), `CREATE DATABASE ${PARTS}`);
      await sql(
        fx.cluster.url(PARTS),
        `CREATE SCHEMA shop;
         CREATE TABLE shop.customers (id serial PRIMARY KEY, name text);
         INSERT INTO shop.customers (name) SELECT 'c' || i FROM generate_series(1, 30) i;
         CREATE TABLE shop.orders (id bigserial, placed date NOT NULL, customer int, total numeric) PARTITION BY RANGE (placed);
         CREATE TABLE shop.orders_2024_01 PARTITION OF shop.orders FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
         CREATE TABLE shop.orders_2024_02 PARTITION OF shop.orders FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
         INSERT INTO shop.orders (placed, customer, total) SELECT date '2024-01-01' + (i % 59), i % 30 + 1, i FROM generate_series(1, 300) i;
         CREATE TABLE shop.tagged (id int GENERATED ALWAYS AS IDENTITY, tag text);
         INSERT INTO shop.tagged (tag) VALUES ('a'), ('b');`,
      );
      parts = await makeTarget(fx.stack, { name: 'parts', database: PARTS, storageId: fx.storageId, keyTables: ['shop.orders', 'shop.customers'], checkStatements: ['SELECT count(*) FROM shop.orders'] });
      partsBackup = await backupNow(fx.stack, fx.worker, parts.id);
    }, 60_000);

    it('refuses tables that are not in the archive (TABLES_NOT_IN_ARCHIVE, listed) at preflight and at the restore, creating nothing', async () => {
      const before = await databases(fx.cluster);
      const pf = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, partsBackup.id, { mode: 'new', targetId: parts.id, database: 'parts_missing' }, { preflightOnly: true, tables: ['shop.nope', 'shop.customers', 'other.gone'] });
      expect(pf.status, why(pf)).toBe('succeeded');
      const problems = (pf.result as { problems: { code: string; message: string }[] }).problems;
      expect(problems.map((p) => p.code)).toEqual(['TABLES_NOT_IN_ARCHIVE']);
      expect(problems[0]!.message).toMatch(/^Not in the archive: shop\.nope, other\.gone\./);
      const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, partsBackup.id, { mode: 'new', targetId: parts.id, database: 'parts_missing' }, { tables: ['shop.nope'] });
      expect(job.status).toBe('failed');
      expect(job.error_code).toBe('TABLES_NOT_IN_ARCHIVE');
      expect(await databases(fx.cluster)).toEqual(before);
    });

    it('a partitioned table comes back whole: its partitions attached, its rows, its serial sequence and default', async () => {
      const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, partsBackup.id, { mode: 'new', targetId: parts.id, database: 'orders_only' }, { tables: ['shop.orders'] });
      expect(job.status, why(job)).toBe('succeeded');
      const r = job.result as { checksOk: boolean; checks: { name: string; ok: boolean; actual: unknown }[]; checksNotRun: string[] };
      expect(r.checks.filter((c) => c.name === 'row count shop.orders')).toEqual([{ name: 'row count shop.orders', expected: 300, actual: 300, ok: true }]);
      expect(r.checksOk).toBe(true);
      expect(r.checksNotRun).toEqual(['row count shop.customers: not among the restored tables', 'SELECT count(*) FROM shop.orders: not run on a partial restore (some tables or schemas)']);
      const url = fx.cluster.url('orders_only');
      const src = fx.cluster.url(PARTS);
      for (const t of ['shop.orders', 'shop.orders_2024_01', 'shop.orders_2024_02']) expect(await rowCount(url, t), t).toBe(await rowCount(src, t));
      expect((await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'shop.orders'::regclass"))[0]!.n).toBe(2);
      const [next] = await sql<{ id: string }>(url, "INSERT INTO shop.orders (placed) VALUES ('2024-01-15') RETURNING id::text");
      expect(next!.id).toBe('301');
      expect(await sql(url, "SELECT to_regclass('shop.customers') AS t")).toEqual([{ t: null }]);
    });

    it('an identity column keeps its identity and its position', async () => {
      const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, partsBackup.id, { mode: 'new', targetId: parts.id, database: 'tagged_only' }, { tables: ['shop.tagged'] });
      expect(job.status, why(job)).toBe('succeeded');
      const [next] = await sql<{ id: number }>(fx.cluster.url('tagged_only'), "INSERT INTO shop.tagged (tag) VALUES ('c') RETURNING id");
      expect(next!.id).toBe(3);
    });
  });

  it('refuses a destination name longer than 63 bytes (multibyte) before any job starts', async () => {
    const name = 'é'.repeat(32); // 32 characters, 64 bytes
    const before = await jobCount(fx.stack);
    const outcome = await startRestore(fx.stack.operator, restoreInput(fx.backup.id, { mode: 'new', targetId: fx.targetId, database: name }), null).then(
      (j) => ({ job: j, err: undefined }),
      (err: UserError) => ({ job: undefined, err }),
    );
    const ran = outcome.job ? await fx.stack.waitJob(outcome.job.id, undefined, 30_000, fx.worker) : undefined;
    expect(outcome.err?.code, `a 64-byte name was accepted; the job ended ${ran ? why(ran) : ''}; databases: ${(await databases(fx.cluster)).join(', ')}`).toBe('VALIDATION');
    expect(await jobCount(fx.stack)).toBe(before);
  });
});

describe('typed confirmation and roles', () => {
  const replace = { mode: 'replace', method: 'swap' } as const;

  it('refuses a wrong or missing confirmation with VALIDATION on fields.confirm and creates no job', async () => {
    const before = await jobCount(fx.stack);
    const audit = (await sql<{ n: number }>(fx.stack.url, 'SELECT count(*)::int AS n FROM audit_log'))[0]!.n;
    for (const confirm of ['eitherwa', 'EITHERWAY', ' eitherway', undefined]) {
      const err = await rejection(startRestore(fx.stack.admin, restoreInput(fx.backup.id, replace, confirm === undefined ? {} : { confirm }), null));
      expect(err).toBeInstanceOf(UserError);
      expect(err.code, String(confirm)).toBe('VALIDATION');
      expect(err.fields?.confirm).toEqual(expect.any(String));
    }
    const inPlace = await rejection(startRestore(fx.stack.admin, restoreInput(fx.backup.id, { mode: 'replace', method: 'in-place' }, { confirm: 'nope' }), null));
    expect(inPlace.code).toBe('VALIDATION');
    expect(await jobCount(fx.stack)).toBe(before);
    expect((await sql<{ n: number }>(fx.stack.url, 'SELECT count(*)::int AS n FROM audit_log'))[0]!.n).toBe(audit);
  });

  it('refuses replace for an operator or a viewer (FORBIDDEN) even with the right name; a viewer may not restore at all', async () => {
    const before = await jobCount(fx.stack);
    for (const actor of [fx.stack.operator, viewer]) {
      for (const method of ['swap', 'in-place'] as const) {
        const err = await rejection(startRestore(actor, restoreInput(fx.backup.id, { mode: 'replace', method }, { confirm: 'eitherway' }), null));
        expect(err.code, `${actor.role} ${method}`).toBe('FORBIDDEN');
      }
    }
    const v = await rejection(startRestore(viewer, restoreInput(fx.backup.id, { mode: 'new', targetId: fx.targetId, database: 'viewer_copy' }), null));
    expect(v.code).toBe('FORBIDDEN');
    expect(await jobCount(fx.stack)).toBe(before);
    // An operator may restore to a new database (its success is the zstd test above); the start itself is allowed.
    const { id } = await startRestore(fx.stack.operator, restoreInput(fx.backup.id, { mode: 'new', targetId: fx.targetId, database: 'operator_copy' }), null);
    const job = await fx.stack.waitJob(id, undefined, 30_000, fx.worker);
    expect(job.status, why(job)).toBe('succeeded');
  });
});

describe('a damaged or missing backup file', () => {
  let faulty: BackupRow;
  let file: string;
  let original: string;

  const production = async () => ({ dbs: await databases(fx.cluster), sums: await tableChecksums(prodUrl()), allow: await allowsConnections(fx.cluster, 'eitherway') });

  beforeAll(async () => {
    const t = await makeTarget(fx.stack, { name: 'faults', database: 'eitherway', storageId: fx.storageId });
    faulty = await backupNow(fx.stack, fx.worker, t.id);
    file = path.join(fx.storageDir, faulty.backup_file);
    original = path.join(fx.stack.tempDir('lifeboat-orig-'), 'original');
    copyFileSync(file, original);
  }, 45_000);

  const put = () => copyFileSync(original, file);

  async function expectRefused(code: string) {
    const before = await production();
    const pf = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, faulty.id, { mode: 'replace', method: 'swap' }, { preflightOnly: true });
    expect(pf.status, why(pf)).toBe('failed');
    expect(pf.error_code).toBe(code);
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.admin, faulty.id, { mode: 'replace', method: 'swap' }, { confirm: 'eitherway' });
    expect(job.status, why(job)).toBe('failed');
    expect(job.error_code).toBe(code);
    expect(job.error_hint).toEqual(expect.any(String));
    const newDb = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, faulty.id, { mode: 'new', targetId: fx.targetId, database: 'from_damaged' });
    expect(newDb.error_code).toBe(code);
    // Production is untouched: same databases (none created), same rows, still accepting connections.
    expect(await production()).toEqual(before);
    expect(listFiles(fx.storageDir).filter((f) => f.includes('.restore-'))).toEqual([]);
  }

  it('refuses a truncated file at preflight with BACKUP_CHECKSUM_MISMATCH', async () => {
    try {
      truncateSync(file, Math.floor(readFileSync(file).length / 2));
      await expectRefused('BACKUP_CHECKSUM_MISMATCH');
    } finally {
      put();
    }
  });

  it('refuses a file with one flipped byte with BACKUP_CHECKSUM_MISMATCH', async () => {
    try {
      const bytes = readFileSync(file);
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      writeFileSync(file, bytes);
      await expectRefused('BACKUP_CHECKSUM_MISMATCH');
    } finally {
      put();
    }
  });

  it('refuses a missing file with BACKUP_FILE_MISSING', async () => {
    try {
      renameSync(file, `${file}.moved`);
      await expectRefused('BACKUP_FILE_MISSING');
    } finally {
      renameSync(`${file}.moved`, file);
    }
  });
});

describe('destinations and failures', () => {
  it('reports DESTINATION_EXISTS at preflight and fails the restore with it, leaving the existing database untouched', async () => {
    await sql(fx.cluster.url('postgres'), 'CREATE DATABASE already_here');
    await sql(fx.cluster.url('already_here'), "CREATE TABLE keep (id int PRIMARY KEY, note text); INSERT INTO keep VALUES (1, 'mine'), (2, 'also mine')");
    const before = await tableChecksums(fx.cluster.url('already_here'));
    const pf = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, fx.backup.id, { mode: 'new', targetId: fx.targetId, database: 'already_here' }, { preflightOnly: true });
    expect(pf.status, why(pf)).toBe('succeeded');
    expect((pf.result as { problems: { code: string }[] }).problems.map((p) => p.code)).toEqual(['DESTINATION_EXISTS']);
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, fx.backup.id, { mode: 'new', targetId: fx.targetId, database: 'already_here' });
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('DESTINATION_EXISTS');
    expect(await tableChecksums(fx.cluster.url('already_here'))).toEqual(before);
    // Production's own name as a "new" database is refused the same way.
    const prod = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, fx.backup.id, { mode: 'new', targetId: fx.targetId, database: 'eitherway' });
    expect(prod.error_code).toBe('DESTINATION_EXISTS');
    expect(await tableChecksums(prodUrl())).toEqual(source);
  });

  it('a failed pg_restore (data only into an empty database) fails with RESTORE_FAILED and drops the database it created', async () => {
    const before = await databases(fx.cluster);
    const job = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, fx.backup.id, { mode: 'new', targetId: fx.targetId, database: 'data_only_fail' }, { section: 'data' });
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('RESTORE_FAILED');
    expect(job.error_detail).toMatch(/does not exist/);
    expect(await databaseExists(fx.cluster, 'data_only_fail')).toBe(false);
    expect(await databases(fx.cluster)).toEqual(before);
    expect(job.partial_paths).toEqual([]);
    expect(listFiles(fx.storageDir).filter((f) => f.includes('.restore-'))).toEqual([]);
  });
});
