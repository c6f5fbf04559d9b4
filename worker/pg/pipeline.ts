// Tool pipelines for backups and restores, wired so the bytes go from tool to tool through the kernel: the worker
// only touches what it must hash. On this project's 2-core machines a Node stream costs ~6-8 ms of CPU per MB it
// passes on (socket reads in 64 KiB chunks), so relaying an uncompressed pg_dump stream into zstd cost the worker
// more CPU than pg_dump itself, on the cores pg_dump, zstd and the server need.
import { availableParallelism } from 'node:os';
import { sha256OfFile } from '../../lib/storage/hashing';
import { runTool } from './run-tool';
import { zstdDecompressArgs } from './zstd';

/**
 * zstd worker threads for a dump pipeline: at most one less than the cores, because the server backend and
 * pg_dump already keep about one core busy; a second zstd worker on 2 cores only competes with them (and adds
 * its own job hand-off), it does not add throughput.
 */
export function zstdThreads(requested: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(requested, cores - 1));
}

// The argv builders live in zstd.ts; re-exported for the callers of this file.
export { zstdDecompressArgs } from './zstd';

// The one file hasher (4 MiB blocks into one reused buffer) lives with the storage's other hashing.
export { sha256OfFile } from '../../lib/storage/hashing';

/**
 * Decompresses a .zst archive to a file and, at the same time, computes the SHA-256 of the compressed file:
 * zstd -d runs on one core, so the hash takes the idle one instead of competing with pg_restore later.
 * (One read relaying the bytes into zstd through the worker would cost more CPU than reading them twice from
 * the page cache.) The checksum's failure (a missing file) wins over zstd's, which it explains.
 */
export async function decompressAndHash(src: string, dest: string, signal: AbortSignal) {
  const z = runTool({ exe: 'zstd', args: zstdDecompressArgs(src, dest), signal, stdout: 'ignore' });
  const sum = sha256OfFile(src, signal);
  const [zr, s] = await Promise.allSettled([z, sum]);
  if (s.status === 'rejected') throw s.reason;
  if (zr.status === 'rejected') throw zr.reason;
  return { exitCode: zr.value.exitCode, stderr: zr.value.stderrTail, sha256: s.value.sha256, size: s.value.size };
}
