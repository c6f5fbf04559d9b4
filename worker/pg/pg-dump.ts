// pg_dump, pg_dumpall and pg_restore --list: argv builders (each flag explained from the manual), output parsers, and
// the adapter that starts pg_dump (through zstd for custom-zstd) with the job's signal and a stderr line callback.
import type { Readable } from 'node:stream';
import { pipeTools, runTool, type ToolHandle } from './run-tool';
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

export const defaultDumpSettings: DumpSettings = { format: 'custom-zstd', compressLevel: 0, zstdLevel: 2, zstdThreads: 2, jobs: 2 };

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
  /** pg_dump's exit; and zstd's for custom-zstd (null otherwise). */
  dump: ToolHandle;
  zstd: ToolHandle | null;
  /** The artifact's bytes (zstd's output for custom-zstd, pg_dump's for custom); null for the directory format. */
  stdout: Readable | null;
}

/**
 * Starts pg_dump for `settings`: custom-zstd as `pg_dump | zstd` joined by the kernel (the uncompressed stream
 * never passes through the worker), custom with its stdout to read, directory into `directory`. The connection
 * comes from `env` (PGHOST ... and a passfile, never argv).
 */
export function startPgDump(o: { exe: string; settings: DumpSettings; snapshot?: string; directory?: string; env: Record<string, string>; signal: AbortSignal; onLine: (line: string) => void }): DumpRun {
  const dump = { exe: o.exe, args: pgDumpArgs(o.settings, o.snapshot, o.directory), env: o.env, signal: o.signal, onLine: o.onLine };
  if (o.settings.format === 'directory') return { dump: runTool({ ...dump, stdout: 'ignore' }), zstd: null, stdout: null };
  if (o.settings.format === 'custom') {
    const h = runTool({ ...dump, stdout: 'pipe' });
    return { dump: h, zstd: null, stdout: h.stdout };
  }
  const { producer, consumer } = pipeTools(dump, { exe: 'zstd', args: zstdArgs({ ...o.settings, zstdThreads: zstdThreads(o.settings.zstdThreads) }), signal: o.signal, stdout: 'pipe' });
  return { dump: producer, zstd: consumer, stdout: consumer.stdout };
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
