// globals: roles and tablespaces, which a database dump lacks (pg_dumpall --globals-only), read beside the dump so
// they add no time after it, and stored as `<name>.globals.sql`.
import type { JobContext } from '../../lib/jobs/lifecycle';
import { pgDumpallGlobalsArgs } from '../pg/pg-dump';
import { requireSuccess, runTool } from '../pg/run-tool';
import type { ToolSet } from '../pg/tools';

export async function readGlobals(ctx: JobContext<unknown>, tools: ToolSet, env: Record<string, string>): Promise<string> {
  const run = (noRolePasswords: boolean) => runTool({ exe: tools.path('pg_dumpall'), args: pgDumpallGlobalsArgs(noRolePasswords), env, signal: ctx.signal, stdin: 'ignore' });
  let res = await run(false);
  if (res.exitCode !== 0 && /permission denied/.test(res.stderrTail)) {
    await ctx.log('the backup user cannot read role passwords; saving roles without passwords', 'warn');
    res = await run(true);
  }
  requireSuccess(res, 'pg_dumpall --globals-only', 'BACKUP_TOOL_FAILED');
  return res.stdout;
}
