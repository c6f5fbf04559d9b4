// Recovering deleted rows with a real worker, pg_restore 15 and zstd: 10 users deleted (their sessions cascade) and
// 3 edited in production; the comparison finds exactly those; SQL and CSV exports; the re-insert puts exactly those
// rows back in one transaction, parents first, with the id sequence caught up, and drops the scratch copy; a table
// without a primary key, a wrong typed name, a too-low role and a re-created row are refused with nothing inserted.
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { sql } from '../helpers/db';
import { rejection, tableChecksums, type Actor, type BackupRow, type JobRow } from '../helpers/backups';
import { backupNow, databaseExists, databases, makeTarget, makeUser, why, useProtectedTarget } from '../helpers/restores';
import { startComparison, startDiscard, startExport, startReinsert } from '../../lib/recoveries/start-recovery';
import { openRecoveryExport } from '../../lib/recoveries/download-export';
import type { ComparisonResult, TableComparison } from '../../lib/recoveries/comparison';

let viewer: Actor;

const prodUrl = () => fx.cluster.url('eitherway');

/** The users deleted in production (500 is the highest id, so the sequence matters) and the ones edited. */
const DELETED = [3, 17, 42, 99, 123, 250, 251, 377, 480, 500];
const EDITED = [5, 60, 300];
const IP = '192.0.2.10';

/** Each user's rows as text, and each session's, as the backup has them (read before production is changed). */
let originalUsers: Map<string, string>;
let originalSessions: Map<string, string>;
let cascadedSessionIds: string[];
let original: Record<string, string>;

async function usersText(url: string, where = 'true'): Promise<Map<string, string>> {
  const rows = await sql<{ id: string; t: string }>(url, `SELECT id::text AS id, u::text AS t FROM core.users u WHERE ${where} ORDER BY u.id`);
  return new Map(rows.map((r) => [r.id, r.t]));
}

async function sessionsText(url: string): Promise<Map<string, string>> {
  const rows = await sql<{ id: string; t: string }>(url, 'SELECT id::text AS id, x::text AS t FROM core.sessions x ORDER BY id');
  return new Map(rows.map((r) => [r.id, r.t]));
}

/** count and md5 of a table's rows in text form, optionally without some rows. */
async function checksum(url: string, table: string, where = 'true'): Promise<string> {
  return (await sql<{ v: string }>(url, `SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS v FROM ${table} x WHERE ${where}`))[0]!.v;
}

async function waitDone(id: string, timeoutMs = 60_000): Promise<JobRow> {
  return fx.stack.waitJob(id, ['succeeded', 'failed', 'cancelled'], timeoutMs, fx.worker);
}

async function compare(tables: string[], actor: Actor = fx.stack.operator): Promise<{ job: JobRow; result: ComparisonResult; byTable: Record<string, TableComparison> }> {
  const { id } = await startComparison(actor, { backupId: String(fx.backup.id), tables }, IP);
  const job = await waitDone(id);
  const result = job.result as unknown as ComparisonResult;
  return { job, result, byTable: Object.fromEntries((result?.tables ?? []).map((t) => [t.table, t])) };
}

const recoverDatabases = async () => (await databases(fx.cluster)).filter((d) => d.includes('_recover_'));
const sorted = (keys: string[][]) => keys.map((k) => k.join('|')).sort();
const jobsOfKind = async (kind: string) => (await sql<{ n: number }>(fx.stack.url, 'SELECT count(*)::int AS n FROM jobs WHERE kind = $1', [kind]))[0]!.n;

const fx = useProtectedTarget('lifeboat_recover', { password: true, seed: 'eitherway', timeoutMs: 120_000 }, { name: 'eitherway', database: 'eitherway' }, {
  // A table without a primary key, in the backup too.
  before: async () => {
    await sql(prodUrl(), `CREATE TABLE core.notes (body text NOT NULL); INSERT INTO core.notes VALUES ('one'), ('two')`);
  },
  after: async (c) => {
    viewer = await makeUser(c.stack, 'viewer');

  original = await tableChecksums(prodUrl());
  originalUsers = await usersText(prodUrl());
  originalSessions = await sessionsText(prodUrl());
  cascadedSessionIds = (await sql<{ id: string }>(prodUrl(), 'SELECT id::text AS id FROM core.sessions WHERE user_id = ANY($1::bigint[]) ORDER BY id', [DELETED])).map((r) => r.id);
  expect(cascadedSessionIds).toHaveLength(40);

  // The incident: rows deleted by mistake (their sessions go with them), a few others edited since the backup,
  // and the id sequence set back (as a restore of an older sequence value would).
  await sql(prodUrl(), 'DELETE FROM core.users WHERE id = ANY($1::bigint[])', [DELETED]);
  await sql(prodUrl(), `UPDATE core.users SET full_name = full_name || ' (edited)' WHERE id = ANY($1::bigint[])`, [EDITED]);
  await sql(prodUrl(), `SELECT setval('core.users_id_seq', 490)`);
  },
});

describe('recovering deleted rows', () => {
  let first: Awaited<ReturnType<typeof compare>>;

  it('a viewer may not compare', async () => {
    const err = await rejection(startComparison(viewer, { backupId: String(fx.backup.id), tables: ['core.users'] }, IP));
    expect(err.code).toBe('FORBIDDEN');
  });

  it('the comparison finds exactly the deleted users, the edited ones, and the cascaded sessions', async () => {
    // Children first on purpose: the re-insert must order them itself.
    first = await compare(['core.sessions', 'core.users']);
    expect(first.job.status, why(first.job)).toBe('succeeded');
    const { result, byTable } = first;
    expect(result).toMatchObject({ backupId: String(fx.backup.id), targetId: fx.targetId, target: 'eitherway', database: 'eitherway' });
    // Listed parents first, as the re-insert will put them back.
    expect(result.tables.map((t) => t.table)).toEqual(['core.users', 'core.sessions']);
    expect(result.scratchDatabase).toMatch(/^eitherway_recover_\d{8}t\d{6}z$/);
    expect(Date.parse(result.scratchExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);
    expect(await databaseExists(fx.cluster, result.scratchDatabase)).toBe(true);

    const users = byTable['core.users']!;
    expect(users).toMatchObject({ primaryKey: ['id'], backupRows: 500, productionRows: 490, newInProduction: 0, columnsOnlyInBackup: [], columnsOnlyInProduction: [] });
    expect(users.columns).toEqual(['id', 'email', 'full_name', 'created_at', 'last_seen_at']);
    expect(users.missing.count).toBe(10);
    expect(users.missing.keys).toEqual(DELETED.map((id) => [String(id)]));
    expect(users.missing.preview.map((r) => r.id)).toEqual(DELETED.map(String));
    expect(users.missing.preview[0]).toMatchObject({ id: '3', email: expect.stringMatching(/\.3@eitherway\.example$/), created_at: '2026-01-01 03:00:00+00' });
    expect(users.changed.count).toBe(3);
    expect(users.changed.preview.map((c) => c.key)).toEqual(EDITED.map((id) => [String(id)]));
    for (const c of users.changed.preview) {
      expect(c.production.full_name).toBe(`${c.backup.full_name} (edited)`);
      expect({ ...c.production, full_name: null }).toEqual({ ...c.backup, full_name: null });
    }

    const sessions = byTable['core.sessions']!;
    expect(sessions).toMatchObject({ primaryKey: ['id'], backupRows: 2000, productionRows: 1960, newInProduction: 0 });
    expect(sessions.missing.count).toBe(40);
    expect(sorted(sessions.missing.keys)).toEqual(cascadedSessionIds);
    expect(sessions.missing.preview).toHaveLength(40);
    expect(sessions.missing.preview.every((r) => DELETED.includes(Number(r.user_id)))).toBe(true);
    expect(sessions.changed.count).toBe(0);
    // The comparison read production only.
    expect(await sql<{ n: number }>(prodUrl(), 'SELECT count(*)::int AS n FROM core.users')).toEqual([{ n: 490 }]);
  }, 90_000);

  it('refuses a table without a primary key with NO_PRIMARY_KEY, before creating anything', async () => {
    const before = await recoverDatabases();
    const { job } = await compare(['core.users', 'core.notes']);
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('NO_PRIMARY_KEY');
    expect(job.error_message).toContain('core.notes');
    expect(job.error_hint).toMatch(/primary key/);
    expect(await recoverDatabases()).toEqual(before);
  });

  it('refuses a table the backup does not have', async () => {
    const { job } = await compare(['core.nope']);
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('VALIDATION');
    expect(job.error_message).toBe('The backup has no table core.nope.');
  });

  it('exports the missing rows as SQL (all tables, parents first) and as CSV (one table), for download', async () => {
    const id = first.job.id;
    const sqlJob = await waitDone((await startExport(fx.stack.operator, id, { format: 'sql' }, IP)).id);
    expect(sqlJob.status, why(sqlJob)).toBe('succeeded');
    expect(sqlJob.result).toMatchObject({ format: 'sql', rows: 50, tables: ['core.users', 'core.sessions'], fileName: 'eitherway-missing-rows.sql' });
    const sqlFile = await openRecoveryExport(fx.stack.operator, sqlJob.id, IP);
    const body = await text(sqlFile.stream);
    expect(Buffer.byteLength(body)).toBe(sqlFile.size);
    const inserts = body.split('\n').filter((l) => l.startsWith('INSERT INTO'));
    expect(inserts.filter((l) => l.startsWith('INSERT INTO "core"."users"'))).toHaveLength(10);
    expect(inserts.filter((l) => l.startsWith('INSERT INTO "core"."sessions"'))).toHaveLength(40);
    expect(inserts.findIndex((l) => l.includes('"core"."sessions"'))).toBe(10);
    expect(body).toMatch(/^BEGIN;$/m);
    expect(body.trimEnd().endsWith('COMMIT;')).toBe(true);
    expect(inserts[0]).toMatch(/^INSERT INTO "core"."users" \("id", "email", "full_name", "created_at", "last_seen_at"\) OVERRIDING SYSTEM VALUE VALUES \('3', '/);

    const csvJob = await waitDone((await startExport(fx.stack.operator, id, { format: 'csv', table: 'core.users' }, IP)).id);
    expect(csvJob.status, why(csvJob)).toBe('succeeded');
    expect(csvJob.result).toMatchObject({ format: 'csv', rows: 10, fileName: 'eitherway-missing-rows-core.users.csv' });
    const csv = (await text((await openRecoveryExport(fx.stack.operator, csvJob.id, IP)).stream)).trimEnd().split('\n');
    expect(csv[0]).toBe('id,email,full_name,created_at,last_seen_at');
    expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(DELETED.map(String));

    // Stored under the target's prefix (safeName of the target, as for backups), nothing at the storage root.
    expect((sqlJob.result as { file: string }).file).toBe(`eitherway/_exports/${id}/${sqlJob.id}.sql`);
    expect((csvJob.result as { file: string }).file).toBe(`eitherway/_exports/${id}/${csvJob.id}.csv`);
    expect(readdirSync(path.join(fx.storageDir, 'eitherway', '_exports', id)).sort()).toEqual([`${csvJob.id}.csv`, `${sqlJob.id}.sql`].sort());
    expect(existsSync(path.join(fx.storageDir, 'recoveries'))).toBe(false);

    // An export written before the move (at the root, `recoveries/<comparison>/<export>.csv`) still downloads: the
    // download reads the name its job recorded.
    const legacy = `recoveries/${id}/${csvJob.id}.csv`;
    mkdirSync(path.join(fx.storageDir, 'recoveries', id), { recursive: true });
    renameSync(path.join(fx.storageDir, (csvJob.result as { file: string }).file), path.join(fx.storageDir, legacy));
    await sql(fx.stack.url, `UPDATE jobs SET result = jsonb_set(result, '{file}', to_jsonb($2::text)) WHERE id = $1`, [csvJob.id, legacy]);
    const old = (await text((await openRecoveryExport(fx.stack.operator, csvJob.id, IP)).stream)).trimEnd().split('\n');
    expect(old).toEqual(csv);

    // CSV of several tables needs a table named; downloads are audited.
    expect((await rejection(startExport(fx.stack.operator, id, { format: 'csv' }, IP))).code).toBe('VALIDATION');
    const audit = await sql<{ action: string }>(fx.stack.url, `SELECT action FROM audit_log WHERE action = 'recovery.download'`);
    expect(audit).toHaveLength(3);
  }, 60_000);

  it('refuses the re-insert for an operator (FORBIDDEN) and for a wrong typed name (VALIDATION); nothing is inserted', async () => {
    const before = await jobsOfKind('recover-reinsert');
    const op = await rejection(startReinsert(fx.stack.operator, first.job.id, { confirm: 'eitherway' }, IP));
    expect(op.code).toBe('FORBIDDEN');
    const wrong = await rejection(startReinsert(fx.stack.admin, first.job.id, { confirm: 'eitherway_prod' }, IP));
    expect(wrong.code).toBe('VALIDATION');
    expect(wrong.fields).toEqual({ confirm: 'does not match the database name' });
    expect(wrong.message).toBe('Type the production database name "eitherway" exactly to confirm.');
    expect(await jobsOfKind('recover-reinsert')).toBe(before);
    expect(await sql<{ n: number }>(prodUrl(), 'SELECT count(*)::int AS n FROM core.users')).toEqual([{ n: 490 }]);
    expect(await sql<{ n: number }>(prodUrl(), 'SELECT count(*)::int AS n FROM core.sessions')).toEqual([{ n: 1960 }]);
  });

  it('re-inserts exactly the missing rows, users before sessions, catches up the id sequence and drops the scratch copy', async () => {
    const { id } = await startReinsert(fx.stack.admin, first.job.id, { confirm: 'eitherway' }, IP);
    const job = await waitDone(id);
    expect(job.status, why(job)).toBe('succeeded');
    expect(job.result).toMatchObject({
      database: 'eitherway',
      order: ['core.users', 'core.sessions'],
      tables: [
        { table: 'core.users', inserted: 10, expected: 10 },
        { table: 'core.sessions', inserted: 40, expected: 40 },
      ],
      sequences: [{ sequence: 'core.users_id_seq', column: 'id', from: '490', to: '500' }],
      scratchDatabase: first.result.scratchDatabase,
      scratchDropped: true,
    });
    const logs = await fx.stack.logLines(id);
    expect(logs).toContain('order (parents first): core.users, core.sessions');

    // Sessions are back exactly; users too, except the three edited since the backup (left as production has them).
    expect(await checksum(prodUrl(), 'core.sessions')).toBe(original['core.sessions']);
    expect(await sessionsText(prodUrl())).toEqual(originalSessions);
    const notEdited = `id <> ALL('{${EDITED.join(',')}}'::bigint[])`;
    const kept = [...originalUsers].filter(([k]) => !EDITED.includes(Number(k))).map(([, v]) => v);
    const [expected] = await sql<{ v: string }>(prodUrl(), `SELECT count(*) || ' rows, md5 ' || md5(string_agg(t, ',' ORDER BY t)) AS v FROM unnest($1::text[]) t`, [kept]);
    expect(await checksum(prodUrl(), 'core.users', notEdited)).toBe(expected!.v);
    expect(await checksum(prodUrl(), 'core.users', notEdited)).toMatch(/^497 rows/);
    const now = await usersText(prodUrl(), `id = ANY('{${DELETED.join(',')}}'::bigint[])`);
    expect([...now.keys()]).toEqual(DELETED.map(String));
    for (const [k, v] of now) expect(v).toBe(originalUsers.get(k));
    expect((await usersText(prodUrl(), `id = ANY('{${EDITED.join(',')}}'::bigint[])`)).get('5')).toMatch(/\(edited\)/);

    // The sequence is not behind: the next user gets an id after every re-inserted one.
    const seq = await sql<{ last_value: string; is_called: boolean }>(prodUrl(), 'SELECT last_value::text, is_called FROM core.users_id_seq');
    expect(seq).toEqual([{ last_value: '500', is_called: true }]);

    // The scratch copy and the exports are gone; the comparison cannot be used again.
    expect(await databaseExists(fx.cluster, first.result.scratchDatabase)).toBe(false);
    expect(existsSync(path.join(fx.storageDir, 'eitherway', '_exports', first.job.id))).toBe(false);
    expect(existsSync(path.join(fx.storageDir, 'recoveries', first.job.id))).toBe(false); // the one written before the move too
    expect((await rejection(startReinsert(fx.stack.admin, first.job.id, { confirm: 'eitherway' }, IP))).code).toBe('RECOVERY_SCRATCH_GONE');
    expect((await rejection(startExport(fx.stack.operator, first.job.id, { format: 'sql' }, IP))).code).toBe('RECOVERY_SCRATCH_GONE');
  }, 60_000);

  it('a second comparison finds nothing missing (3 still changed); discard drops its copy, and copies older than 24 h', async () => {
    // A scratch copy left from two days ago (a crashed job): the next recovery job on the server drops it.
    await sql(fx.cluster.url('postgres'), 'CREATE DATABASE eitherway_recover_20200101t000000z');
    const again = await compare(['core.users', 'core.sessions']);
    expect(again.job.status, why(again.job)).toBe('succeeded');
    expect(again.byTable['core.users']).toMatchObject({ backupRows: 500, productionRows: 500, missing: { count: 0, keys: [], preview: [] }, changed: { count: 3 } });
    expect(again.byTable['core.sessions']).toMatchObject({ missing: { count: 0 }, changed: { count: 0 } });
    expect(await databaseExists(fx.cluster, 'eitherway_recover_20200101t000000z')).toBe(false);

    const d = await waitDone((await startDiscard(fx.stack.operator, again.job.id, IP)).id);
    expect(d.status, why(d)).toBe('succeeded');
    expect(d.result).toMatchObject({ scratchDatabase: again.result.scratchDatabase, dropped: true });
    expect(await recoverDatabases()).toEqual([]);
    expect((await rejection(startDiscard(fx.stack.operator, again.job.id, IP))).code).toBe('RECOVERY_SCRATCH_GONE');
  }, 60_000);

  it('a row re-created since the comparison fails the whole re-insert with REINSERT_ROW_EXISTS; nothing is inserted', async () => {
    await sql(prodUrl(), 'DELETE FROM core.users WHERE id = 7');
    const c = await compare(['core.users', 'core.sessions']);
    expect(c.job.status, why(c.job)).toBe('succeeded');
    expect(c.byTable['core.users']!.missing.keys).toEqual([['7']]);
    expect(c.byTable['core.sessions']!.missing.count).toBe(4);
    // Someone puts user 7 back by hand before the admin re-inserts.
    await sql(prodUrl(), `INSERT INTO core.users (id, email, full_name) VALUES (7, 'again.7@eitherway.example', 'Back Again')`);
    const sessionsBefore = await checksum(prodUrl(), 'core.sessions');
    const job = await waitDone((await startReinsert(fx.stack.admin, c.job.id, { confirm: 'eitherway' }, IP)).id);
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('REINSERT_ROW_EXISTS');
    expect(job.error_message).toMatch(/core\.users .*\(id\)=\(7\).*nothing was inserted/);
    expect(await checksum(prodUrl(), 'core.sessions')).toBe(sessionsBefore);
    expect((await fx.stack.logLines(job.id)).some((l) => l.includes('rolled back: nothing was inserted'))).toBe(true);
    // The copy stays for another try or a discard.
    expect(await databaseExists(fx.cluster, c.result.scratchDatabase)).toBe(true);
    const d = await waitDone((await startDiscard(fx.stack.admin, c.job.id, IP)).id);
    expect(d.status, why(d)).toBe('succeeded');
    expect(await recoverDatabases()).toEqual([]);
  }, 90_000);
});

describe('tens of thousands of rows, a composite text key sorted by ICU, identity and generated columns', () => {
  const shopUrl = () => fx.cluster.url('shop');
  let shopBackup: BackupRow;
  let before: Record<string, string>;

  it('finds and re-inserts 13 200 missing orders and their events, across pages, beside rows added since the backup', async () => {
    // en-US (ICU) sorts 'b' next to 'B' and 'Ä' next to 'a'; the cluster's default (C) does not: the scratch copy
    // must sort keys the way production does, or key ranges would not line up.
    await sql(fx.cluster.url('postgres'), `CREATE DATABASE shop TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LC_COLLATE 'C.utf8' LC_CTYPE 'C.utf8'`);
    await sql(
      shopUrl(),
      `CREATE TABLE orders (region text NOT NULL, n int NOT NULL, amount numeric(12,2), tags text[], meta jsonb,
         total numeric GENERATED ALWAYS AS (amount * 2) STORED, PRIMARY KEY (region, n));
       INSERT INTO orders (region, n, amount, tags, meta)
         SELECT r, n, n * 1.25, ARRAY[r, 'x,y', 'quote"d'], jsonb_build_object('n', n, 'r', r)
         FROM unnest(ARRAY['a', 'B', 'c', 'Ä', 'z', 'Zed', 'ß']) r, generate_series(1, 6000) n;
       CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, region text NOT NULL, n int NOT NULL, body text,
         FOREIGN KEY (region, n) REFERENCES orders ON DELETE CASCADE);
       INSERT INTO events (region, n, body) SELECT region, n, 'event of ' || region || n FROM orders WHERE n % 3 = 0 ORDER BY n, region;`,
    );
    const shop = await makeTarget(fx.stack, { name: 'shop', database: 'shop', keyTables: [], checkStatements: [] });
    shopBackup = await backupNow(fx.stack, fx.worker, shop.id);
    before = await tableChecksums(shopUrl());
    const lastEvent = (await sql<{ m: string }>(shopUrl(), 'SELECT max(id)::text AS m FROM events'))[0]!.m;

    // Deleted: every 'B' order and every fifth of the others (events cascade); added since: 500 'b' orders.
    await sql(shopUrl(), `DELETE FROM orders WHERE region = 'B' OR n % 5 = 0`);
    await sql(shopUrl(), `INSERT INTO orders (region, n, amount) SELECT 'b', n, 1 FROM generate_series(1, 500) n`);
    const missingEvents = 14_000 - (await sql<{ n: number }>(shopUrl(), 'SELECT count(*)::int AS n FROM events'))[0]!.n;

    const { id } = await startComparison(fx.stack.operator, { backupId: String(shopBackup.id), tables: ['public.events', 'public.orders'] }, IP);
    const job = await waitDone(id, 120_000);
    expect(job.status, why(job)).toBe('succeeded');
    const result = job.result as unknown as ComparisonResult;
    const orders = result.tables.find((t) => t.table === 'public.orders')!;
    const events = result.tables.find((t) => t.table === 'public.events')!;
    expect(orders).toMatchObject({ primaryKey: ['region', 'n'], backupRows: 42_000, productionRows: 42_000 - 13_200 + 500, newInProduction: 500 });
    expect(orders.missing.count).toBe(13_200);
    expect(orders.changed.count).toBe(0);
    expect(orders.missing.keys.filter(([r]) => r === 'B')).toHaveLength(6000);
    expect(orders.missing.keys.every(([r, n]) => r === 'B' || Number(n) % 5 === 0)).toBe(true);
    expect(orders.missing.preview).toHaveLength(50);
    expect(orders.missing.preview[0]).toMatchObject({ region: 'a', n: '5', amount: '6.25', tags: '{a,"x,y","quote\\"d"}', total: '12.50' });
    expect(events).toMatchObject({ backupRows: 14_000, newInProduction: 0 });
    expect(events.missing.count).toBe(missingEvents);
    expect(events.changed.count).toBe(0);

    const re = await waitDone((await startReinsert(fx.stack.admin, id, { confirm: 'shop' }, IP)).id, 120_000);
    expect(re.status, why(re)).toBe('succeeded');
    expect(re.result).toMatchObject({ order: ['public.orders', 'public.events'], tables: [{ inserted: 13_200 }, { inserted: missingEvents }], scratchDropped: true });
    // Without the rows added since the backup, both tables are as the backup has them (generated totals and identities too).
    await sql(shopUrl(), `DELETE FROM orders WHERE region = 'b'`);
    const after = await tableChecksums(shopUrl());
    expect(after['public.orders']).toBe(before['public.orders']);
    expect(after['public.events']).toBe(before['public.events']);
    const seq = (await sql<{ v: string }>(shopUrl(), `SELECT last_value::text AS v FROM events_id_seq`))[0]!.v;
    expect(BigInt(seq)).toBeGreaterThanOrEqual(BigInt(lastEvent));
    expect(await recoverDatabases()).toEqual([]);
  }, 180_000);
});
