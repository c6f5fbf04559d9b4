// The recoverable window (issue 10): per timeline, the continuous ranges of positions (and times, where known) a
// point-in-time recovery can reach, from kept base backups' ends to the newest archived WAL, split at missing segments.
// Pure: it works from object names and rows alone (the web process never opens a storage), so it runs anywhere.
import { DEFAULT_SEGMENT_BYTES, parseSegment, segmentName, type WalGap } from './wal-names';

export interface WindowBaseBackup {
  id: string;
  /** "X/Y" as PostgreSQL prints an LSN: where the backup became consistent, the earliest point it can recover to. */
  stopLsn: string;
  timeline: number;
  stoppedAt: Date | string | null;
}

export interface WindowRange {
  timeline: number;
  fromLsn: string;
  /** The end of the last continuous segment: recovery can replay up to here, no further. */
  toLsn: string;
  fromTime: string | null;
  toTime: string | null;
  /** A base backup's end, or the switch from the previous timeline (whose range reaches this one's first segment). */
  startsAt: { kind: 'base-backup'; backupId: string } | { kind: 'timeline-switch'; from: number };
  /** The gap that ends this range, or null when it ends at the newest archived segment of its timeline. */
  endsAtGap: WalGap | null;
  firstSegment: string;
  lastSegment: string;
}

export interface RecoverableWindow {
  ranges: WindowRange[];
  /** Every gap, per timeline, that lies after the window's start (it stops recovery there). */
  gaps: WalGap[];
  /** Why there is no window (null when there is one). */
  reason: string | null;
}

/** An LSN "X/Y" (two hex halves) as a number of bytes; null when malformed. */
export function parseLsn(lsn: string): bigint | null {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!m) return null;
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Bytes as PostgreSQL prints an LSN. */
export function formatLsn(v: bigint): string {
  return `${(v >> 32n).toString(16).toUpperCase()}/${(v & 0xffffffffn).toString(16).toUpperCase()}`;
}

const iso = (d: Date | string | null | undefined): string | null => (d === null || d === undefined ? null : d instanceof Date ? d.toISOString() : d);

/**
 * Per timeline, the continuous runs of archived segments (split only at the gaps given: `walSegments` may hold every
 * name, or only each run's first and last names, as a connection test keeps them), and from those the ranges that a
 * kept base backup (or the previous timeline's range) opens. WAL before the oldest base backup is not counted.
 * `archivedAt` maps a segment's 24-character name to when it was archived: a range ends at its last segment's time.
 */
export function recoverableWindow(
  baseBackups: WindowBaseBackup[],
  walSegments: string[],
  gaps: WalGap[],
  segmentSize = DEFAULT_SEGMENT_BYTES,
  archivedAt: Record<string, string> = {},
): RecoverableWindow {
  const size = BigInt(segmentSize);
  const byTimeline = new Map<number, number[]>();
  for (const n of walSegments) {
    const s = parseSegment(n, segmentSize);
    if (!s) continue;
    const list = byTimeline.get(s.timeline) ?? [];
    list.push(s.number);
    byTimeline.set(s.timeline, list);
  }
  const backups = baseBackups
    .map((b) => ({ ...b, lsn: parseLsn(b.stopLsn) }))
    .filter((b): b is typeof b & { lsn: bigint } => b.lsn !== null)
    .sort((a, b) => (a.lsn < b.lsn ? -1 : a.lsn > b.lsn ? 1 : 0));

  if (backups.length === 0) return { ranges: [], gaps: [], reason: 'There is no kept, verified base backup: the window starts at the end of the first one. Take a base backup.' };
  if (byTimeline.size === 0) return { ranges: [], gaps: [], reason: 'No WAL segment is archived yet: set up archiving (the WAL card) and check the target again.' };

  const ranges: WindowRange[] = [];
  const cuttingGaps: WalGap[] = [];
  for (const tl of [...byTimeline.keys()].sort((a, b) => a - b)) {
    const nums = [...new Set(byTimeline.get(tl)!)].sort((a, b) => a - b);
    const tlGaps = gaps.filter((g) => g.timeline === tl);
    // runs: split between two present segments only where a gap says one is missing.
    const runs: { first: number; last: number; gap: WalGap | null }[] = [];
    let first = nums[0]!;
    for (let i = 1; i <= nums.length; i++) {
      const prev = nums[i - 1]!;
      const gap = i < nums.length ? (tlGaps.find((g) => parseSegment(g.after, segmentSize)?.number === prev) ?? null) : null;
      if (i === nums.length || gap) {
        runs.push({ first, last: prev, gap });
        if (i < nums.length) first = nums[i]!;
      }
    }
    // A timeline the server switched to continues the previous one's range when that reaches its first segment.
    const prevRange = ranges.filter((r) => r.timeline < tl && r.endsAtGap === null).at(-1);
    const switched = prevRange && (parseSegment(prevRange.lastSegment, segmentSize)?.number ?? -2) >= runs[0]!.first - 1;

    let opened = false;
    for (const [i, run] of runs.entries()) {
      const runStart = BigInt(run.first) * size;
      const runEnd = (BigInt(run.last) + 1n) * size;
      const own = backups.find((b) => b.timeline === tl && b.lsn >= runStart && b.lsn <= runEnd);
      let range: WindowRange | null = null;
      const end = { toLsn: formatLsn(runEnd), toTime: archivedAt[segmentName(tl, run.last, segmentSize)] ?? null, endsAtGap: run.gap, firstSegment: segmentName(tl, run.first, segmentSize), lastSegment: segmentName(tl, run.last, segmentSize) };
      if (i === 0 && switched && (!own || own.lsn > runStart)) {
        range = { timeline: tl, fromLsn: formatLsn(runStart), fromTime: prevRange!.toTime, startsAt: { kind: 'timeline-switch', from: prevRange!.timeline }, ...end };
      } else if (own) {
        range = { timeline: tl, fromLsn: own.stopLsn, fromTime: iso(own.stoppedAt), startsAt: { kind: 'base-backup', backupId: own.id }, ...end };
      }
      if (range) {
        ranges.push(range);
        opened = true;
      }
      if (opened && run.gap) cuttingGaps.push(run.gap);
    }
  }
  if (ranges.length === 0)
    return { ranges, gaps: [], reason: 'No kept base backup ends inside the archived WAL: the archive misses the segments after every base backup. Check archiving, then take a base backup.' };
  return { ranges, gaps: cuttingGaps, reason: null };
}
