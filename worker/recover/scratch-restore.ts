// Recovering deleted rows: filling the scratch copy from the archive with pg_restore (definitions, then each chosen
// table's rows by dump id); each run's list file lives in the job's scratch folder.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { lineLogger, requireSuccess, runTool } from '../pg/run-tool';
import type { ToolSet } from '../pg/tools';
import { scratchRestoreArgs, useList, type ScratchStep } from './compare-rows';

/** A schema of thousands of objects prints a line each: the log keeps a few hundred. */
const LOG_LINES = 300;

/** One pg_restore run into the scratch database; a rows step reads its entries from a list file in the job's scratch folder. */
export async function restoreIntoScratch(
  ctx: JobContext<unknown>,
  tools: ToolSet,
  archive: string,
  database: string,
  step: { kind: 'definitions' } | { kind: 'rows'; entries: number[]; index: number },
  env: Record<string, string>,
): Promise<void> {
  let run: ScratchStep = { kind: 'definitions' };
  if (step.kind === 'rows') {
    run = { kind: 'rows', entries: step.entries, listFile: join(await ctx.scratch(), `${step.index}.list`) };
    await writeFile(run.listFile, useList(run), { mode: 0o600 });
  }
  const logger = lineLogger(ctx.log, { max: LOG_LINES, tool: 'pg_restore' });
  const r = await runTool({ exe: tools.path('pg_restore'), args: scratchRestoreArgs(archive, database, run), env, signal: ctx.signal, stdin: 'ignore', onLine: logger.onLine });
  await logger.flush();
  ctx.signal.throwIfAborted();
  requireSuccess(r, 'pg_restore', 'RESTORE_FAILED');
}
