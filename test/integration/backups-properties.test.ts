// Database-level properties travel with each backup: owner, privileges (CONNECT revoked from PUBLIC and granted to a
// role), ALTER DATABASE ... SET, ALTER ROLE ... IN DATABASE ... SET, comment, encoding and connection limit are in
// the manifest (backup_log.manifest and the manifest file), exactly, as the restore side applies them. And the
// manifest's "restore by hand" lines restore into a new database while production still exists, leaving it as it was.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { sql } from '../helpers/db';
import { execa } from 'execa';
import { copyFileSync } from 'node:fs';
import { Stack, startStack, stopStack, tableChecksums, type Manifest, type Spawned } from '../helpers/backups';
import { backupNow } from '../helpers/restores';
import { openBackupForDownload } from '../../lib/backups/download-backup';

let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let storageDir: string;
const s = () => stack!;
const DB = `shop "props" ü`;
const q = `"${DB.replaceAll('"', '""')}"`;

beforeAll(async () => {
  ({ cluster, stack } = await startStack('lifeboat_properties'));
  const admin = cluster.url('postgres');
  await sql(admin, `CREATE ROLE app_owner; CREATE ROLE "app reader" LOGIN`);
  await sql(admin, `CREATE DATABASE ${q} OWNER app_owner CONNECTION LIMIT 42`);
  await sql(
    admin,
    `REVOKE CONNECT ON DATABASE ${q} FROM PUBLIC;
     GRANT CONNECT ON DATABASE ${q} TO "app reader";
     ALTER DATABASE ${q} SET work_mem = '12MB';
     ALTER DATABASE ${q} SET statement_timeout = '30s';
     ALTER ROLE "app reader" IN DATABASE ${q} SET search_path = app, public;
     COMMENT ON DATABASE ${q} IS 'the shop''s data = precious';`,
  );
  await sql(cluster.url(DB), 'CREATE TABLE t (id int)');
  storageDir = s().tempDir('lifeboat-store-');
  worker = await s().readyWorker();
}, 90_000);

afterAll(() => stopStack(stack, cluster), 60_000);

describe('database properties in the manifest', () => {
  it('records owner, ACL, settings, comment, encoding, collation and connection limit exactly', async () => {
    const storageId = (await s().storage('main', storageDir)).id;
    const t = await s().target({ name: 'props', database: DB, storageId });
    const row = await backupNow(s(), worker, t.id);
    const [info] = await sql<{ encoding: string; collate: string; ctype: string }>(cluster!.url('postgres'), `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate::text AS collate, datctype::text AS ctype FROM pg_database WHERE datname = $1`, [DB]);
    const expected = {
      name: DB,
      owner: 'app_owner',
      aclIsDefault: false,
      acl: [
        { grantee: 'PUBLIC', grantor: 'app_owner', privilege: 'TEMPORARY', grantable: false },
        { grantee: 'app reader', grantor: 'app_owner', privilege: 'CONNECT', grantable: false },
        { grantee: 'app_owner', grantor: 'app_owner', privilege: 'CONNECT', grantable: false },
        { grantee: 'app_owner', grantor: 'app_owner', privilege: 'CREATE', grantable: false },
        { grantee: 'app_owner', grantor: 'app_owner', privilege: 'TEMPORARY', grantable: false },
      ],
      settings: [
        { role: null, name: 'work_mem', value: '12MB' },
        { role: null, name: 'statement_timeout', value: '30s' },
        { role: 'app reader', name: 'search_path', value: 'app, public' },
      ],
      comment: "the shop's data = precious",
      encoding: info!.encoding,
      collate: info!.collate,
      ctype: info!.ctype,
      connectionLimit: 42,
    };
    const sortAcl = (p: typeof expected) => ({ ...p, acl: [...p.acl].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) });
    const inRow = (row.manifest as unknown as { databaseProperties: typeof expected }).databaseProperties;
    expect(sortAcl(inRow)).toEqual(sortAcl(expected));
    const inFile = JSON.parse(readFileSync(path.join(storageDir, `${row.backup_file}.manifest.json`), 'utf8')).databaseProperties;
    expect(inFile).toEqual(inRow);
  }, 60_000);

  it('a database with default privileges and nothing set says so', async () => {
    await sql(cluster!.url('postgres'), 'CREATE DATABASE plain');
    const t = await s().target({ name: 'plain', database: 'plain', storageId: (await s().storage('plain', s().tempDir('lifeboat-plain-'))).id });
    const row = await backupNow(s(), worker, t.id);
    const p = (row.manifest as unknown as { databaseProperties: Record<string, unknown> }).databaseProperties;
    expect(p).toMatchObject({ name: 'plain', owner: 'postgres', aclIsDefault: true, acl: [], settings: [], comment: null, connectionLimit: -1 });
  }, 60_000);

  it("restores by hand into a new database on the server where production still exists; production unchanged", async () => {
    const prod = cluster!.url('shop_prod');
    await sql(cluster!.url('postgres'), 'CREATE DATABASE shop_prod');
    await sql(
      prod,
      `CREATE TABLE customers (id serial PRIMARY KEY, name text);
       CREATE TABLE orders (id serial PRIMARY KEY, customer int REFERENCES customers, total numeric);
       INSERT INTO customers (name) SELECT 'c' || i FROM generate_series(1, 300) i;
       INSERT INTO orders (customer, total) SELECT 1 + i % 300, i * 1.5 FROM generate_series(1, 3000) i;`,
    );
    const storage = s().tempDir('lifeboat-byhand-store-');
    const t = await s().target({ name: 'shop-prod', database: 'shop_prod', storageId: (await s().storage('byhand', storage)).id });
    const atBackup = await tableChecksums(prod);
    const row = await backupNow(s(), worker, t.id);
    // Production moves on after the backup: a restore into it would set its sequences back.
    await sql(prod, `INSERT INTO orders (customer, total) SELECT 1, i FROM generate_series(1, 25) i`);
    const before = await tableChecksums(prod);
    expect(before).not.toEqual(atBackup);
    const manifest = JSON.parse(readFileSync(path.join(storage, `${row.backup_file}.manifest.json`), 'utf8')) as Manifest;
    const lines = manifest.restoreByHand;
    expect(lines[0]).toMatch(/^# WARNING: .*NEW database.*never 'shop_prod'/);
    expect(lines.join('\n')).toContain(`-h '127.0.0.1' -p ${cluster!.port} -U '${cluster!.superuser}'`);
    if (cluster!.password) expect(lines.join('\n')).not.toContain(cluster!.password);

    const work = s().tempDir('lifeboat-byhand-');
    copyFileSync(path.join(storage, row.backup_file), path.join(work, manifest.file));
    copyFileSync(path.join(storage, `${row.backup_file}.globals.sql`), path.join(work, manifest.globals.file));
    const env = { ...process.env, ...(cluster!.password ? { PGPASSWORD: cluster!.password } : {}) };
    const run = (line: string) => execa('bash', ['-c', line], { cwd: work, env, reject: false, all: true });

    // Pasted as printed (placeholder not replaced): the shell refuses the line; no database appears.
    const databases = async () => (await sql<{ datname: string }>(cluster!.url('postgres'), 'SELECT datname FROM pg_database ORDER BY 1')).map((r) => r.datname);
    const dbsBefore = await databases();
    for (const line of lines) await run(line);
    expect(await databases()).toEqual(dbsBefore);

    // With the production name by mistake: createdb fails and nothing is restored into production.
    for (const line of lines) await run(line.replaceAll('<new_database>', 'shop_prod'));
    expect(await tableChecksums(prod)).toEqual(before);

    // As meant: a new name.
    for (const line of lines) {
      const res = await run(line.replaceAll('<new_database>', 'shop_restored'));
      expect(res.exitCode, `${line}\n${res.all}`).toBe(0);
    }
    expect(await tableChecksums(cluster!.url('shop_restored'))).toEqual(atBackup);
    expect(await tableChecksums(prod)).toEqual(before);

    // The steps need the roles file: an admin downloads it (audited, naming the part).
    const globals = await openBackupForDownload(s().admin, BigInt(row.id), '192.0.2.7', 'globals');
    const chunks: Buffer[] = [];
    for await (const c of globals.stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(readFileSync(path.join(storage, `${row.backup_file}.globals.sql`), 'utf8'));
    expect(globals.name).toBe(manifest.globals.file);
    expect(globals.sha256).toBe(manifest.globals.sha256);
    const [audit] = await sql<{ params: Record<string, unknown> }>(s().url, "SELECT params FROM audit_log WHERE action = 'backup.download' ORDER BY id DESC LIMIT 1");
    expect(audit!.params).toEqual({ file: row.globals_file, part: 'globals' });
  }, 90_000);
});
