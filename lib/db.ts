// The Prisma client (adapter-pg), one per process; the only door to the console's database.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

const globalForDb = globalThis as unknown as { lifeboatDb?: PrismaClient; lifeboatDbUrl?: string };

function connectionString(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set. Set it to the console database URL (see .env.example).');
  return url;
}

export function getDb(): PrismaClient {
  const url = connectionString();
  if (!globalForDb.lifeboatDb || globalForDb.lifeboatDbUrl !== url) {
    // A short connect timeout lets a dead database surface as a 503 instead of a hung page.
    const adapter = new PrismaPg({ connectionString: url, connectionTimeoutMillis: 5_000, max: 10 });
    globalForDb.lifeboatDb = new PrismaClient({ adapter });
    globalForDb.lifeboatDbUrl = url;
  }
  return globalForDb.lifeboatDb;
}

export type Db = PrismaClient;
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
