'use client';
// The on-call overview: is a worker alive, is anything protected, what failed; red where action is needed.
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Card } from '@/components/ui/card';
import { ErrorBox } from '@/components/ui/error-box';
import { StatusBadge, type Tone } from '@/components/ui/status-badge';
import { Ago, LocalTime } from '@/components/ui/time';
import { PingPanel } from '@/components/jobs/ping-panel';

interface OverviewData {
  workers: { id: string; host: string; pid: number; version: string; pool: string; startedAt: string; lastSeenAt: string; online: boolean; stoppedAt: string | null }[];
  onlineWorkers: number;
  targetCount: number;
  failedLastDay: number;
  targets: { id: string; name: string; database: string | null; protection: string; lastGoodAt: string | null; ageMs: number | null; expectedMs: number | null; lastError: string | null; connection: { state: string; label: string; tone: string } | null; lastDrill: { status: string; restoreMs: number | null; at: string } | null }[];
  staleAfterSeconds: number;
  recentJobs: { id: string; kind: string; status: string; createdAt: string; errorMessage: string | null; step: string | null }[];
}

export function Overview({ canRunJobs, isAdmin }: { canRunJobs: boolean; isAdmin: boolean }) {
  const { data, error, isPending } = useQuery({
    queryKey: queryKeys.overview,
    queryFn: () => api<OverviewData>('/api/overview'),
    refetchInterval: 5_000,
  });
  if (error) return <ErrorBox error={error} title="The overview could not be loaded" />;
  if (isPending || !data) return <p className="text-sm text-slate-500">Loading…</p>;
  const online = data.workers.filter((w) => w.online);
  return (
    <div className="space-y-6">
      <WorkerBanner data={data} />
      <div className="grid gap-6 lg:grid-cols-3">
        <Card title="Targets" className="lg:col-span-2">
          {data.targetCount === 0 ? (
            <div className="py-6 text-center" data-testid="targets-empty">
              <p className="text-base font-medium text-slate-800">No targets yet.</p>
              <p className="mt-1 text-sm text-slate-600">Nothing is protected until a database is added as a target.</p>
              {isAdmin ? (
                <Link href="/targets" className="mt-4 inline-block rounded-md bg-sky-700 px-3.5 py-2 text-sm font-medium text-white hover:bg-sky-800">
                  Add a target
                </Link>
              ) : (
                <p className="mt-3 text-sm text-slate-600">Ask an admin to <Link href="/targets" className="text-sky-700 underline">add a target</Link>.</p>
              )}
            </div>
          ) : (
            <TargetProtection targets={data.targets} canRun={canRunJobs} />
          )}
        </Card>
        <Card title="Failures, last 24 h">
          <p className={`text-3xl font-semibold ${data.failedLastDay ? 'text-red-700' : 'text-emerald-700'}`}>{data.failedLastDay}</p>
          <p className="mt-1 text-sm text-slate-600">
            {data.failedLastDay ? <Link href="/jobs?status=failed" className="text-sky-700 underline">See failed jobs</Link> : 'No job failed.'}
          </p>
        </Card>
      </div>
      <div className="grid gap-6 lg:grid-cols-3">
        <Card title="Workers" className="lg:col-span-2">
          {data.workers.length === 0 ? (
            <p className="text-sm text-slate-600">No worker has ever connected.</p>
          ) : (
            <table className="w-full text-sm">
              <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
                <tr><th className="pb-2">State</th><th className="pb-2">Host</th><th className="pb-2">Pool</th><th className="pb-2">Version</th><th className="pb-2">Last heartbeat</th></tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {[...online, ...data.workers.filter((w) => !w.online)].slice(0, 8).map((w) => (
                  <tr key={w.id}>
                    <td className="py-2">{w.online ? <StatusBadge status="online" /> : w.stoppedAt ? <StatusBadge tone="gray">stopped</StatusBadge> : <StatusBadge status="offline">silent</StatusBadge>}</td>
                    <td className="py-2 font-mono text-xs">{w.host} <span className="text-slate-400">pid {w.pid}</span></td>
                    <td className="py-2">{w.pool}</td>
                    <td className="py-2">{w.version}</td>
                    <td className="py-2"><Ago value={w.lastSeenAt} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        {canRunJobs && (
          <Card title="Test the worker">
            <PingPanel />
          </Card>
        )}
      </div>
      <Card title="Recent jobs" action={<Link href="/jobs" className="text-sm text-sky-700 underline">All jobs</Link>}>
        {data.recentJobs.length === 0 ? (
          <p className="text-sm text-slate-600">No job has run yet.</p>
        ) : (
          <ul className="divide-y divide-slate-100 text-sm">
            {data.recentJobs.map((j) => (
              <li key={j.id} className="flex items-center gap-3 py-2">
                <StatusBadge status={j.status} />
                <Link href={`/jobs/${j.id}`} className="font-medium text-sky-800 underline">{j.kind}</Link>
                <span className="text-slate-500"><LocalTime value={j.createdAt} /></span>
                {j.errorMessage && <span className="truncate text-red-700">{j.errorMessage}</span>}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}

const protectionText: Record<string, { tone: Tone; label: string }> = {
  ok: { tone: 'green', label: 'protected' },
  overdue: { tone: 'red', label: 'overdue' },
  failing: { tone: 'red', label: 'last backup failed' },
  never: { tone: 'red', label: 'never backed up' },
  unscheduled: { tone: 'amber', label: 'no schedule' },
  disabled: { tone: 'gray', label: 'disabled' },
  unreachable: { tone: 'red', label: 'cannot connect' },
};

function hours(ms: number | null) {
  if (ms === null) return '—';
  const h = ms / 3_600_000;
  return h < 48 ? `${h.toFixed(h < 10 ? 1 : 0)} h` : `${(h / 24).toFixed(0)} days`;
}

function TargetProtection({ targets, canRun }: { targets: OverviewData['targets']; canRun: boolean }) {
  return (
    <table className="w-full text-sm" data-testid="target-protection">
      <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
        <tr><th className="pb-2">Target</th><th className="pb-2">State</th><th className="pb-2">Last good backup</th><th className="pb-2">Expected every</th><th className="pb-2">Last drill</th><th /></tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {targets.map((t) => {
          const known = protectionText[t.protection] ?? { tone: 'gray' as Tone, label: t.protection };
          // "unreachable" names what the newest evidence found: cannot connect, database missing, or a problem.
          const p = t.protection === 'unreachable' && t.connection ? { ...known, label: t.connection.label } : known;
          return (
            <tr key={t.id} className="align-top">
              <td className="py-2"><Link href={`/targets/${t.id}`} className="font-medium text-sky-800 underline">{t.name}</Link></td>
              <td className="py-2"><StatusBadge tone={p.tone}>{p.label}</StatusBadge>{t.lastError && <p className="mt-1 max-w-xs truncate text-xs text-red-700" title={t.lastError}>{t.lastError}</p>}</td>
              <td className="py-2">{t.lastGoodAt ? <><Ago value={t.lastGoodAt} /></> : <span className="text-red-700">never</span>}</td>
              <td className="py-2">{hours(t.expectedMs)}</td>
              <td className="py-2">{t.lastDrill ? <StatusBadge status={t.lastDrill.status}>{t.lastDrill.status === 'failed' ? 'failed' : `ok, ${Math.round((t.lastDrill.restoreMs ?? 0) / 1000)} s`}</StatusBadge> : <span className="text-amber-800">never</span>}</td>
              <td className="py-2 text-right">{canRun && p.tone === 'red' && <Link href={`/targets/${t.id}`} className="text-sm font-medium text-sky-700 underline">Back up now</Link>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function WorkerBanner({ data }: { data: OverviewData }) {
  const newest = data.workers.find((w) => w.online);
  if (newest) {
    return (
      <div className="flex flex-wrap items-center gap-3 rounded-lg border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-900" data-testid="worker-status" data-online="true">
        <StatusBadge status="online">Worker online</StatusBadge>
        <span>
          {data.onlineWorkers} worker{data.onlineWorkers === 1 ? '' : 's'} online · <span className="font-mono">{newest.host}</span> · version {newest.version} · last heartbeat <Ago value={newest.lastSeenAt} />
        </span>
      </div>
    );
  }
  const last = data.workers[0];
  return (
    <div role="alert" className="rounded-lg border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900" data-testid="worker-status" data-online="false">
      <p className="font-semibold">No worker is online: backups, restores and checks will wait in the queue.</p>
      <p className="mt-1">
        {last ? <>Last heard from <span className="font-mono">{last.host}</span> <Ago value={last.lastSeenAt} />. </> : null}
        Start one on the database host with <code className="rounded bg-white px-1 font-mono">npm run worker</code> (the demo starts one for you).
      </p>
    </div>
  );
}
