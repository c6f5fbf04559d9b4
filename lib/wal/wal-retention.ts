// Which archived WAL no kept base backup needs, from object names alone: a recovery starts at a base backup's start
// segment, so every segment (and `.backup` history file) before the oldest kept base backup's start segment is
// never read again. History files (`*.history`) are always kept (a recovery follows them to pick its timeline), and
// so is everything on a timeline newer than every kept base backup's (a recovery from a kept backup may follow it).
import { DEFAULT_SEGMENT_BYTES, parseSegment, segmentName } from './wal-names';

export interface KeptBaseBackup {
  /** The backup's start position, "X/Y" (backup_log.start_lsn). */
  startLsn: string;
  timeline: number;
}

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
// `<segment>.<offset>.backup`: pg_stop_backup's backup history file, named after the backup's start segment.
const BACKUP_FILE = /^([0-9A-F]{24})\.[0-9A-F]{8}\.backup(?:\.zst)?$/;

/** The segment number (as wal-names.ts counts them) that holds an LSN; throws on a malformed one. */
export function lsnSegment(lsn: string, segmentBytes = DEFAULT_SEGMENT_BYTES): number {
  const m = LSN.exec(lsn.trim());
  if (!m) throw new Error(`"${lsn}" is not a WAL position (X/Y in hexadecimal)`);
  const per = 0x100000000 / segmentBytes;
  return parseInt(m[1]!, 16) * per + Math.floor(parseInt(m[2]!, 16) / segmentBytes);
}

/** The segment an object belongs to (a segment, a `.partial`, a `.backup` file, or the `.sha256` sidecar of one); null for anything else. */
function segmentOf(objectName: string, segmentBytes: number): { timeline: number; number: number } | null {
  let base = objectName.slice(objectName.lastIndexOf('/') + 1);
  if (base.endsWith('.sha256')) base = base.slice(0, -'.sha256'.length);
  const backup = BACKUP_FILE.exec(base);
  if (backup) base = backup[1]!;
  const s = parseSegment(base, segmentBytes);
  return s ? { timeline: s.timeline, number: s.number } : null;
}

/**
 * The object names no kept base backup needs: segments (compressed or not, `.partial` ones too), `.backup` files
 * and their `.sha256` sidecars that lie before the oldest kept base backup's start segment, on a timeline no newer
 * than the newest kept one. With no kept base backup nothing goes (the archive may be all there is).
 */
export function walNotNeeded(objectNames: string[], keptBaseBackups: KeptBaseBackup[], segmentBytes = DEFAULT_SEGMENT_BYTES): string[] {
  if (keptBaseBackups.length === 0) return [];
  const cutoff = Math.min(...keptBaseBackups.map((b) => lsnSegment(b.startLsn, segmentBytes)));
  const newestTimeline = Math.max(...keptBaseBackups.map((b) => b.timeline));
  return objectNames.filter((name) => {
    const s = segmentOf(name, segmentBytes);
    return s !== null && s.timeline <= newestTimeline && s.number < cutoff;
  });
}

/**
 * A base backup's WAL segment size, from what its row records: the size at which its start position falls in one
 * of the segments it holds (verification.walSegments). Null when none fits: then its WAL cannot be judged by name.
 */
export function inferSegmentBytes(startLsn: string, timeline: number, walSegments: string[]): number | null {
  if (walSegments.length === 0) return null;
  // 16 MB first (PostgreSQL's default), then every size initdb allows (1 MB to 1 GB, powers of two).
  const sizes = [DEFAULT_SEGMENT_BYTES, ...Array.from({ length: 11 }, (_, i) => 2 ** (20 + i)).filter((b) => b !== DEFAULT_SEGMENT_BYTES)];
  for (const bytes of sizes) {
    try {
      if (walSegments.includes(segmentName(timeline, lsnSegment(startLsn, bytes), bytes))) return bytes;
    } catch {
      return null;
    }
  }
  return null;
}
