// verify: a stored base backup checked against PostgreSQL's own backup_manifest, read back from storage: each tar
// is decompressed by its tool and walked member by member (tar-stream), every regular file's size and SHA-256
// compared with the manifest, every manifest file must be found, and the WAL segments of the manifest's WAL range
// must be there whole. pg_verifybackup 15 checks plain-format backups only, so a tar backup is checked here.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { UserError } from '../../lib/errors';
import type { Storage } from '../../lib/storage/storage';
import { startDecompress } from '../pg/decompress';
import { archiveName, type ArchiveName } from '../pg/pg-basebackup';
import { lastErrorLine, type ToolHandle } from '../pg/run-tool';
import { parsePgManifest, requiredWalSegments, type PgManifest } from './pg-manifest';

export interface VerifyProblem {
  /** The damaged or missing file: a data-directory path as backup_manifest names it, or a stored archive's name. */
  file: string;
  /** The stored archive it was read from (null when it was not found in any). */
  archive: string | null;
  problem: string;
}

export interface Verification {
  ok: boolean;
  checkedAt: string;
  /** What was compared: sizes and SHA-256 (the manifest's checksums), or sizes only for another algorithm. */
  method: string;
  manifestChecksumOk: boolean;
  archives: string[];
  /** Files of backup_manifest found with the right size and checksum. */
  filesMatched: number;
  filesInManifest: number;
  bytesChecked: number;
  walSegments: string[];
  problems: VerifyProblem[];
}

export interface VerifyInput {
  storage: Storage;
  /** The backup's folder in storage (<target>/_base/<label>), without the trailing slash. */
  folder: string;
  /** WAL segment size of the server (bytes), to name the segments the WAL range needs. */
  walSegmentSize: number;
  signal: AbortSignal;
  /** Uncompressed bytes read so far, for progress. */
  onBytes?: (bytes: number) => void;
}

export interface VerifyOutput {
  verification: Verification;
  manifest: PgManifest | null;
  /** base.tar's backup_label, as PostgreSQL wrote it. */
  backupLabel: string | null;
}

/** At most this many problems are kept (a wholly wrong archive would otherwise list thousands of files). */
const MAX_PROBLEMS = 50;

export async function verifyBaseBackup(input: VerifyInput): Promise<VerifyOutput> {
  const problems: VerifyProblem[] = [];
  const problem = (p: VerifyProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const stored = (await input.storage.list(`${input.folder}/`)).map((o) => o.name.slice(input.folder.length + 1));
  const archives = stored.map(archiveName).filter((a): a is ArchiveName => a !== null);
  const base = {
    checkedAt: new Date().toISOString(),
    archives: archives.map((a) => a.file),
    walSegments: [] as string[],
  };

  // backup_manifest: read back from storage, its own checksum checked.
  let manifest: PgManifest | null = null;
  if (!stored.includes('backup_manifest')) problem({ file: 'backup_manifest', archive: null, problem: 'is not in the storage' });
  else {
    try {
      manifest = parsePgManifest(await readAll(await input.storage.get(`${input.folder}/backup_manifest`, { signal: input.signal })));
      if (!manifest.checksumOk) problem({ file: 'backup_manifest', archive: null, problem: 'its Manifest-Checksum does not match its content' });
    } catch (err) {
      if (input.signal.aborted) throw input.signal.reason;
      problem({ file: 'backup_manifest', archive: null, problem: `cannot be read: ${(err as Error).message}` });
    }
  }
  if (!archives.some((a) => a.kind === 'base')) problem({ file: 'base.tar', archive: null, problem: 'is not in the storage' });
  if (!manifest) {
    const verification = { ...base, ok: false, method: 'none', manifestChecksumOk: false, filesMatched: 0, filesInManifest: 0, bytesChecked: 0, problems };
    return { verification, manifest: null, backupLabel: null };
  }

  const seen = new Set<string>();
  const wal = new Map<string, number>();
  let filesMatched = 0;
  let bytesChecked = 0;
  let backupLabel: string | null = null;
  let sizesOnly = false;

  for (const a of archives) {
    // What this archive's members showed; a decompressor or tar reader that failed explains the members it garbled,
    // so its own problem is named first, whatever order the two were found in.
    const found: VerifyProblem[] = [];
    const failure = await walkArchive(input, a, async (path, entry) => {
      const hash = createHash('sha256');
      let size = 0;
      const keep = path === 'backup_label' ? ([] as Uint8Array[]) : null;
      for await (const c of entry) {
        const chunk = c as Uint8Array;
        hash.update(chunk);
        size += chunk.length;
        bytesChecked += chunk.length;
        keep?.push(chunk);
        input.onBytes?.(bytesChecked);
      }
      if (keep) backupLabel = Buffer.concat(keep).toString('utf8');
      const listed = manifest!.files.get(path);
      if (!listed) {
        // WAL is not in backup_manifest: it is checked by the WAL range below.
        if (path.startsWith('pg_wal/')) wal.set(path.slice('pg_wal/'.length), size);
        else found.push({ file: path, archive: a.file, problem: 'is in the archive but not listed in backup_manifest' });
        return;
      }
      seen.add(path);
      if (listed.size !== size) return void found.push({ file: path, archive: a.file, problem: `holds ${size} bytes; backup_manifest says ${listed.size}` });
      if (listed.algorithm === 'SHA256' && listed.checksum) {
        const sha = hash.digest('hex');
        if (sha !== listed.checksum) return void found.push({ file: path, archive: a.file, problem: `SHA-256 ${sha} differs from backup_manifest's ${listed.checksum}` });
      } else sizesOnly = true;
      filesMatched++;
    });
    if (failure) problem({ file: a.file, archive: a.file, problem: failure });
    for (const p of found) problem(p);
  }

  for (const path of manifest.files.keys()) if (!seen.has(path)) problem({ file: path, archive: null, problem: 'is listed in backup_manifest but is in no archive' });
  const needed = requiredWalSegments(manifest.walRanges, input.walSegmentSize);
  for (const seg of needed) {
    const size = wal.get(seg);
    const range = manifest.walRanges.map((r) => `${r.startLsn}-${r.endLsn} on timeline ${r.timeline}`).join(', ');
    if (size === undefined) problem({ file: `pg_wal/${seg}`, archive: null, problem: `is missing; the backup needs the WAL from ${range} to be consistent` });
    else if (size !== input.walSegmentSize) problem({ file: `pg_wal/${seg}`, archive: null, problem: `holds ${size} bytes; a WAL segment holds ${input.walSegmentSize}` });
  }

  const verification: Verification = {
    ...base,
    ok: problems.length === 0,
    method: sizesOnly ? 'sizes (backup_manifest has no SHA-256 for some files)' : 'size and SHA-256 of every file',
    manifestChecksumOk: manifest.checksumOk,
    filesMatched,
    filesInManifest: manifest.files.size,
    bytesChecked,
    walSegments: needed.filter((s) => wal.has(s)),
    problems,
  };
  return { verification, manifest, backupLabel };
}

/** Throws BASE_BACKUP_VERIFY_FAILED naming the damaged files unless every check passed. */
export function requireVerified(v: Verification): void {
  if (v.ok) return;
  const named = v.problems.slice(0, 5).map((p) => `${p.file}${p.archive && p.archive !== p.file ? ` (in ${p.archive})` : ''} ${p.problem}`);
  const more = v.problems.length > 5 ? `; and ${v.problems.length - 5} more` : '';
  throw new UserError('BASE_BACKUP_VERIFY_FAILED', `The stored base backup does not match its backup_manifest: ${named.join('; ')}${more}.`);
}

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/**
 * Reads one stored archive through its decompressor and hands each regular file to `onFile` with its path in the
 * data directory. Returns why the archive itself cannot be read (the tool's or the tar reader's words), or null.
 */
async function walkArchive(input: VerifyInput, a: ArchiveName, onFile: (path: string, entry: AsyncIterable<unknown>) => Promise<void>): Promise<string | null> {
  // Our own controller: a damaged archive stops its decompressor at once, the job's stop stops everything.
  const ac = new AbortController();
  const stop = () => ac.abort(input.signal.reason);
  input.signal.addEventListener('abort', stop, { once: true });
  let tool: ToolHandle | null = null;
  let parseError: Error | null = null;
  try {
    const source = await input.storage.get(`${input.folder}/${a.file}`, { signal: ac.signal });
    tool = a.compression === 'none' ? null : startDecompress(a.compression, source, ac.signal);
    tool?.catch(() => {});
    const plain = tool ? tool.stdout! : source;
    const extract = tar.extract();
    plain.on('error', (err) => extract.destroy(err));
    plain.pipe(extract);
    try {
      for await (const entry of extract) {
        const { type } = entry.header;
        // pg_basebackup writes "./pg_wal/..." in some versions and plain names in others.
        const name = entry.header.name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
        if (type === 'file' || type === 'contiguous-file') await onFile(`${a.prefix}${name}`, entry);
        else entry.resume();
      }
    } catch (err) {
      parseError = err as Error;
      // The rest is drained, so a decompressor that failed (the likelier cause) can exit and say why; one still
      // running after a few seconds is stopped.
      plain.unpipe();
      plain.resume();
      if (!tool) source.destroy();
    }
    if (input.signal.aborted) throw input.signal.reason;
    if (tool) {
      const grace = parseError ? setTimeout(() => ac.abort(new Error('stopped')), 5000) : undefined;
      const r = await tool.catch(() => null);
      clearTimeout(grace);
      if (input.signal.aborted) throw input.signal.reason;
      if (r && r.exitCode !== 0) {
        const how = r.exitCode !== null ? `exit ${r.exitCode}` : `killed by ${r.signal}`;
        return `cannot be decompressed (${a.compression}, ${how}): ${lastErrorLine(r.stderrTail, a.compression) ?? 'no message'}`;
      }
    }
    return parseError ? `is not a whole, readable tar archive: ${parseError.message}` : null;
  } finally {
    input.signal.removeEventListener('abort', stop);
  }
}
