// Decompressing a stream with the command-line tools (zstd, lz4, gzip): one spec builder for whichever a file's
// compression needs, so a reader gets plain bytes on the tool's stdout and the tool's exit status to check.
import type { Readable } from 'node:stream';
import { runTool, type ToolHandle } from './run-tool';
import { zstdDecompressArgs } from './zstd';

export type StreamCompression = 'zstd' | 'lz4' | 'gzip';

/** The argv that decompresses stdin to stdout. */
export function decompressArgs(c: StreamCompression): { exe: string; args: string[] } {
  switch (c) {
    case 'zstd':
      // zstd -d -q -c: checks every frame's content checksum on the way (zstd.ts).
      return { exe: 'zstd', args: zstdDecompressArgs(null, null) };
    case 'lz4':
      // lz4 -d -c: decode the frame format pg_basebackup's lz4 writes (with its content checksum) to stdout;
      // -q: no progress meter.
      return { exe: 'lz4', args: ['-d', '-c', '-q'] };
    case 'gzip':
      // gzip -d -c: decompress to stdout (checks each member's CRC-32 and length); -q: no warnings.
      return { exe: 'gzip', args: ['-d', '-c', '-q'] };
  }
}

/** Starts the tool on `source` (a storage get(): its fd goes to the tool through the kernel); read handle.stdout. */
export function startDecompress(c: StreamCompression, source: Readable, signal: AbortSignal): ToolHandle {
  const { exe, args } = decompressArgs(c);
  return runTool({ exe, args, stdin: source, stdout: 'pipe', signal });
}
