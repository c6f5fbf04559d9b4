// "Create a restore point": pg_create_restore_point on the target, and the name, position and time the server
// answered recorded in restore_points (the recoverable window's flags; a recovery can stop at it by name).
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { targetConn } from '../../lib/targets/target-conn';
import { connect } from '../pg/connect';

/** The server's refusal, with what to change for the usual causes (SQLSTATE 42501: no privilege; 55000: wal_level or recovery). */
function refusal(err: { code?: string; message: string }, target: string): UserError {
  const msg = `${target} refused pg_create_restore_point: ${err.message}`;
  if (err.code === '42501') return new UserError('RESTORE_POINT_FAILED', msg, "Connect as a superuser, or run GRANT EXECUTE ON FUNCTION pg_create_restore_point(text) TO <the target's user> on the server.");
  if (/wal level/i.test(err.message)) return new UserError('RESTORE_POINT_FAILED', msg, 'Set wal_level = replica in postgresql.conf and restart PostgreSQL (the WAL card shows the lines).');
  if (/recovery/i.test(err.message)) return new UserError('RESTORE_POINT_FAILED', msg, 'A server in recovery (a standby) cannot create one: create it on the primary.');
  return new UserError('RESTORE_POINT_FAILED', msg);
}

export async function restorePoint(ctx: JobContext<JobPayload<'restore-point'>>) {
  const db = getDb();
  const { targetId, name } = ctx.payload;
  const target = await db.target.findUnique({ where: { id: targetId } });
  if (!target) throw new UserError('NOT_FOUND', 'The target was deleted.');
  const job = await db.job.findUnique({ where: { id: ctx.jobId }, select: { createdById: true } });
  const user = job?.createdById ? await db.user.findUnique({ where: { id: job.createdById }, select: { email: true } }) : null;

  // create: one statement; the name is a bound parameter, so any printable name is safe.
  await ctx.step('creating the restore point');
  const client = await connect(targetConn(target, target.database ?? 'postgres'), { log: ctx.log });
  ctx.defer('close the connection', () => client.end(), { always: true });
  let row: { lsn: string; at: Date; tl: number | null };
  try {
    row = (
      await client.query<{ lsn: string; at: Date; tl: number | null }>(
        // The timeline is the one the server writes on: the first 8 hex digits of the point's segment name.
        "SELECT p.lsn::text AS lsn, clock_timestamp() AS at, ('x' || substr(pg_walfile_name(p.lsn), 1, 8))::bit(32)::int AS tl FROM (SELECT pg_create_restore_point($1) AS lsn) p",
        [name],
      )
    ).rows[0]!;
  } catch (err) {
    throw refusal(err as { code?: string; message: string }, target.name);
  }
  await ctx.log(`restore point "${name}" created at ${row.lsn} (timeline ${row.tl ?? 'unknown'}); it can be recovered to once the segment holding it is archived`);

  // record: the row the window and the recovery wizard read.
  await ctx.step('recording it');
  const rp = await db.restorePoint.create({
    data: { targetId, name, lsn: row.lsn, timelineId: row.tl, createdAt: row.at, createdById: job?.createdById ?? null, createdBy: user?.email ?? 'system', jobId: ctx.jobId },
  });
  return { restorePointId: rp.id.toString(), target: target.name, name, lsn: row.lsn, timeline: row.tl, createdAt: row.at.toISOString() };
}
