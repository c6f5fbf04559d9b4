// The WAL archiving part of "Test connection" (worker only: it connects to the target and lists the storage):
// the archiving settings as the server has them, pg_stat_archiver, and the archive's newest segment and gaps.
import type pg from 'pg';
import { UserError } from '../errors';
import type { Storage } from '../storage/storage';
import { safeName } from '../targets/target-conn';
import { DEFAULT_SEGMENT_BYTES, findWalGaps, newestSegment, parseSegment } from './wal-names';
import { RUNS_KEPT, WAL_SETTINGS, type WalHealth } from './wal-health-schema';

export { walHealthSchema, type WalHealth } from './wal-health-schema';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Reads the target's archiving state over `client` and lists `<target folder>/_wal/<sysid>/` in its storage. */
export async function readWalHealth(client: pg.Client, target: { name: string }, storage: Storage): Promise<WalHealth> {
  const problems: string[] = [];
  // Each query alone (no transaction), so one the login may not run leaves the others.
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
      return null;
    }
  };

  // settings: a superuser-only one (archive_command, without pg_read_all_settings) is absent from pg_settings.
  const rows = await attempt('pg_settings', async () =>
    (await client.query<{ name: string; setting: string; pending_restart: boolean }>('SELECT name, setting, pending_restart FROM pg_settings WHERE name = ANY($1)', [[...WAL_SETTINGS, 'wal_segment_size']])).rows,
  );
  const settings: WalHealth['settings'] = {};
  for (const s of WAL_SETTINGS) {
    const r = rows?.find((x) => x.name === s);
    settings[s] = { value: r ? r.setting : null, pendingRestart: r?.pending_restart ?? false };
  }
  const segmentBytes = Number(rows?.find((x) => x.name === 'wal_segment_size')?.setting) || DEFAULT_SEGMENT_BYTES;

  // archiver: what the server's own archiver reports.
  const a = await attempt('pg_stat_archiver', async () =>
    (await client.query<{ archived_count: string; last_archived_wal: string | null; last_archived_time: Date | null; failed_count: string; last_failed_wal: string | null; last_failed_time: Date | null; stats_reset: Date | null }>(
      'SELECT archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal, last_failed_time, stats_reset FROM pg_stat_archiver',
    )).rows[0],
  );
  const archiver = a
    ? { archivedCount: Number(a.archived_count), lastArchivedWal: a.last_archived_wal, lastArchivedAt: iso(a.last_archived_time), failedCount: Number(a.failed_count), lastFailedWal: a.last_failed_wal, lastFailedAt: iso(a.last_failed_time), statsReset: iso(a.stats_reset) }
    : null;

  // identity: lifeboat-wal files segments under the cluster's system identifier.
  const systemIdentifier = await attempt('pg_control_system()', async () => (await client.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]!.id);

  return { settings, segmentBytes, systemIdentifier, archiver, archive: await listArchive(storage, safeName(target.name), systemIdentifier, segmentBytes), problems };
}

async function listArchive(storage: Storage, folder: string, sysid: string | null, segmentBytes: number): Promise<WalHealth['archive']> {
  const prefix = `${folder}/_wal/${sysid ?? ''}`;
  const empty = { location: `${storage.describe()}/${prefix}`, segments: 0, oldest: null, newest: null, gaps: [], runs: [] };
  if (!sysid) return { ...empty, problem: 'The system identifier could not be read, so the archive folder is unknown.' };
  let objects;
  try {
    objects = await storage.list(`${prefix}/`);
  } catch (err) {
    return { ...empty, problem: err instanceof UserError ? `${err.message} ${err.hint}` : (err as Error).message };
  }
  const names = objects.map((o) => o.name);
  const segs = names.map((n) => parseSegment(n, segmentBytes)).filter((s) => s !== null && !s.partial);
  const newest = newestSegment(names, segmentBytes);
  const newestObj = newest ? objects.find((o) => parseSegment(o.name, segmentBytes)?.name === newest.name && !o.name.includes('.partial')) : undefined;
  const oldest = segs.reduce<(typeof segs)[number] | null>((m, s) => (!m || s!.timeline < m.timeline || (s!.timeline === m.timeline && s!.number < m.number) ? s : m), null);
  const gaps = findWalGaps(names, segmentBytes);
  return {
    ...empty,
    segments: segs.length,
    oldest: oldest?.name ?? null,
    newest: newest && newestObj ? { name: newest.name, archivedAt: newestObj.modified.toISOString() } : null,
    gaps,
    runs: segmentRuns(objects, segmentBytes),
    problem: objects.length === 0 ? `Nothing is archived in ${empty.location} yet.` : null,
  };
}

/** Consecutive segments per timeline as [first, last] with the last one's archive time (a `.partial` counts, as in gaps). */
function segmentRuns(objects: { name: string; modified: Date }[], segmentBytes: number): NonNullable<WalHealth['archive']['runs']> {
  const segs = objects
    .map((o) => ({ s: parseSegment(o.name, segmentBytes), at: o.modified }))
    .filter((x): x is { s: NonNullable<ReturnType<typeof parseSegment>>; at: Date } => x.s !== null)
    .sort((a, b) => a.s.timeline - b.s.timeline || a.s.number - b.s.number);
  const runs: NonNullable<WalHealth['archive']['runs']> = [];
  let cur: { timeline: number; first: string; lastNumber: number; last: string; at: Date } | null = null;
  for (const { s, at } of segs) {
    // The same segment twice (whole and .partial): one, archived when the later one was.
    if (cur && cur.timeline === s.timeline && s.number === cur.lastNumber) {
      if (at > cur.at) cur.at = at;
      continue;
    }
    if (cur && cur.timeline === s.timeline && s.number === cur.lastNumber + 1) {
      Object.assign(cur, { lastNumber: s.number, last: s.name, at });
      continue;
    }
    if (cur) runs.push({ timeline: cur.timeline, first: cur.first, last: cur.last, lastArchivedAt: cur.at.toISOString() });
    cur = { timeline: s.timeline, first: s.name, lastNumber: s.number, last: s.name, at };
  }
  if (cur) runs.push({ timeline: cur.timeline, first: cur.first, last: cur.last, lastArchivedAt: cur.at.toISOString() });
  return runs.slice(-RUNS_KEPT);
}
