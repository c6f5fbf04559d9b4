// "Test connection": server version, database sizes, tables the user cannot read, and the pg_dump Lifeboat will use.
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { targetConn } from '../../lib/targets/target-conn';
import { connect } from '../pg/connect';
import { parseServerVersionNum, toolsFor } from '../pg/tools';

export async function testConnection(ctx: JobContext<JobPayload<'test-connection'>>) {
  const db = getDb();
  const target = await db.target.findUnique({ where: { id: ctx.payload.targetId } });
  if (!target) throw new UserError('NOT_FOUND', 'The target was deleted.');

  // connect: the configured database, or "postgres" when the target covers every database.
  await ctx.step('connecting');
  const client = await connect(targetConn(target, target.database ?? 'postgres'));
  let check;
  try {
    const v = (await client.query<{ num: string; ver: string; user: string }>("SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS ver, current_user AS user")).rows[0]!;
    const major = parseServerVersionNum(v.num).major;

    // sizes: one database, or every one the backup would discover.
    await ctx.step('measuring');
    const sizes = (
      await client.query<{ datname: string; bytes: string }>(
        target.database
          ? 'SELECT datname, pg_database_size(oid) AS bytes FROM pg_database WHERE datname = current_database()'
          : 'SELECT datname, pg_database_size(oid) AS bytes FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname',
      )
    ).rows.map((r) => ({ database: r.datname, bytes: Number(r.bytes) }));

    // privileges: tables pg_dump would fail on (checked in the connected database).
    const unreadable = (
      await client.query<{ t: string }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r','p','m','S') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'
           AND NOT has_table_privilege(c.oid, 'SELECT') ORDER BY 1 LIMIT 200`,
      )
    ).rows.map((r) => r.t);

    // tools: which pg_dump the backup will use, or why none fits.
    let tool: { version: string; binDir: string } | null = null;
    let toolProblem: { code: string; message: string; hint: string } | null = null;
    try {
      const t = await toolsFor(major, v.ver);
      tool = { version: t.version, binDir: t.binDir };
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      toolProblem = { code: err.code, message: err.message, hint: err.hint };
    }
    check = { at: new Date().toISOString(), ok: !toolProblem && unreadable.length === 0, serverVersion: v.ver, serverMajor: major, user: v.user, sizes, unreadable, tool, toolProblem };
  } finally {
    await client.end().catch(() => {});
  }
  await db.target.update({ where: { id: target.id }, data: { lastCheck: check } });
  return check;
}
