// snapshot and facts: one exported snapshot that pg_dump then dumps, and what is read in it for the manifest (the
// key tables' row counts and fingerprints, the database's own properties), so the facts describe the file exactly.
import type pg from 'pg';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { connect, isConnectionLoss, type TargetConn } from '../pg/connect';
import type { DatabaseProperties } from '../restore/database-properties';
import { databaseAclSql, databaseRowSql, databaseSettingsSql, keyTableFingerprintSql, parseDatabaseProperties, tableCountSql, type AclRow, type DatabaseRow, type SettingRow } from './catalog-sql';

export interface SnapshotFacts {
  /** pg_export_snapshot(): valid while `release` has not been called. */
  snapshot: string;
  tableCount: number;
  databaseProperties: DatabaseProperties;
  keyTableCounts: Record<string, number>;
  keyTableChecksums: Record<string, string>;
}

/**
 * Opens the snapshot and reads the facts in it. The connection stays open (the snapshot lives as long as its
 * transaction) until `release()`, which the dump calls once pg_dump has it; on failure the cleanup stack closes it.
 */
export async function takeSnapshot(ctx: JobContext<unknown>, conn: TargetConn, keyTables: string[]): Promise<SnapshotFacts & { release(): Promise<void> }> {
  const client = await connect(conn, { log: ctx.log });
  const close = () => client.end().catch(() => {});
  const drop = ctx.defer(`close the snapshot connection to ${conn.database}`, close);
  const release = async () => {
    drop();
    await client.query('COMMIT').catch(() => {});
    await close();
  };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await client.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
    const tableCount = Number((await client.query<{ n: string }>(tableCountSql)).rows[0]!.n);
    const databaseProperties = await readDatabaseProperties(client);
    const keyTableCounts: Record<string, number> = {};
    const keyTableChecksums: Record<string, string> = {};
    for (const t of keyTables) {
      // A savepoint a key table: a failed fingerprint (no such table, no SELECT privilege) would otherwise abort the
      // snapshot's transaction, and with it every later statement and pg_dump's import of the snapshot.
      await client.query('SAVEPOINT key_table');
      try {
        const fp = (await client.query<{ n: string; h: string }>(keyTableFingerprintSql(t))).rows[0]!;
        keyTableCounts[t] = Number(fp.n);
        keyTableChecksums[t] = fp.h;
        await client.query('RELEASE SAVEPOINT key_table');
      } catch (err) {
        // A lost connection is not this table's problem: the snapshot is gone, and the backup with it.
        if (isConnectionLoss(err)) throw err;
        await client.query('ROLLBACK TO SAVEPOINT key_table');
        await client.query('RELEASE SAVEPOINT key_table');
        await ctx.log(`key table ${t} could not be fingerprinted (its count and checksum are left out of the manifest): ${(err as Error).message}`, 'warn');
      }
    }
    return { snapshot, tableCount, databaseProperties, keyTableCounts, keyTableChecksums, release };
  } catch (err) {
    await release();
    throw err;
  }
}

/** pg_database, aclexplode(datacl) and pg_db_role_setting of the connected database, in the caller's transaction. */
async function readDatabaseProperties(client: pg.Client): Promise<DatabaseProperties> {
  const d = (await client.query<DatabaseRow>(databaseRowSql)).rows[0]!;
  const acl = (await client.query<AclRow>(databaseAclSql)).rows;
  const settings = (await client.query<SettingRow>(databaseSettingsSql)).rows;
  return parseDatabaseProperties(d, acl, settings);
}
