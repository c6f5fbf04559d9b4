// dump: pg_dump (through zstd for custom-zstd) straight into storage, every byte read back by pg_restore as it is
// stored, so the object only completes when pg_dump, zstd and the read-back all succeeded; the directory format
// is written by pg_dump into the job's scratch folder and stored file by file after it was verified there.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { ToolError } from '../../lib/jobs/tool-error';
import type { StoredObject } from '../../lib/storage/storage';
import { safeName } from '../../lib/targets/target-conn';
import { checkArchiveStream, type StreamCheck } from '../pg/archive-check';
import { parseDumpProgress, startPgDump, type DumpSettings } from '../pg/pg-dump';
import { lineLogger, requireSuccess, tail, type ToolResult } from '../pg/run-tool';
import type { ToolSet } from '../pg/tools';
import type { SnapshotFacts } from './snapshot';
import type { StoredSet } from './stored';

/** pg_dump's own words in the job log, capped: a 50 000-table schema is not a log. */
const MAX_TOOL_LOG_LINES = 2000;

export interface DumpRun {
  database: string;
  /** The artifact's name in storage. */
  name: string;
  settings: DumpSettings;
  tools: ToolSet;
  /** libpq environment (host, port, user, database, passfile). */
  env: Record<string, string>;
  store: StoredSet;
  /** This database's place in a whole-server run, for progress. */
  index: number;
  count: number;
}

export type Dumped =
  | { kind: 'stored'; stored: StoredObject; check: StreamCheck }
  | { kind: 'folder'; dir: string };

/** Thrown into storage's put when the dump or its read-back failed: the object is never completed. */
class NotComplete extends Error {}

export async function dump(ctx: JobContext<unknown>, run: DumpRun, snap: SnapshotFacts & { release(): Promise<void> }): Promise<Dumped> {
  let tablesDone = 0;
  let current = '';
  let bytes = 0;
  const logger = lineLogger((l, level) => ctx.log(l, level), { max: MAX_TOOL_LOG_LINES, tool: 'pg_dump' });
  const onLine = (line: string) => {
    const p = parseDumpProgress(line);
    if (p.table) {
      tablesDone++;
      current = p.table;
    }
    logger.onLine(line);
  };
  const dir = run.settings.format === 'directory' ? join(await ctx.scratch(), `${run.index}-${safeName(run.database)}.dir`) : undefined;
  const tick = setInterval(() => {
    if (dir) void folderBytes(dir).then((n) => (bytes = n));
    const dbPart = run.count > 1 ? `database ${run.index + 1}/${run.count} · ` : '';
    const pct = ((run.index + Math.min(0.99, tablesDone / Math.max(1, snap.tableCount))) / run.count) * 100;
    void ctx.progress(pct, `${dbPart}${current ? `table ${current} · ` : ''}${(bytes / 1e6).toFixed(1)} MB written`).catch(() => {});
  }, 1000);
  try {
    const tools = startPgDump({ exe: run.tools.path('pg_dump'), settings: run.settings, snapshot: snap.snapshot, directory: dir, env: run.env, signal: ctx.signal, onLine });
    if (dir) {
      const d = await tools.dump;
      await snap.release();
      // pg_dump writing a folder reports a full disk in its own words.
      if (d.exitCode !== 0 && /No space left on device/.test(d.stderrTail)) throw new ToolError('DISK_FULL', `The worker's scratch folder (${dir}) is full.`, tail(d.stderrTail));
      if (d.exitCode !== 0) throw dumpFailure(d);
      return { kind: 'folder', dir };
    }

    // Every byte that goes to storage is also read back as it goes (pg_restore, through zstd -d for .zst); the
    // gate in front of put completes the object only once both tools exited 0 and the read-back reached the end.
    const check = checkArchiveStream(run.settings.format === 'custom-zstd', run.tools.path('pg_restore'), ctx.signal);
    const exited = Promise.all([tools.dump, tools.zstd]);
    exited.catch(() => {});
    let tapGone = false;
    check.result.finally(() => (tapGone = true)).catch(() => {});
    const gate = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (tapGone || check.input.write(chunk)) return cb(null, chunk);
        // Backpressure from the read-back, unless it stopped (its verdict says why).
        let going = false;
        const go = () => {
          if (going) return;
          going = true;
          check.input.off('drain', go);
          cb(null, chunk);
        };
        check.input.on('drain', go);
        check.result.finally(go).catch(() => {});
      },
      flush(cb) {
        check.input.end();
        Promise.all([exited, check.result]).then(
          ([[d, z]]) => cb(d.exitCode === 0 && (!z || z.exitCode === 0) ? null : new NotComplete('the dump did not complete')),
          () => cb(new NotComplete('the dump or its read-back failed')),
        );
      },
    });
    const fed = pipeline(tools.stdout!, gate);
    fed.catch(() => {});
    const put = run.store.put(run.name, gate);
    // A storage that failed (a full disk) stops the tools at once rather than letting them fill a dead pipe.
    put.catch(() => {
      tools.dump.kill();
      tools.zstd?.kill();
      check.input.destroy();
    });
    const [stored, tools_, read] = await Promise.allSettled([put, exited, check.result]);
    await snap.release();
    if (ctx.signal.aborted) throw ctx.signal.reason;
    // What failed first explains the rest: the storage's own refusal (a full disk), then pg_dump, zstd, the read-back.
    if (stored.status === 'rejected' && stored.reason instanceof UserError) throw stored.reason;
    if (tools_.status === 'rejected') throw tools_.reason;
    const [d, z] = tools_.value;
    if (d.exitCode !== 0) throw dumpFailure(d);
    if (z) requireSuccess(z, 'zstd', 'BACKUP_TOOL_FAILED');
    if (read.status === 'rejected') throw refuse((read.reason as Error).message);
    if (stored.status === 'rejected') throw stored.reason;
    return { kind: 'stored', stored: stored.value, check };
  } finally {
    clearInterval(tick);
    await logger.flush();
  }
}

export function refuse(why: string, detail = ''): ToolError {
  return new ToolError('BACKUP_VERIFY_FAILED', `The stored backup is not a complete, readable archive: ${why}`, detail);
}

/** pg_dump's failure in words a person can act on, from its stderr. */
export function dumpFailure(r: ToolResult): UserError {
  const stderr = r.stderrTail;
  const exit = r.exitCode ?? r.signal ?? 'unknown';
  const denied = [...stderr.matchAll(/permission denied for (?:table|relation|schema|sequence) ([^\s]+)/g)].map((m) => m[1]);
  if (denied.length) return new ToolError('TARGET_PRIVILEGES', `pg_dump could not read: ${[...new Set(denied)].join(', ')}.`, tail(stderr));
  if (/server version mismatch|aborting because of server version mismatch/.test(stderr)) return new ToolError('TOOL_TOO_OLD', 'pg_dump is older than the server.', tail(stderr));
  if (/permission denied for database|does not have CONNECT privilege/.test(stderr)) return new ToolError('TARGET_CONNECT_DENIED', 'pg_dump may not connect to the database.', tail(stderr));
  if (/password authentication failed|no password supplied/.test(stderr)) return new ToolError('TARGET_AUTH_FAILED', 'pg_dump could not sign in to the target.', tail(stderr));
  if (/could not connect|Connection refused|could not translate host/.test(stderr)) return new ToolError('TARGET_UNREACHABLE', 'pg_dump could not connect to the target.', tail(stderr));
  const last = stderr.trim().split('\n').filter((l) => /error/i.test(l)).pop();
  return new ToolError('BACKUP_TOOL_FAILED', `pg_dump failed (exit ${exit})${last ? `: ${last.replace(/^pg_dump: error: /, '')}` : ''}.`, tail(stderr));
}

/** Bytes in a folder (progress of a directory-format dump). */
async function folderBytes(path: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) total += await stat(join(path, name)).then((s) => s.size, () => 0);
  return total;
}
