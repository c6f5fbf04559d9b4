// Schedule math with croner: validation with a message naming the bad field, and the next run times in a zone.
import { Cron } from 'croner';
import { UserError } from '../errors';

export const presets = [
  { label: 'Daily at 02:00 (runbook)', cron: '0 2 * * *' },
  { label: 'Weekly on Sunday at 01:00 (runbook)', cron: '0 1 * * 0' },
  { label: 'Every 6 hours', cron: '0 */6 * * *' },
  { label: 'Hourly', cron: '0 * * * *' },
];

const fieldNames = ['minute', 'hour', 'day of month', 'month', 'day of week'];
const fieldRanges: [number, number][] = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];

function badField(expr: string): string | null {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) return `it has ${parts.length} field${parts.length === 1 ? '' : 's'}; a cron expression has 5 (minute hour day-of-month month day-of-week)`;
  for (const [i, part] of parts.entries()) {
    for (const piece of part.split(',')) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(piece);
      const names = i === 3 ? /^[A-Za-z]{3}$/ : i === 4 ? /^[A-Za-z]{3}$/ : null;
      if (!m && !(names && names.test(piece))) return `the ${fieldNames[i]} field "${part}" is not valid`;
      if (m) {
        const [lo, hi] = fieldRanges[i]!;
        for (const n of [m[2], m[3]].filter(Boolean).map(Number)) {
          if (n < lo || n > hi) return `the ${fieldNames[i]} field "${part}" is out of range (${lo}-${hi})`;
        }
        if (m[4] !== undefined && Number(m[4]) === 0) return `the ${fieldNames[i]} field "${part}" has a step of 0`;
      }
    }
  }
  return null;
}

export function validateTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new UserError('INVALID_CRON', `"${tz}" is not a time zone.`, 'Use a zone name such as UTC or Europe/Berlin.', { timezone: 'is not a time zone' });
  }
}

/** Throws INVALID_CRON naming the bad field; returns the next `count` runs. */
export function nextRuns(expr: string, timezone: string, count = 5, from = new Date()): Date[] {
  validateTimezone(timezone);
  const bad = badField(expr);
  if (bad) throw new UserError('INVALID_CRON', `The schedule "${expr}" is not valid: ${bad}.`, undefined, { cron: bad });
  let job: Cron;
  try {
    job = new Cron(expr, { timezone, paused: true });
  } catch (err) {
    throw new UserError('INVALID_CRON', `The schedule "${expr}" is not valid: ${(err as Error).message}.`, undefined, { cron: (err as Error).message });
  }
  const runs = job.nextRuns(count, from);
  if (runs.length === 0) throw new UserError('INVALID_CRON', `The schedule "${expr}" never runs (a date that does not exist, such as 31 February).`, undefined, { cron: 'never runs' });
  return runs;
}
