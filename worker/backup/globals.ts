// globals: roles and tablespaces, which a database dump lacks (pg_dumpall --globals-only), read beside the dump so
// they add no time after it, and stored as `<name>.globals.sql`.
import type { JobContext } from '../../lib/jobs/lifecycle';
import { dumpGlobals } from '../pg/pg-dumpall';
import type { ToolSet } from '../pg/tools';

export async function readGlobals(ctx: JobContext<unknown>, tools: ToolSet, env: Record<string, string>): Promise<string> {
  const g = await dumpGlobals({ exe: tools.path('pg_dumpall'), env, signal: ctx.signal });
  if (!g.rolePasswords) await ctx.log('the backup user cannot read role passwords; saving roles without passwords', 'warn');
  return g.sql;
}
