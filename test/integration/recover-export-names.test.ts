// The SQL export of missing rows with hostile names: a target, schema, table and column whose names hold a newline
// followed by "DROP TABLE canary;", quotes and unicode, and values built to break out of their literals. The file is
// loaded with `psql -v ON_ERROR_STOP=1 -f` into production: the rows arrive exactly, and the canary table is still there.
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCluster } from '../../scripts/lib/cluster';
import { sql } from '../helpers/db';
import { Stack, startStack, stopStack, pgEnv, type BackupRow, type JobRow, type Spawned } from '../helpers/backups';
import { backupNow, dbConfig, makeTarget, why } from '../helpers/restores';
import { startComparison, startExport } from '../../lib/recoveries/start-recovery';
import { openRecoveryExport } from '../../lib/recoveries/download-export';
import type { ComparisonResult } from '../../lib/recoveries/comparison';
import { tableChoices } from '../../lib/recoveries/table-choices';
import { readToc } from '../../worker/pg/pg-restore';
import { loadBackup, storedInput } from '../../worker/restore/archive';

let cluster: RunningCluster | undefined;
let stack: Stack | undefined;
let worker: Spawned;
let backup: BackupRow;

const s = () => stack!;
const IP = '192.0.2.10';
const DB = 'naïve "shop" ü';
const TARGET = 'evil\nDROP TABLE canary; -- "quoted" 日本';
const SCHEMA = 'sch\n"DROP TABLE canary;"';
const TABLE = "orders\nDROP TABLE canary;\n-- it's";
const COLUMN = 'note\nDROP TABLE canary;';
/** A file a psql meta-command in a value would create, if it ever ran outside its literal. */
const PWNED = join(tmpdir(), `lifeboat-pwned-${randomBytes(4).toString('hex')}`);
const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
const qt = `${q(SCHEMA)}.${q(TABLE)}`;
/** One statement in the hostile-named database (a URL cannot carry every name; a client config can). */
async function inDb<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const c = new pg.Client(dbConfig(cluster!, DB));
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}
const rowsText = async () => (await inDb<{ t: string }>(`SELECT x::text AS t FROM ${qt} x ORDER BY id`)).map((r) => r.t);
const canary = async () => (await inDb<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class WHERE relname = 'canary'`))[0]!.n;
const waitDone = (id: string): Promise<JobRow> => s().waitJob(id, ['succeeded', 'failed', 'cancelled'], 90_000, worker);

beforeAll(async () => {
  ({ cluster, stack } = await startStack('lifeboat_export_names', { password: true }));
  await sql(cluster.url('postgres'), `CREATE DATABASE ${q(DB)}`);
  await inDb(
    `CREATE TABLE canary (id int PRIMARY KEY); INSERT INTO canary VALUES (1);
     CREATE SCHEMA ${q(SCHEMA)};
     CREATE TABLE ${qt} (id int PRIMARY KEY, ${q(COLUMN)} text, "ünïcode ✓" text);
     INSERT INTO ${qt} VALUES
       (1, E'x'');\\nDROP TABLE canary;--', 'ok'),
       (2, E'\\\\! touch ${PWNED}\\n\\\\q', E'tab\\there'),
       (3, E'back\\\\slash '' "dq" \\r\\nDROP TABLE canary;', NULL),
       (4, 'plain', '日本語');`,
  );
  const target = await makeTarget(s(), { name: TARGET, database: DB, keyTables: [], checkStatements: [] });
  worker = await s().readyWorker();
  backup = await backupNow(s(), worker, target.id);
}, 180_000);

afterAll(() => stopStack(stack, cluster), 60_000);

describe('the SQL export with hostile names', () => {
  it('is loaded by psql -v ON_ERROR_STOP=1 -f: the rows come back and the canary table stays', async () => {
    const original = await rowsText();
    expect(original).toHaveLength(4);
    await inDb(`DELETE FROM ${qt} WHERE id IN (1, 2, 3)`);

    // The table as the picker offers it (pg_restore --list prints its newlines as spaces).
    const stored = await loadBackup(BigInt(backup.id));
    const signal = new AbortController().signal;
    const toc = await readToc(storedInput(stored.storage, stored.backup, signal), '/usr/lib/postgresql/15/bin/pg_restore', signal);
    const label = tableChoices(toc.tables, toc.partitions).map((c) => c.table).find((t) => t.startsWith('sch '))!;
    expect(label).toBe(`${SCHEMA}.${TABLE}`.replaceAll('\n', ' '));

    const cmp = await waitDone((await startComparison(s().operator, { backupId: String(backup.id), tables: [label] }, IP)).id);
    expect(cmp.status, why(cmp)).toBe('succeeded');
    const result = cmp.result as unknown as ComparisonResult;
    expect(result.tables[0]).toMatchObject({ table: label, schema: SCHEMA, name: TABLE, missing: { count: 3 } });

    const exp = await waitDone((await startExport(s().operator, cmp.id, { format: 'sql' }, IP)).id);
    expect(exp.status, why(exp)).toBe('succeeded');
    const file = await openRecoveryExport(s().operator, exp.id, IP);
    expect(file.name).toMatch(/^[\w.-]+$/);
    // The file as the browser gets it (streamed by the worker), saved where psql reads it.
    const saved = join(s().tempDir('lifeboat-export-'), file.name);
    await pipeline(file.stream, createWriteStream(saved));
    const body = readFileSync(saved, 'utf8');
    const res = await execa('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-f', saved], {
      env: { ...process.env, ...pgEnv(cluster!), PGDATABASE: DB },
      reject: false,
    });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await canary()).toBe(1);
    expect(existsSync(PWNED)).toBe(false);
    expect(await rowsText()).toEqual(original);
    // The header is comments and settings only: no name's newline starts a line of SQL there.
    const header = body.slice(0, body.indexOf('\nBEGIN;\n')).split('\n');
    expect(header.filter((l) => !l.startsWith('-- ') && !l.startsWith('SET '))).toEqual([]);
    expect(header[0]).toContain('evil\\nDROP TABLE canary; -- "quoted" 日本');
  }, 240_000);
});
