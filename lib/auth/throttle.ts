// Sign-in throttling kept in the database: attempts per account and per address slow sign-in down, then lock it.
// An attempt is counted before its password is checked, in one statement, so parallel guesses cannot all pass a
// check made before any of them was counted: at most `lockAfter` passwords are checked per key and window.
import type { Db } from '../db';

export const throttlePolicy = {
  freeFailures: 3, // failures before any delay
  lockAfter: 10, // failures within the window that lock the key
  windowMinutes: 15,
  lockMinutes: 15,
  maxDelayMs: 4_000,
};

export interface ThrottleState {
  /** Set when the attempt must be refused without checking the password. */
  lockedUntil: Date | null;
  delayMs: number;
}

function keysFor(email: string, ip: string | null): string[] {
  return [`email:${email.trim().toLowerCase()}`, ...(ip ? [`ip:${ip}`] : [])];
}

/**
 * Counts this attempt for the account and the address and says whether its password may be checked.
 * The count includes attempts still being checked (a success gives its count back), so the n-th concurrent
 * attempt sees n whatever the timing; the attempt that reaches `lockAfter` sets the lock and is still checked.
 */
export async function reserveAttempt(db: Db, email: string, ip: string | null): Promise<ThrottleState> {
  const { windowMinutes, lockAfter, lockMinutes } = throttlePolicy;
  // Keys in a fixed order (email before ip) so two attempts never wait on each other's rows in a cycle.
  const keys = keysFor(email, ip);
  const rows = await db.$queryRaw<{ key: string; failures: number; locked_until: Date | null }[]>`
    INSERT INTO auth_throttle AS t (key, failures, first_failure_at, last_failure_at)
    SELECT k, 1, now(), now() FROM unnest(${keys}::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n
    ON CONFLICT (key) DO UPDATE SET
      failures = CASE WHEN (t.locked_until IS NOT NULL AND t.locked_until <= now())
                        OR (t.locked_until IS NULL AND t.last_failure_at < now() - make_interval(mins => ${windowMinutes}::int))
                      THEN 1 ELSE t.failures + 1 END,
      first_failure_at = CASE WHEN (t.locked_until IS NOT NULL AND t.locked_until <= now())
                        OR (t.locked_until IS NULL AND t.last_failure_at < now() - make_interval(mins => ${windowMinutes}::int))
                      THEN now() ELSE t.first_failure_at END,
      last_failure_at = now(),
      -- An expired lock or a quiet window starts over; a running lock is never extended by more attempts.
      locked_until = CASE WHEN (t.locked_until IS NOT NULL AND t.locked_until <= now())
                            OR (t.locked_until IS NULL AND t.last_failure_at < now() - make_interval(mins => ${windowMinutes}::int))
                          THEN NULL
                          WHEN t.locked_until IS NULL AND t.failures + 1 >= ${lockAfter}::int
                          THEN now() + make_interval(mins => ${lockMinutes}::int)
                          ELSE t.locked_until END
    RETURNING key, failures, locked_until`;
  let lockedUntil: Date | null = null;
  let failures = 0;
  for (const row of rows) {
    // Past the limit: this attempt is refused unchecked (the lock was set by the attempt that reached it).
    if (row.failures > lockAfter) {
      const until = row.locked_until ?? new Date(Date.now() + lockMinutes * 60_000);
      if (!lockedUntil || until > lockedUntil) lockedUntil = until;
    }
    failures = Math.max(failures, row.failures);
  }
  // The earlier failures of this key, as before counting: 3 free, then 250 ms doubling up to the cap.
  const over = failures - 1 - throttlePolicy.freeFailures;
  const delayMs = over <= 0 ? 0 : Math.min(throttlePolicy.maxDelayMs, 250 * 2 ** (over - 1));
  return { lockedUntil, delayMs };
}

/**
 * A successful sign-in clears the account's count; the address gives back only this attempt's count (it keeps
 * its failures), and its lock is lifted only when the count is below the limit again.
 */
export async function releaseAttempt(db: Db, email: string, ip: string | null): Promise<void> {
  await db.authThrottle.deleteMany({ where: { key: `email:${email.trim().toLowerCase()}` } });
  if (!ip) return;
  await db.$executeRaw`
    UPDATE auth_throttle SET
      failures = GREATEST(failures - 1, 0),
      locked_until = CASE WHEN failures - 1 < ${throttlePolicy.lockAfter}::int THEN NULL ELSE locked_until END
    WHERE key = ${`ip:${ip}`}`;
}
