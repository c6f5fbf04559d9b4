// take: pg_basebackup into the job's scratch folder, with live progress (bytes done of the server's estimate, the
// archive being written, tablespaces) and its own words in the job log; a refusal by the server becomes the code
// that says what to change. Cancel and expiry stop it through the job's signal (runTool sends SIGTERM).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { ToolError } from '../../lib/jobs/tool-error';
import { classifyBaseBackupFailure, parseBaseBackupProgress, parseWalPoint, sortOutputFiles, startPgBasebackup, type BaseBackupProgress } from '../pg/pg-basebackup';
import { lineLogger, requireSuccess, tail } from '../pg/run-tool';
import type { BasePlan } from './plan';

export interface Taken {
  /** The folder pg_basebackup wrote. */
  dir: string;
  /** Its files, in the order they are stored (backup_manifest last). */
  files: string[];
  /** From --verbose; the manifest's WAL-Ranges is the record, these are for the log and a cross-check. */
  startLsn: string | null;
  endLsn: string | null;
  timeline: number | null;
  stoppedAt: Date;
}

const mb = (n: number) => (n / 1e6).toFixed(1);

/** `share`: the part of the job's progress bar this step fills (0..share). */
export async function takeBaseBackup(ctx: JobContext<unknown>, plan: BasePlan, o: { label: string; env: Record<string, string>; share: number }): Promise<Taken> {
  const dir = join(await ctx.scratch(), 'base');
  const logger = lineLogger((l, level) => ctx.log(l, level), { tool: 'pg_basebackup' });
  let last: BaseBackupProgress | null = null;
  const points: { start?: string; end?: string; timeline?: number } = {};
  const onLine = (line: string) => {
    const p = parseBaseBackupProgress(line);
    if (p) {
      last = p;
      const pct = Math.min(99, p.percent);
      const ts = p.tablespaces > 1 ? ` · tablespace ${Math.min(p.tablespacesDone + 1, p.tablespaces)}/${p.tablespaces}` : '';
      void ctx.progress((pct / 100) * o.share, `${p.file ? `${p.file} · ` : ''}${mb(p.doneBytes)} of ${mb(p.totalBytes)} MB read from the server${ts}`).catch(() => {});
      return;
    }
    const w = parseWalPoint(line);
    if (w?.which === 'start') Object.assign(points, { start: w.lsn, timeline: w.timeline });
    if (w?.which === 'end') points.end = w.lsn;
    logger.onLine(line);
  };
  const r = await startPgBasebackup({ exe: plan.tools.path('pg_basebackup'), dir, settings: plan.settings, toolMajor: plan.tools.major, label: o.label, env: o.env, signal: ctx.signal, onLine }).finally(() => logger.flush());
  if (r.exitCode !== 0) {
    const detail = tail(r.stderrTail);
    if (/No space left on device/.test(r.stderrTail)) throw new ToolError('DISK_FULL', `The worker's scratch folder (${dir}) is full.`, detail);
    const why = classifyBaseBackupFailure(r.stderrTail);
    if (why === 'no-replication' || why === 'hba')
      throw new UserError('BASE_BACKUP_REPLICATION_DENIED', `The server refused pg_basebackup's replication connection as user "${plan.target.dbUser}": ${lastLine(r.stderrTail)}`);
    if (why === 'wal-level' || why === 'no-wal-senders') throw new UserError('BASE_BACKUP_NOT_CONFIGURED', `The server is not set up for base backups: ${lastLine(r.stderrTail)}`);
    if (why === 'compression') throw new UserError('BASE_BACKUP_COMPRESSION_UNSUPPORTED', `The server or pg_basebackup cannot compress this way: ${lastLine(r.stderrTail)}`);
    requireSuccess(r, 'pg_basebackup', 'BACKUP_TOOL_FAILED');
  }
  const files = sortOutputFiles(await readdir(dir));
  const done = last as BaseBackupProgress | null;
  await ctx.log(`pg_basebackup wrote ${files.join(', ')}${done ? ` (${mb(done.doneBytes)} MB read from the server)` : ''}; WAL ${points.start ?? '?'} to ${points.end ?? '?'} on timeline ${points.timeline ?? '?'}`);
  return { dir, files, startLsn: points.start ?? null, endLsn: points.end ?? null, timeline: points.timeline ?? null, stoppedAt: new Date() };
}

function lastLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  return (lines[lines.length - 1] ?? '').replace(/^pg_basebackup: error: /, '').trim();
}
