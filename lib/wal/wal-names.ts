// WAL segment names as numbers: the newest archived segment and the gaps in each timeline's sequence, from object
// names alone (docs/repository.md: segment names are consecutive, so a missing one shows without opening anything).

/** PostgreSQL's default and Lifeboat's assumption: 16 MB segments, so 0x100000000 / 16 MB = 256 segments per xlogid. */
export const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;

export interface WalSegment {
  /** The 24-character name, without `.partial` or `.zst`. */
  name: string;
  timeline: number;
  /** Position in the sequence: xlogid * segments-per-xlogid + segment. */
  number: number;
  partial: boolean;
}

export interface WalGap {
  timeline: number;
  /** The last segment present before the gap, and the first one after it. */
  after: string;
  before: string;
  /** How many segments are missing, and the first few of their names. */
  count: number;
  missing: string[];
}

const SEGMENT = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.partial)?(?:\.zst)?$/;
const MISSING_NAMED = 20;

function segmentsPerXlogId(segmentBytes: number): number {
  return 0x100000000 / segmentBytes;
}

/** A segment (or `.partial` segment) object or file name, a path allowed; null for history, backup, .sha256, anything else. */
export function parseSegment(objectName: string, segmentBytes = DEFAULT_SEGMENT_BYTES): WalSegment | null {
  const base = objectName.slice(objectName.lastIndexOf('/') + 1);
  const m = SEGMENT.exec(base);
  if (!m) return null;
  const per = segmentsPerXlogId(segmentBytes);
  const seg = parseInt(m[3]!, 16);
  // The low part never reaches segments-per-xlogid: 000000010000000000000100 is not a 16 MB segment name.
  if (seg >= per) return null;
  return { name: `${m[1]}${m[2]}${m[3]}`, timeline: parseInt(m[1]!, 16), number: parseInt(m[2]!, 16) * per + seg, partial: !!m[4] };
}

/** The 24-character name of a segment number on a timeline. */
export function segmentName(timeline: number, number: number, segmentBytes = DEFAULT_SEGMENT_BYTES): string {
  const per = segmentsPerXlogId(segmentBytes);
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(timeline)}${hex(Math.floor(number / per))}${hex(number % per)}`;
}

/**
 * Gaps per timeline, between that timeline's first and last archived segment, oldest first. History and backup
 * history files and checksum files are ignored; a `.partial` segment (the old timeline's last one, archived at a
 * promotion) counts as present.
 */
export function findWalGaps(names: string[], segmentBytes = DEFAULT_SEGMENT_BYTES): WalGap[] {
  const byTimeline = new Map<number, Set<number>>();
  for (const n of names) {
    const s = parseSegment(n, segmentBytes);
    if (!s) continue;
    let set = byTimeline.get(s.timeline);
    if (!set) byTimeline.set(s.timeline, (set = new Set()));
    set.add(s.number);
  }
  const gaps: WalGap[] = [];
  for (const tl of [...byTimeline.keys()].sort((a, b) => a - b)) {
    const nums = [...byTimeline.get(tl)!].sort((a, b) => a - b);
    for (let i = 1; i < nums.length; i++) {
      const prev = nums[i - 1]!;
      const next = nums[i]!;
      if (next === prev + 1) continue;
      const count = next - prev - 1;
      const missing: string[] = [];
      for (let k = prev + 1; k < next && missing.length < MISSING_NAMED; k++) missing.push(segmentName(tl, k, segmentBytes));
      gaps.push({ timeline: tl, after: segmentName(tl, prev, segmentBytes), before: segmentName(tl, next, segmentBytes), count, missing });
    }
  }
  return gaps;
}

/** The newest complete segment: highest timeline, then highest position (a `.partial` is never the newest). */
export function newestSegment(names: string[], segmentBytes = DEFAULT_SEGMENT_BYTES): WalSegment | null {
  let best: WalSegment | null = null;
  for (const n of names) {
    const s = parseSegment(n, segmentBytes);
    if (!s || s.partial) continue;
    if (!best || s.timeline > best.timeline || (s.timeline === best.timeline && s.number > best.number)) best = s;
  }
  return best;
}
