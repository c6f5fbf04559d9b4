// PostgreSQL's backup_manifest and backup_label: the files a base backup must hold (path, size, SHA-256), its WAL
// range and timeline, the manifest's own checksum, and the WAL segments the range needs.
import { createHash } from 'node:crypto';

export interface ManifestFile {
  path: string;
  size: number;
  algorithm: string | null;
  checksum: string | null;
}

export interface WalRange {
  timeline: number;
  startLsn: string;
  endLsn: string;
}

export interface PgManifest {
  version: number;
  files: Map<string, ManifestFile>;
  walRanges: WalRange[];
  /** True when "Manifest-Checksum" matches the SHA-256 of the text before its line (as pg_verifybackup checks). */
  checksumOk: boolean;
}

/** Parses backup_manifest; throws with the reason when it is not one (the caller names the file). */
export function parsePgManifest(raw: Buffer): PgManifest {
  let doc: {
    'PostgreSQL-Backup-Manifest-Version'?: number;
    Files?: { Path?: string; 'Encoded-Path'?: string; Size?: number; 'Checksum-Algorithm'?: string; Checksum?: string }[];
    'WAL-Ranges'?: { Timeline?: number; 'Start-LSN'?: string; 'End-LSN'?: string }[];
    'Manifest-Checksum'?: string;
  };
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new Error(`it is not JSON (${(err as Error).message})`);
  }
  if (typeof doc['PostgreSQL-Backup-Manifest-Version'] !== 'number' || !Array.isArray(doc.Files) || !Array.isArray(doc['WAL-Ranges'])) {
    throw new Error('it lacks PostgreSQL-Backup-Manifest-Version, Files or WAL-Ranges');
  }
  const files = new Map<string, ManifestFile>();
  for (const f of doc.Files) {
    // Encoded-Path: the path's bytes in hex, for a name that is not valid UTF-8.
    const path = f.Path ?? (f['Encoded-Path'] ? Buffer.from(f['Encoded-Path'], 'hex').toString('utf8') : undefined);
    if (path === undefined || typeof f.Size !== 'number') throw new Error('a Files entry lacks its Path or Size');
    files.set(path, { path, size: f.Size, algorithm: f['Checksum-Algorithm'] ?? null, checksum: f.Checksum?.toLowerCase() ?? null });
  }
  const walRanges = doc['WAL-Ranges'].map((w) => {
    if (typeof w.Timeline !== 'number' || !w['Start-LSN'] || !w['End-LSN']) throw new Error('a WAL-Ranges entry lacks Timeline, Start-LSN or End-LSN');
    return { timeline: w.Timeline, startLsn: w['Start-LSN'], endLsn: w['End-LSN'] };
  });
  return { version: doc['PostgreSQL-Backup-Manifest-Version'], files, walRanges, checksumOk: manifestChecksumOk(raw, doc['Manifest-Checksum']) };
}

/** PostgreSQL checksums the manifest up to and including the newline before the "Manifest-Checksum" line. */
function manifestChecksumOk(raw: Buffer, recorded: string | undefined): boolean {
  if (!recorded) return false;
  const text = raw.toString('latin1');
  const at = text.lastIndexOf('\n"Manifest-Checksum"');
  if (at < 0) return false;
  return createHash('sha256').update(raw.subarray(0, at + 1)).digest('hex') === recorded.toLowerCase();
}

/** "0/D000028" as a number. */
export function lsnToBigInt(lsn: string): bigint {
  const m = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(lsn);
  if (!m) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** The WAL file name of the segment that holds `lsn` on `timeline`. */
export function walSegmentName(timeline: number, lsn: bigint, segmentSize: number): string {
  const seg = lsn / BigInt(segmentSize);
  const perId = 0x100000000n / BigInt(segmentSize);
  const hex = (n: bigint | number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(timeline)}${hex(seg / perId)}${hex(seg % perId)}`;
}

/** The segments a base backup needs for consistency: those of each WAL range, from its start to its end. */
export function requiredWalSegments(ranges: WalRange[], segmentSize: number): string[] {
  const out: string[] = [];
  for (const r of ranges) {
    const start = lsnToBigInt(r.startLsn);
    // The end position itself may be the first byte of the next segment, which holds nothing of the backup yet.
    const end = lsnToBigInt(r.endLsn) > start ? lsnToBigInt(r.endLsn) - 1n : start;
    for (let s = start / BigInt(segmentSize); s <= end / BigInt(segmentSize); s++) out.push(walSegmentName(r.timeline, s * BigInt(segmentSize), segmentSize));
  }
  return [...new Set(out)];
}

export interface BackupLabel {
  startLsn: string | null;
  startTimeline: number | null;
  checkpointLsn: string | null;
  startTime: Date | null;
  label: string | null;
  method: string | null;
  from: string | null;
}

/** The lines of backup_label ("START WAL LOCATION: 0/D000028 (file ...)", "START TIME: 2026-12-07 21:00:06 GMT" ...). */
export function parseBackupLabel(text: string): BackupLabel {
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1]?.trim() ?? null;
  const startWal = field('START WAL LOCATION');
  const checkpoint = field('CHECKPOINT LOCATION');
  const time = field('START TIME');
  const tli = field('START TIMELINE');
  // "2026-12-07 21:00:06 GMT": the server writes its log_timezone's abbreviation; GMT/UTC read as such.
  const parsedTime = time ? new Date(time.replace(/^(\S+) (\S+) (GMT|UTC)$/, '$1T$2Z')) : null;
  return {
    startLsn: startWal?.split(' ')[0] ?? null,
    startTimeline: tli ? Number(tli) : null,
    checkpointLsn: checkpoint,
    startTime: parsedTime && !Number.isNaN(parsedTime.getTime()) ? parsedTime : null,
    label: field('LABEL'),
    method: field('BACKUP METHOD'),
    from: field('BACKUP FROM'),
  };
}
