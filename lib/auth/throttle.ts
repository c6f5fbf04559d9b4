// Sign-in throttling kept in the database: failures per account and per address slow sign-in down, then lock it.
import type { Db } from '../db';

export const throttlePolicy = {
  freeFailures: 3, // failures before any delay
  lockAfter: 10, // failures within the window that lock the key
  windowMinutes: 15,
  lockMinutes: 15,
  maxDelayMs: 4_000,
};

export interface ThrottleState {
  lockedUntil: Date | null;
  delayMs: number;
}

function keysFor(email: string, ip: string | null): string[] {
  return [`email:${email.trim().toLowerCase()}`, ...(ip ? [`ip:${ip}`] : [])];
}

/** The lock and delay that apply to the next attempt for this account and address. */
export async function checkThrottle(db: Db, email: string, ip: string | null): Promise<ThrottleState> {
  const rows = await db.authThrottle.findMany({ where: { key: { in: keysFor(email, ip) } } });
  const now = Date.now();
  let lockedUntil: Date | null = null;
  let failures = 0;
  for (const row of rows) {
    if (row.lockedUntil && row.lockedUntil.getTime() > now) {
      if (!lockedUntil || row.lockedUntil > lockedUntil) lockedUntil = row.lockedUntil;
    }
    const inWindow = now - row.lastFailureAt.getTime() < throttlePolicy.windowMinutes * 60_000;
    if (inWindow) failures = Math.max(failures, row.failures);
  }
  const over = failures - throttlePolicy.freeFailures;
  const delayMs = over <= 0 ? 0 : Math.min(throttlePolicy.maxDelayMs, 250 * 2 ** (over - 1));
  return { lockedUntil, delayMs };
}

/** Counts a failure for the account and the address; locks a key that reached the limit. */
export async function recordFailure(db: Db, email: string, ip: string | null): Promise<void> {
  const { windowMinutes, lockAfter, lockMinutes } = throttlePolicy;
  for (const key of keysFor(email, ip)) {
    // One statement so concurrent failures cannot lose a count; a failure outside the window starts over.
    await db.$executeRaw`
      INSERT INTO auth_throttle (key, failures, first_failure_at, last_failure_at)
      VALUES (${key}, 1, now(), now())
      ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN auth_throttle.last_failure_at < now() - make_interval(mins => ${windowMinutes}::int)
                        THEN 1 ELSE auth_throttle.failures + 1 END,
        first_failure_at = CASE WHEN auth_throttle.last_failure_at < now() - make_interval(mins => ${windowMinutes}::int)
                        THEN now() ELSE auth_throttle.first_failure_at END,
        last_failure_at = now(),
        locked_until = CASE WHEN auth_throttle.failures + 1 >= ${lockAfter}::int
                             AND auth_throttle.last_failure_at >= now() - make_interval(mins => ${windowMinutes}::int)
                        THEN now() + make_interval(mins => ${lockMinutes}::int) ELSE auth_throttle.locked_until END`;
  }
}

/** A successful sign-in clears the account's count (the address keeps its own). */
export async function clearFailures(db: Db, email: string): Promise<void> {
  await db.authThrottle.deleteMany({ where: { key: `email:${email.trim().toLowerCase()}` } });
}
