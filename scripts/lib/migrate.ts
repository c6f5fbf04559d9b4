// Applies prisma/migrations/*/migration.sql in order and records them in _prisma_migrations as Prisma Migrate does.
// Written here because Prisma's migrate needs a native schema engine that cannot be downloaded on these machines.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

export const migrationsDir = new URL('../../prisma/migrations/', import.meta.url).pathname;

// The same advisory lock key Prisma Migrate takes, so ours and theirs never run at once.
const LOCK_KEY = 72707369;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir = migrationsDir): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

export class MigrationError extends Error {}

/** Applies pending migrations; refuses when an applied one changed, vanished, or failed earlier. */
export async function migrate(url: string, opts: { dir?: string; log?: (line: string) => void } = {}) {
  const log = opts.log ?? (() => {});
  const migrations = await readMigrations(opts.dir);
  const client = new pg.Client({ connectionString: url, application_name: 'lifeboat-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
    );
    const known = new Map(migrations.map((m) => [m.name, m]));
    for (const row of rows) {
      if (row.rolled_back_at) continue;
      if (!row.finished_at) {
        throw new MigrationError(
          `Migration ${row.migration_name} failed earlier and was never finished. Fix the database by hand, then mark it rolled back (UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${row.migration_name}').`,
        );
      }
      const local = known.get(row.migration_name);
      if (!local) {
        throw new MigrationError(
          `Migration ${row.migration_name} is applied to the database but missing from prisma/migrations. Use the Lifeboat version that applied it.`,
        );
      }
      if (local.checksum !== row.checksum) {
        throw new MigrationError(
          `Migration ${row.migration_name} was changed after it was applied (checksum ${row.checksum.slice(0, 12)}… in the database, ${local.checksum.slice(0, 12)}… on disk). Restore the original file and put the change in a new migration.`,
        );
      }
    }
    const applied = new Set(rows.filter((r) => r.finished_at && !r.rolled_back_at).map((r) => r.migration_name));
    const done: string[] = [];
    for (const m of migrations) {
      if (applied.has(m.name)) continue;
      const id = randomUUID();
      log(`applying ${m.name}`);
      await client.query('BEGIN');
      try {
        await client.query(
          'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
          [id, m.checksum, m.name],
        );
        await client.query(m.sql);
        await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
        await client.query('COMMIT');
        done.push(m.name);
      } catch (err) {
        await client.query('ROLLBACK');
        throw new MigrationError(`Migration ${m.name} failed and was rolled back: ${(err as Error).message}`);
      }
    }
    return { applied: done, total: migrations.length };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    await client.end();
  }
}
