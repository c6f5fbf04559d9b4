'use client';
// The target page's "WAL archiving" card: the lines to install for lifeboat-wal, and what the last connection test
// read back (settings, pg_stat_archiver, the archive's newest segment and gaps), with the line to change when wrong.
import { useQuery } from '@tanstack/react-query';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { ErrorBox } from '@/components/ui/error-box';
import { Ago, LocalTime, duration } from '@/components/ui/time';
import type { getWalView } from '@/lib/wal/get-wal-view';

type WalView = Awaited<ReturnType<typeof getWalView>>;

const alert = 'rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-900';

export function WalCard({ targetId, isAdmin }: { targetId: string; isAdmin: boolean }) {
  const { data, error } = useQuery({ queryKey: queryKeys.wal(targetId), queryFn: () => api<WalView>(`/api/targets/${targetId}/wal`), refetchInterval: 10_000 });
  if (error) return <ErrorBox error={error} />;
  if (!data) return <p className="text-sm text-slate-500">Loading…</p>;
  const { config, health, settingProblems, checkedAt } = data;
  return (
    <div className="min-w-0 space-y-4 text-sm [overflow-wrap:anywhere]" data-testid="wal-card">
      <section>
        <h3 className="mb-1 font-medium">On the server</h3>
        {!health || !checkedAt ? (
          <p className="text-slate-600">No connection test has read the archiving settings yet.{isAdmin ? ' Press “Test connection”.' : ' An admin’s “Test connection” reads them.'}</p>
        ) : (
          <div className="space-y-2">
            <p className="text-xs text-slate-500">Read by the connection test of <LocalTime value={checkedAt} /> (<Ago value={checkedAt} />).</p>
            {settingProblems.length === 0 ? (
              <p className="text-emerald-800" data-testid="wal-settings-ok">wal_level, archive_mode, archive_command and max_wal_senders are set for lifeboat-wal.</p>
            ) : (
              <ul role="alert" className={`${alert} space-y-1`} data-testid="wal-settings-problems">
                {settingProblems.map((p) => (
                  <li key={p.setting}>
                    {p.message} Change the line to <code className="text-xs">{p.line}</code>, then {p.apply === 'restart' ? 'restart the server' : <>reload (<code className="text-xs">SELECT pg_reload_conf()</code>)</>}.
                  </li>
                ))}
              </ul>
            )}
            <Archiver a={health.archiver} />
            <Archive health={health} checkedAt={checkedAt} />
            {health.problems.length > 0 && <p className="text-xs text-amber-800">Not read: {health.problems.join('; ')}</p>}
          </div>
        )}
      </section>
      <section>
        <h3 className="mb-1 font-medium">What to install</h3>
        {config.storageProblem && <p role="alert" className={alert}>{config.storageProblem}</p>}
        <p className="mb-1">In <code className="text-xs">postgresql.conf</code>:</p>
        <pre className="overflow-x-auto rounded bg-slate-100 p-2 text-xs" data-testid="wal-postgresql-conf">{config.postgresqlConf.join('\n')}</pre>
        <p className="mb-1 mt-2">In <code className="text-xs">/etc/lifeboat/wal.conf</code> (storage {config.storage}):</p>
        <pre className="overflow-x-auto rounded bg-slate-100 p-2 text-xs" data-testid="wal-conf">{config.walConf}</pre>
        <p className="mt-2 text-xs text-slate-600">
          The postgres OS user writes under <code>{config.archiveFolder}</code>. Install steps: {config.docs}.
        </p>
      </section>
    </div>
  );
}

function Archiver({ a }: { a: NonNullable<WalView['health']>['archiver'] }) {
  if (!a) return <p className="text-amber-800">pg_stat_archiver could not be read.</p>;
  const failingNow = a.lastFailedAt !== null && (a.lastArchivedAt === null || a.lastFailedAt > a.lastArchivedAt);
  return (
    <div data-testid="wal-archiver">
      <p>
        Archived by the server: <strong>{a.archivedCount}</strong> segment{a.archivedCount === 1 ? '' : 's'}
        {a.lastArchivedWal && <>, last <code className="text-xs">{a.lastArchivedWal}</code> at <LocalTime value={a.lastArchivedAt} /></>}.
      </p>
      {a.failedCount > 0 && (
        <p className={failingNow ? alert : 'text-slate-600'}>
          {a.failedCount} failed attempt{a.failedCount === 1 ? '' : 's'}, last <code className="text-xs">{a.lastFailedWal}</code> at <LocalTime value={a.lastFailedAt} />
          {failingNow ? ': archiving is failing now; the server log has lifeboat-wal’s line.' : ' (archived since).'}
        </p>
      )}
    </div>
  );
}

function Archive({ health, checkedAt }: { health: NonNullable<WalView['health']>; checkedAt: string }) {
  const { archive } = health;
  return (
    <div data-testid="wal-archive">
      {archive.newest ? (
        <p>
          Newest segment in the archive: <code className="text-xs">{archive.newest.name}</code>, archived <LocalTime value={archive.newest.archivedAt} /> (<Ago value={archive.newest.archivedAt} />).
          {' '}Recovery point at the test: {duration(Date.parse(checkedAt) - Date.parse(archive.newest.archivedAt))} behind. {archive.segments} segment{archive.segments === 1 ? '' : 's'}, oldest <code className="text-xs">{archive.oldest}</code>.
        </p>
      ) : (
        <p className="text-amber-800">{archive.problem ?? 'No segment in the archive.'}</p>
      )}
      {archive.newest && archive.problem && <p className="text-amber-800">{archive.problem}</p>}
      {archive.gaps.length === 0 ? (
        archive.newest && <p className="text-emerald-800" data-testid="wal-no-gap">No gap in the sequence of segments.</p>
      ) : (
        <ul role="alert" className={alert} data-testid="wal-gaps">
          {archive.gaps.map((g) => (
            <li key={`${g.timeline}-${g.after}`}>
              Timeline {g.timeline}: {g.count} segment{g.count === 1 ? '' : 's'} missing between <code className="text-xs">{g.after}</code> and <code className="text-xs">{g.before}</code>: <code className="text-xs">{g.missing.join(', ')}{g.count > g.missing.length ? ', …' : ''}</code>. Recovery cannot pass it.
            </li>
          ))}
        </ul>
      )}
      {archive.newest && <p className="text-xs text-slate-500">Listed in {archive.location}.</p>}
    </div>
  );
}
