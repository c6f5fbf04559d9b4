// "Test connection": server version, database sizes, databases the login cannot connect to, tables it cannot read,
// and the pg_dump Lifeboat will use. It fails only when no backup of the target could run (no connection, no
// fitting pg_dump); problems that stop some databases or tables are listed with ok: false.
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { targetConn } from '../../lib/targets/target-conn';
import { connect } from '../pg/connect';
import { parseServerVersionNum, toolsFor } from '../pg/tools';
import type pg from 'pg';

const UNREADABLE_SQL = `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r','p','m','S') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    AND NOT has_table_privilege(c.oid, 'SELECT') ORDER BY 1 LIMIT 200`;

async function unreadableTables(client: pg.Client): Promise<string[]> {
  return (await client.query<{ t: string }>(UNREADABLE_SQL)).rows.map((r) => r.t);
}

export async function testConnection(ctx: JobContext<JobPayload<'test-connection'>>) {
  const db = getDb();
  const target = await db.target.findUnique({ where: { id: ctx.payload.targetId } });
  if (!target) throw new UserError('NOT_FOUND', 'The target was deleted.');

  // connect: the configured database, or "postgres" when the target covers every database.
  await ctx.step('connecting');
  const first = target.database ?? 'postgres';
  const client = await connect(targetConn(target, first), { log: ctx.log });
  let check;
  try {
    const v = (await client.query<{ num: string; ver: string; user: string }>("SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS ver, current_user AS user")).rows[0]!;
    const major = parseServerVersionNum(v.num).major;

    // sizes: one database, or every one the backup would discover (a size needs CONNECT, so those without it have none).
    await ctx.step('measuring');
    const sizes = (
      await client.query<{ datname: string; bytes: string | null }>(
        `SELECT datname, CASE WHEN has_database_privilege(oid, 'CONNECT') THEN pg_database_size(oid) END AS bytes FROM pg_database
         WHERE ${target.database ? 'datname = current_database()' : 'datallowconn AND NOT datistemplate'} ORDER BY datname`,
      )
    ).rows.map((r) => ({ database: r.datname, bytes: r.bytes === null ? null : Number(r.bytes) }));

    // privileges: databases the login cannot connect to, and tables pg_dump would fail on, in each database.
    const cannotConnect: { database: string; code: string; message: string }[] = [];
    const unreadable = (await unreadableTables(client)).map((t) => (target.database ? t : `${first}: ${t}`));
    if (!target.database) {
      for (const { database } of sizes) {
        if (database === first) continue;
        let other: pg.Client | undefined;
        try {
          other = await connect(targetConn(target, database), { log: ctx.log });
          unreadable.push(...(await unreadableTables(other)).map((t) => `${database}: ${t}`));
        } catch (err) {
          if (!(err instanceof UserError)) throw err;
          cannotConnect.push({ database, code: err.code, message: err.message });
          await ctx.log(`cannot connect to database "${database}": [${err.code}] ${err.message} (its backups will fail; the other databases are backed up)`, 'warn');
        } finally {
          await other?.end().catch(() => {});
        }
      }
    }
    if (unreadable.length) await ctx.log(`the backup user cannot read ${unreadable.length} table(s): ${unreadable.slice(0, 20).join(', ')}`, 'warn');

    // tools: which pg_dump the backup will use, or why none fits.
    let tool: { version: string; binDir: string } | null = null;
    let toolProblem: { code: string; message: string; hint: string } | null = null;
    try {
      const t = await toolsFor(major, v.ver);
      tool = { version: t.version, binDir: t.binDir };
      await ctx.log(`backups will use pg_dump ${t.version} from ${t.binDir}`);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      toolProblem = { code: err.code, message: err.message, hint: err.hint };
      await ctx.log(`no pg_dump on this worker can back up this server: ${err.message} ${err.hint}`, 'error');
    }
    check = { at: new Date().toISOString(), ok: !toolProblem && unreadable.length === 0 && cannotConnect.length === 0, serverVersion: v.ver, serverMajor: major, user: v.user, sizes, cannotConnect, unreadable, tool, toolProblem };
  } finally {
    await client.end().catch(() => {});
  }
  await db.target.update({ where: { id: target.id }, data: { lastCheck: check } });
  if (check.toolProblem) {
    // Every backup would fail: so does the test, with the same code; what it found stays on the job (while this
    // worker owns it) and the target.
    await ctx.storeResult(check);
    throw new UserError('TOOL_TOO_OLD', check.toolProblem.message, check.toolProblem.hint);
  }
  return check;
}
