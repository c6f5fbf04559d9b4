// pg_dump, pg_dumpall and pg_restore --list: argv builders (each flag explained from the manual), output parsers, and
// the adapter that starts pg_dump (through zstd for custom-zstd) with the job's signal and a stderr line callback.
import type { Readable } from 'node:stream';
import { pipeChain, runTool, type ToolHandle, type ToolSpec } from './run-tool';
import { zstdThreads } from './pipeline';
import { zstdCompressArgs } from './zstd';

export type DumpFormat = 'custom' | 'custom-zstd' | 'directory';

export interface DumpSettings {
  format: DumpFormat;
  /** gzip level inside the archive (custom), 0-9; the runbook uses 9. */
  compressLevel: number;
  /** zstd level for custom-zstd (the archive is written uncompressed and streamed through zstd). */
  zstdLevel: number;
  zstdThreads: number;
  /** Parallel dump processes for the directory format. */
  jobs: number;
}

export const defaultDumpSettings: DumpSettings = { format: 'custom-zstd', compressLevel: 0, zstdLevel: 3, zstdThreads: 2, jobs: 2 };

export function pgDumpArgs(s: DumpSettings, snapshot?: string, directory?: string): string[] {
  const format =
    s.format === 'directory'
      ? // --format=directory with --jobs: one file per table, dumped by parallel workers, restorable in parallel;
        // --file names the folder pg_dump creates.
        ['--format=directory', `--jobs=${s.jobs}`, `--file=${directory}`]
      : // --format=custom: one seekable archive file that pg_restore can restore selectively and in parallel.
        ['--format=custom'];
  return [
    ...format,
    // --compress: gzip inside the archive; 0 when zstd compresses the stream instead (zstd is faster and smaller).
    `--compress=${s.format === 'custom-zstd' ? 0 : s.compressLevel}`,
    // --verbose: one stderr line per object, the source of the "current object" shown in progress.
    '--verbose',
    // --no-password: never prompt; the password comes from the passfile or the run fails at once.
    '--no-password',
    // --snapshot: dump exactly what the key-table row counts were taken from.
    ...(snapshot ? [`--snapshot=${snapshot}`] : []),
  ];
}

/** zstd compressing the dump stream at the schedule's level and threads (flags in zstd.ts). */
export function zstdArgs(s: DumpSettings): string[] {
  return zstdCompressArgs(s.zstdLevel, s.zstdThreads);
}

export interface DumpRun {
  /** pg_dump's exit; zstd's for custom-zstd (null otherwise); tee's when a read-back copy was asked for. */
  dump: ToolHandle;
  zstd: ToolHandle | null;
  tee: ToolHandle | null;
  /** The artifact's bytes (zstd's output for custom-zstd, pg_dump's for custom); null for the directory format. */
  stdout: Readable | null;
}

/** `tee -p <fifo>`: stdin to stdout and to the FIFO; -p: a FIFO whose reader is gone is dropped, not fatal. */
export function teeArgs(fifo: string): string[] {
  return ['-p', fifo];
}

/**
 * Starts pg_dump for `settings`: custom-zstd as `pg_dump | zstd` joined by the kernel (the uncompressed stream
 * never passes through the worker), custom with its stdout to read, directory into `directory`. With `copyTo`
 * (a FIFO), the artifact's bytes also go there through `tee`, in the kernel, for a reader that checks them as
 * they are stored. The connection comes from `env` (PGHOST ... and a passfile, never argv).
 */
export function startPgDump(o: { exe: string; settings: DumpSettings; snapshot?: string; directory?: string; copyTo?: string; env: Record<string, string>; signal: AbortSignal; onLine: (line: string) => void }): DumpRun {
  const dump: ToolSpec = { exe: o.exe, args: pgDumpArgs(o.settings, o.snapshot, o.directory), env: o.env, signal: o.signal, onLine: o.onLine };
  if (o.settings.format === 'directory') return { dump: runTool({ ...dump, stdout: 'ignore' }), zstd: null, tee: null, stdout: null };
  const chain: ToolSpec[] = [dump];
  if (o.settings.format === 'custom-zstd') chain.push({ exe: 'zstd', args: zstdArgs({ ...o.settings, zstdThreads: zstdThreads(o.settings.zstdThreads) }), signal: o.signal });
  if (o.copyTo) chain.push({ exe: 'tee', args: teeArgs(o.copyTo), signal: o.signal });
  if (chain.length === 1) {
    const h = runTool({ ...dump, stdout: 'pipe' });
    return { dump: h, zstd: null, tee: null, stdout: h.stdout };
  }
  chain[chain.length - 1] = { ...chain[chain.length - 1]!, stdout: 'pipe' };
  const handles = pipeChain(chain);
  const last = handles[handles.length - 1]!;
  return { dump: handles[0]!, zstd: o.settings.format === 'custom-zstd' ? handles[1]! : null, tee: o.copyTo ? last : null, stdout: last.stdout };
}

// Moved to pg-dumpall.ts (its own program's adapter); re-exported for callers not moved yet.
export { pgDumpallGlobalsArgs } from './pg-dumpall';

export function fileExtension(s: DumpSettings): string {
  return s.format === 'custom-zstd' ? 'dump.zst' : s.format === 'directory' ? 'dir' : 'dump';
}

const tableLine = /dumping contents of table "([^"]+)"/;

/** The object pg_dump --verbose is working on, from one of its stderr lines. */
export function parseDumpProgress(line: string): { table?: string } {
  const m = tableLine.exec(line);
  return m ? { table: m[1] } : {};
}

/** Counts the TOC entries `pg_restore --list` printed (lines that are not comments). */
export function countTocEntries(list: string): { entries: number; tableData: number } {
  const lines = list.split('\n').filter((l) => l.trim() && !l.startsWith(';'));
  return { entries: lines.length, tableData: lines.filter((l) => / TABLE DATA /.test(l)).length };
}
