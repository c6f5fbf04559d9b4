// Database-level operations for restores, on a maintenance connection: names, create, drop, block, terminate, rename.
import type pg from 'pg';
import { quoteIdent } from '../pg/sql';

// Kept for the callers that import it from here; the one definition is worker/pg/sql.ts.
export { quoteIdent };

/** `<base><suffix>` within PostgreSQL's 63-byte identifier limit (longer names are silently cut, and could collide). */
export function fitName(base: string, suffix: string): string {
  // Whole characters only: a name cut inside a multibyte character is not valid UTF-8.
  const chars = Array.from(base);
  while (chars.length && Buffer.byteLength(chars.join('') + suffix) > 63) chars.pop();
  return chars.join('') + suffix;
}

export function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').toLowerCase();
}

export async function databaseExists(admin: pg.Client, name: string): Promise<boolean> {
  return ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
}

export async function connectionCount(admin: pg.Client, name: string): Promise<number> {
  const r = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
  return Number(r.rows[0]!.n);
}

/** Refuses new connections, ends the open ones, and waits until none is left (up to `waitMs`). */
export async function blockAndTerminate(admin: pg.Client, name: string, waitMs = 10_000): Promise<number> {
  await admin.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS false`);
  const r = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
  const deadline = Date.now() + waitMs;
  while ((await connectionCount(admin, name)) > 0) {
    if (Date.now() > deadline) throw new Error(`connections to ${name} did not end within ${waitMs / 1000} s`);
    await new Promise((res) => setTimeout(res, 50));
  }
  return r.rowCount ?? 0;
}

export async function allowConnections(admin: pg.Client, name: string): Promise<void> {
  await admin.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS true`);
}

export async function renameDatabase(admin: pg.Client, from: string, to: string): Promise<void> {
  await admin.query(`ALTER DATABASE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)}`);
}

export async function createDatabase(admin: pg.Client, name: string): Promise<void> {
  await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
}

export async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  await admin.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS false`).catch(() => {});
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]).catch(() => {});
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
}

/** Names Lifeboat made beside production, which drop-copy may remove (never production itself). */
export const copyPattern = /_(before_restore|rolled_back|restore|drill)_\d{8}t\d{6}z$/;
