// verify: the stored archive is whole and readable, not only its table of contents: for a streamed dump the
// read-back already ran as it was stored (dump.ts), and here the stored object's size is checked and its TOC
// counted from its first bytes; a directory-format folder is read back by pg_restore in scratch before it is stored.
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { Storage } from '../../lib/storage/storage';
import { readStoredArchiveHead } from '../pg/archive-check';
import { decodeArchive } from '../pg/pg-restore';
import { countTocEntries } from '../pg/pg-dump';
import { runTool } from '../pg/run-tool';
import type { ToolSet } from '../pg/tools';
import { refuse, type Dumped } from './dump';

export interface TocCounts {
  entries: number;
  tableData: number;
}

export async function verify(ctx: JobContext<unknown>, r: { database: string; storage: Storage; tools: ToolSet; zstd: boolean }, dumped: Dumped): Promise<TocCounts> {
  const failed = (err: unknown) => {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw refuse((err as Error).message);
  };
  if (dumped.kind === 'folder') {
    // pg_dump wrote the folder itself; pg_restore reads every file of it back, and lists its TOC.
    await decodeArchive({ file: dumped.dir }, r.tools.path('pg_restore'), ctx.signal).catch(failed);
    const list = await runTool({ exe: r.tools.path('pg_restore'), args: ['--list', dumped.dir], signal: ctx.signal });
    if (list.exitCode !== 0) throw refuse('pg_restore --list cannot read its table of contents.', list.stderrTail);
    await ctx.log(`${r.database}: verified: pg_restore read every file of the folder back`);
    return countTocEntries(list.stdout);
  }
  const { stored } = dumped;
  if (stored.size === 0) throw refuse('pg_dump exited cleanly but wrote an empty file.');
  // What was read back is what was written; the stored object must still be all of it.
  const info = await r.storage.stat(stored.name);
  if (info?.size !== stored.size) throw refuse(`the stored object holds ${info?.size ?? 'no'} bytes but ${stored.size} were written (truncated in storage).`);
  // The TOC's counts for the manifest, from the stored object's first bytes (a few MB of a large archive).
  const head = await readStoredArchiveHead(await r.storage.get(stored.name, { signal: ctx.signal }), r.zstd, ctx.signal).catch(failed);
  await ctx.log(`${r.database}: verified: ${head.tocEntries} TOC entries, the data of all ${head.dataBlocks} read to its end${r.zstd ? ' (every zstd frame decoded)' : ''}, ${stored.size} bytes stored`);
  return { entries: head.tocEntries, tableData: head.tableData };
}
