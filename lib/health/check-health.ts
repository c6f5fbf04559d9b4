// Health for load balancers: is the console up and its database answering; no secrets, no session.
import { getDb } from '../db';

export async function checkHealth(timeoutMs = 2_000) {
  const started = Date.now();
  try {
    await Promise.race([
      getDb().$queryRaw`SELECT 1`,
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs)),
    ]);
    return { status: 'ok' as const, database: 'up' as const, latencyMs: Date.now() - started };
  } catch {
    return { status: 'unavailable' as const, database: 'down' as const, latencyMs: Date.now() - started };
  }
}
