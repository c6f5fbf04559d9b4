// zstd: argv builders for compressing, decompressing and testing, and runners that always check its exit status
// (a zstd that failed must never pass for a good archive). Every flag from zstd(1).
import type { Readable } from 'node:stream';
import type { ErrorCode } from '../../lib/errors';
import { requireSuccess, runTool, type ToolResult, type ToolSpec } from './run-tool';

/** zstd compressing stdin to stdout. */
export function zstdCompressArgs(level: number, threads: number): string[] {
  // -<level>: compression level; -T<n>: worker threads (with 1, zstd still overlaps reading and writing with
  // compression); -c: to stdout; -q: no progress meter on stderr.
  return [`-${level}`, `-T${threads}`, '-c', '-q'];
}

/**
 * zstd decompressing `src` (null: stdin) into `dest` (null: stdout). -d checks each frame's content checksum;
 * -f replaces dest if present (it is the job's own scratch file).
 */
export function zstdDecompressArgs(src: string | null, dest: string | null): string[] {
  // -d: decompress; -q: no progress meter; -c: to stdout; -f -o: to that file, replacing it.
  return ['-d', '-q', ...(dest === null ? ['-c'] : ['-f']), ...(src === null ? [] : [src]), ...(dest === null ? [] : ['-o', dest])];
}

/** zstd testing `src` (null: stdin): decodes every frame and checks its checksum, writes nothing. */
export function zstdTestArgs(src: string | null): string[] {
  // -t: test the compressed data's integrity; -q: no progress meter.
  return ['-t', '-q', ...(src === null ? [] : [src])];
}

export interface ZstdRunOptions {
  signal: AbortSignal;
  onLine?: (line: string) => void;
}

/** A spec for `zstd -c` compressing stdin to stdout: the consumer of pipeTools, or stdout: 'pipe' into put(). */
export function zstdCompressTool(level: number, threads: number, o: ZstdRunOptions): ToolSpec {
  return { exe: 'zstd', args: zstdCompressArgs(level, threads), signal: o.signal, onLine: o.onLine };
}

/** A spec for zstd decompressing a file (null: stdin) to stdout. */
export function zstdDecompressTool(src: string | null, o: ZstdRunOptions): ToolSpec {
  return { exe: 'zstd', args: zstdDecompressArgs(src, null), signal: o.signal, onLine: o.onLine };
}

/** Throws `code` unless zstd exited 0 (the one check for every zstd run, piped ones too). */
export function requireZstd(r: ToolResult, what: string, code: ErrorCode): void {
  requireSuccess(r, what, code);
}

/** Decompresses a file (or a stream, e.g. a storage get(), handed over through the kernel) into `dest`. */
export async function zstdDecompressFile(src: string | Readable, dest: string, o: ZstdRunOptions & { code?: ErrorCode }): Promise<void> {
  const fromStdin = typeof src !== 'string';
  const r = await runTool({ exe: 'zstd', args: zstdDecompressArgs(fromStdin ? null : src, dest), signal: o.signal, onLine: o.onLine, stdin: fromStdin ? src : 'ignore', stdout: 'ignore' });
  requireZstd(r, 'zstd -d', o.code ?? 'BACKUP_UNREADABLE');
}

/** Decodes every frame of a file or stream and checks its checksums; throws `code` (default BACKUP_UNREADABLE). */
export async function zstdTest(src: string | Readable, o: ZstdRunOptions & { code?: ErrorCode }): Promise<void> {
  const fromStdin = typeof src !== 'string';
  const r = await runTool({ exe: 'zstd', args: zstdTestArgs(fromStdin ? null : src), signal: o.signal, onLine: o.onLine, stdin: fromStdin ? src : 'ignore', stdout: 'ignore' });
  requireZstd(r, 'zstd -t', o.code ?? 'BACKUP_UNREADABLE');
}
