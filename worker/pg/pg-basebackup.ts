// pg_basebackup: the argv builder (each flag explained from the manual), the --progress line parser, the names of
// the archives it writes, and the adapter that starts it with the job's signal and a stderr line callback.
import { readdirSync, readFileSync } from 'node:fs';
import { runTool, type ToolHandle } from './run-tool';

/**
 * Where and how the tar archives are compressed. `gzip` is the runbook's (`--gzip`, on the client); zstd and lz4
 * need pg_basebackup and a server of PostgreSQL 15 or later. Server-side compression sends compressed bytes over
 * the connection and spends the server's CPU; client-side spends the worker's.
 */
export type BaseCompression =
  | { method: 'none' }
  | { method: 'gzip'; level: number }
  | { method: 'client-zstd'; level: number; workers?: number }
  | { method: 'server-zstd'; level: number; workers?: number }
  | { method: 'server-lz4'; level?: number };

export interface BaseBackupSettings {
  compression: BaseCompression;
  /** stream: WAL over a second connection (a temporary slot keeps it), into pg_wal.tar; fetch: read at the end, into base.tar. */
  walMethod: 'stream' | 'fetch';
}

export const baseCompressionMethods = ['none', 'gzip', 'client-zstd', 'server-zstd', 'server-lz4'] as const;

export const defaultBaseBackupSettings: BaseBackupSettings = { compression: { method: 'server-zstd', level: 3 }, walMethod: 'stream' };

/** The first pg_basebackup (and server) major that knows `--compress=<where>-<method>` and zstd/lz4. */
export const COMPRESSION_CHOICES_SINCE = 15;

/** Whether a compression needs PostgreSQL 15's client/server methods (both the tool and the server). */
export function needsPg15(c: BaseCompression): boolean {
  return c.method !== 'none' && c.method !== 'gzip';
}

/** The value of --compress for `c`, in the syntax of pg_basebackup `toolMajor`. */
export function compressArg(c: BaseCompression, toolMajor: number): string[] {
  if (toolMajor < COMPRESSION_CHOICES_SINCE) {
    if (needsPg15(c)) throw new Error(`--compress=${c.method} needs pg_basebackup ${COMPRESSION_CHOICES_SINCE} or later`);
    // Before 15: --gzip with a level 1-9, or nothing.
    return c.method === 'gzip' ? ['--gzip', `--compress=${c.level}`] : [];
  }
  const detail = (level: number | undefined, workers?: number) => {
    const parts = [...(level !== undefined ? [`level=${level}`] : []), ...(workers ? [`workers=${workers}`] : [])];
    return parts.length ? `:${parts.join(',')}` : '';
  };
  switch (c.method) {
    case 'none':
      return ['--compress=none'];
    case 'gzip':
      // client-gzip: what the runbook's --gzip does (the server sends plain tar, pg_basebackup compresses).
      return [`--compress=client-gzip${detail(c.level)}`];
    case 'client-zstd':
    case 'server-zstd':
      // workers=N: zstd's own threads (on the server for server-zstd); needs a libzstd built with threads.
      return [`--compress=${c.method}${detail(c.level, c.workers)}`];
    case 'server-lz4':
      return [`--compress=server-lz4${detail(c.level)}`];
  }
}

export interface BaseBackupArgs {
  /** The job's scratch folder for this backup: pg_basebackup creates it and writes the archives there. */
  dir: string;
  settings: BaseBackupSettings;
  toolMajor: number;
  /** The backup label (in backup_label and pg_stat_activity): Lifeboat's name for this backup. */
  label: string;
}

export function pgBasebackupArgs(o: BaseBackupArgs): string[] {
  return [
    // --pgdata: the folder the archives go to; pg_basebackup creates it and refuses one that is not empty.
    `--pgdata=${o.dir}`,
    // --format=tar: one tar per tablespace (base.tar, <oid>.tar) plus backup_manifest, kept as PostgreSQL wrote
    // them, so a DBA can restore by hand with tar and the manual.
    '--format=tar',
    // --checkpoint=fast: start at once instead of waiting for the next spread checkpoint (up to checkpoint_timeout).
    '--checkpoint=fast',
    // --wal-method: include the WAL written during the backup, without which it cannot be made consistent.
    `--wal-method=${o.settings.walMethod}`,
    // --manifest-checksums=SHA256: a SHA-256 per file in backup_manifest, which the verification reads back.
    '--manifest-checksums=SHA256',
    ...compressArg(o.settings.compression, o.toolMajor),
    // --label: names the backup in backup_label and in the server's view of it.
    `--label=${o.label}`,
    // --progress: "done/total kB (pct%), n/m tablespaces" lines on stderr, the source of the job's progress bar.
    '--progress',
    // --verbose: the WAL start and end positions and each step, for the job log; the current file in progress lines.
    '--verbose',
    // --no-sync: the scratch copy is not the backup; storage's put fsyncs what is kept.
    '--no-sync',
    // --no-password: never prompt; the password comes from the passfile or the run fails at once.
    '--no-password',
  ];
}

export interface BaseBackupProgress {
  doneBytes: number;
  totalBytes: number;
  percent: number;
  tablespacesDone: number;
  tablespaces: number;
  /** The archive being written (its file name, without the folder), when --verbose names it. */
  file: string | null;
}

// "104728/156504 kB (66%), 1/2 tablespaces (/tmp/x/base.tar.zst      )"; "1/1 tablespace" without --verbose's file.
const progressLine = /^\s*(\d+)\/(\d+) kB \((\d+)%\), (\d+)\/(\d+) tablespaces?(?: \((.*)\))?\s*$/;

/** One --progress line of pg_basebackup as numbers; null for any other line. */
export function parseBaseBackupProgress(line: string): BaseBackupProgress | null {
  const m = progressLine.exec(line);
  if (!m) return null;
  const path = m[6]?.trim() ?? '';
  return {
    doneBytes: Number(m[1]) * 1024,
    totalBytes: Number(m[2]) * 1024,
    percent: Number(m[3]),
    tablespacesDone: Number(m[4]),
    tablespaces: Number(m[5]),
    // A long path is cut at its start with "..."; the file name at its end is what is shown.
    file: path ? (path.split('/').pop() ?? null) : null,
  };
}

/** "write-ahead log start point: 0/D000028 on timeline 1" and "... end point: 0/D000100" from --verbose. */
export function parseWalPoint(line: string): { which: 'start'; lsn: string; timeline: number } | { which: 'end'; lsn: string } | null {
  const start = /write-ahead log start point: ([0-9A-F]+\/[0-9A-F]+) on timeline (\d+)/i.exec(line);
  if (start) return { which: 'start', lsn: start[1]!, timeline: Number(start[2]) };
  const end = /write-ahead log end point: ([0-9A-F]+\/[0-9A-F]+)/i.exec(line);
  return end ? { which: 'end', lsn: end[1]! } : null;
}

export type ArchiveCompression = 'none' | 'gzip' | 'zstd' | 'lz4';

export interface ArchiveName {
  /** The file name pg_basebackup gave it (base.tar.zst, 16385.tar, pg_wal.tar.gz). */
  file: string;
  /** base, a tablespace OID, or pg_wal. */
  kind: 'base' | 'tablespace' | 'wal';
  /** The tablespace OID for kind tablespace. */
  oid: string | null;
  compression: ArchiveCompression;
  /** Where its members belong in the data directory, as backup_manifest names them ("" for base). */
  prefix: string;
}

/** What one file of pg_basebackup's tar output is; null for anything else (backup_manifest). */
export function archiveName(file: string): ArchiveName | null {
  const m = /^(base|pg_wal|\d+)\.tar(?:\.(gz|zst|lz4))?$/.exec(file);
  if (!m) return null;
  const compression = ({ gz: 'gzip', zst: 'zstd', lz4: 'lz4' } as const)[m[2] as 'gz' | 'zst' | 'lz4'] ?? 'none';
  if (m[1] === 'base') return { file, kind: 'base', oid: null, compression, prefix: '' };
  if (m[1] === 'pg_wal') return { file, kind: 'wal', oid: null, compression, prefix: 'pg_wal/' };
  return { file, kind: 'tablespace', oid: m[1]!, compression, prefix: `pg_tblspc/${m[1]}/` };
}

/** The file names in pg_basebackup's output folder, in the order they are stored: tablespaces, base, WAL, manifest last. */
export function sortOutputFiles(files: string[]): string[] {
  const rank = (f: string) => {
    const a = archiveName(f);
    return a?.kind === 'tablespace' ? 0 : a?.kind === 'base' ? 1 : a?.kind === 'wal' ? 2 : 3;
  };
  return [...files].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * Starts pg_basebackup into `o.dir`. The connection comes from `env` (PGHOST ... and a passfile, never argv).
 * On abort it is sent SIGTERM: the server ends the backup (and drops the temporary slot) when the connection goes.
 */
export function startPgBasebackup(o: BaseBackupArgs & { exe: string; env: Record<string, string>; signal: AbortSignal; onLine: (line: string) => void }): ToolHandle {
  // With --wal-method=stream pg_basebackup forks a WAL receiver. Killed by a signal, the parent runs no exit
  // handler, so that child would go on streaming (and holding its temporary slot) after a cancel. This listener is
  // added before runTool's own, so it finds the child while the parent, not yet signalled, is still its parent.
  let pid: number | undefined;
  const stopChildren = () => {
    for (const child of pid ? childPids(pid) : []) {
      try {
        process.kill(child, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  o.signal.addEventListener('abort', stopChildren, { once: true });
  const handle = runTool({ exe: o.exe, args: pgBasebackupArgs(o), env: o.env, signal: o.signal, onLine: o.onLine, stdout: 'ignore' });
  pid = handle.pid;
  void handle.finally(() => o.signal.removeEventListener('abort', stopChildren)).catch(() => {});
  return handle;
}

/** The live child processes of `pid` (Linux /proc; none elsewhere). */
export function childPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === pid && rest[0] !== 'Z') out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The server's own reason when pg_basebackup was refused, as a short code for the caller's error; null otherwise. */
export function classifyBaseBackupFailure(stderr: string): 'no-replication' | 'wal-level' | 'no-wal-senders' | 'hba' | 'compression' | null {
  if (/must be superuser or replication role|permission denied to start WAL sender|must have the REPLICATION attribute/i.test(stderr)) return 'no-replication';
  if (/WAL level not sufficient|wal_level must be set to "replica"/i.test(stderr)) return 'wal-level';
  if (/number of requested standby connections exceeds max_wal_senders|max_wal_senders/i.test(stderr)) return 'no-wal-senders';
  if (/no pg_hba\.conf entry for replication connection/i.test(stderr)) return 'hba';
  if (/could not (set|initialize) compression|compression .* not supported|unrecognized compression|this build does not support compression/i.test(stderr)) return 'compression';
  return null;
}
