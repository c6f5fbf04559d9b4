// Seeds the demo: three users (admin, operator, viewer) and the sample application database `eitherway`.
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../lib/generated/prisma/client';
import { hashPassword } from '../../lib/auth/password';
import type { Role } from '../../lib/auth/roles';

export interface DemoLogin {
  email: string;
  password: string;
  role: Role;
  name: string;
  created: boolean;
}

/** Creates each user that does not exist yet; existing users (and changed passwords) are kept. */
export async function seedUsers(url: string, logins: Omit<DemoLogin, 'created'>[]): Promise<DemoLogin[]> {
  const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  try {
    const out: DemoLogin[] = [];
    for (const l of logins) {
      const existing = await db.user.findUnique({ where: { email: l.email } });
      if (!existing) {
        await db.$transaction(async (tx) => {
          const user = await tx.user.create({ data: { email: l.email, name: l.name, role: l.role, passwordHash: await hashPassword(l.password) } });
          await tx.auditLog.create({ data: { actorEmail: 'system', action: 'user.create', entityType: 'user', entityId: user.id, params: { email: l.email, role: l.role, source: 'seed' } } });
        });
      }
      out.push({ ...l, created: !existing });
    }
    return out;
  } finally {
    await db.$disconnect();
  }
}

const DEMO_SQL = `
CREATE SCHEMA IF NOT EXISTS core;
CREATE TABLE IF NOT EXISTS core.users (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  full_name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz
);
CREATE TABLE IF NOT EXISTS core.sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id bigint NOT NULL REFERENCES core.users(id) ON DELETE CASCADE,
  started_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,
  user_agent text,
  ip inet
);
CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON core.sessions(user_id);
-- The runbook's integrity check: counts rows and refreshes planner statistics, failing loudly if a table is empty.
CREATE OR REPLACE FUNCTION core.analyze_query_performance()
RETURNS TABLE(table_name text, row_count bigint, dead_tuples bigint)
LANGUAGE plpgsql AS $fn$
BEGIN
  RETURN QUERY
    SELECT 'core.users'::text, (SELECT count(*) FROM core.users), coalesce((SELECT n_dead_tup FROM pg_stat_user_tables WHERE schemaname = 'core' AND relname = 'users'), 0)
    UNION ALL
    SELECT 'core.sessions'::text, (SELECT count(*) FROM core.sessions), coalesce((SELECT n_dead_tup FROM pg_stat_user_tables WHERE schemaname = 'core' AND relname = 'sessions'), 0);
  IF (SELECT count(*) FROM core.users) = 0 THEN
    RAISE EXCEPTION 'integrity check failed: core.users is empty';
  END IF;
END;
$fn$;
`;

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Edsger', 'Barbara', 'Ken', 'Radia', 'Dennis', 'Frances', 'Tim', 'Sophie'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Dijkstra', 'Liskov', 'Thompson', 'Perlman', 'Ritchie', 'Allen', 'Berners-Lee', 'Wilson'];

/** Creates `eitherway` with core.users and core.sessions (deterministic sample rows) if it does not exist. */
export async function seedDemoDatabase(adminUrl: string, dbName = 'eitherway', users = 500): Promise<{ created: boolean }> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  let created = false;
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (!rowCount) {
      await admin.query(`CREATE DATABASE "${dbName.replaceAll('"', '""')}"`);
      created = true;
    }
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(dbName)}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    await db.query(DEMO_SQL);
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM core.users');
    if (Number(rows[0]!.n) === 0) {
      // Deterministic rows: the same demo on every machine, so row counts in docs and tests match.
      await db.query(
        `INSERT INTO core.users (email, full_name, created_at, last_seen_at)
         SELECT lower(($1::text[])[1 + (i % 12)]) || '.' || i || '@eitherway.example',
                ($1::text[])[1 + (i % 12)] || ' ' || ($2::text[])[1 + ((i * 7) % 12)],
                timestamptz '2026-01-01 00:00+00' + (i || ' hours')::interval,
                timestamptz '2026-06-01 00:00+00' + ((i * 13) % 2000 || ' minutes')::interval
         FROM generate_series(1, $3::int) AS i`,
        [FIRST, LAST, users],
      );
      await db.query(
        `INSERT INTO core.sessions (id, user_id, started_at, ended_at, user_agent, ip)
         SELECT md5('session' || s)::uuid, 1 + (s % $1::int),
                timestamptz '2026-06-01 00:00+00' + (s || ' minutes')::interval,
                timestamptz '2026-06-01 00:00+00' + ((s + 30) || ' minutes')::interval,
                (ARRAY['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (Macintosh)', 'curl/8.5.0'])[1 + s % 3],
                ('10.' || (s % 250) || '.' || (s % 200) || '.' || (1 + s % 250))::inet
         FROM generate_series(1, $1::int * 4) AS s`,
        [users],
      );
    }
  } finally {
    await db.end();
  }
  return { created };
}

/**
 * Registers the sample database as a target with the runbook's daily schedule (02:00, kept 30 days) and a local
 * storage in the data folder. Needs DATABASE_URL and LIFEBOAT_MASTER_KEY in process.env (the lib reads them).
 */
export async function seedDemoTarget(opts: { port: number; password: string; backupsDir: string; timezone: string }) {
  const { getDb } = await import('../../lib/db');
  const { systemActor } = await import('../../lib/audit/write-audit');
  const { createTarget } = await import('../../lib/targets/manage-targets');
  const { createSchedule } = await import('../../lib/schedules/manage-schedules');
  const db = getDb();
  let storage = await db.storage.findUnique({ where: { name: 'local' } });
  storage ??= await db.storage.create({ data: { name: 'local', kind: 'local', path: opts.backupsDir } });
  const existing = await db.target.findUnique({ where: { name: 'eitherway' } });
  if (existing) return { targetId: existing.id, created: false };
  const target = await createTarget(
    systemActor,
    {
      name: 'eitherway',
      host: '127.0.0.1',
      port: opts.port,
      dbUser: 'postgres',
      password: opts.password,
      sslMode: 'disable',
      database: 'eitherway',
      keyTables: ['core.users', 'core.sessions'],
      checkStatements: ['SELECT core.analyze_query_performance()', 'SELECT count(*) FROM core.users', 'SELECT count(*) FROM core.sessions'],
      workerPool: 'default',
      storageId: storage.id,
    },
    null,
  );
  await createSchedule(
    systemActor,
    { targetId: target.id as string, cron: '0 2 * * *', timezone: opts.timezone, format: 'custom-zstd', compressLevel: 0, zstdLevel: 2, retentionDays: 30, retentionCount: null, enabled: true },
    null,
  );
  return { targetId: target.id as string, created: true };
}
