'use client';
// The target page's "Recoverable window" card: what a point-in-time recovery can reach, as a timeline (base backups as
// markers, continuous WAL as bars, gaps in red, restore points as flags) and in words, and a form that creates a
// named restore point on the target (operator).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { CartesianGrid, ReferenceArea, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';
import { LocalTime } from '@/components/ui/time';
import { useJob, isActive } from '@/components/jobs/use-job';
import type { getWindowView } from '@/lib/wal/get-window-view';

type WindowView = Awaited<ReturnType<typeof getWindowView>>;

const alert = 'rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-900';
const ms = (v: string | null | undefined) => (v ? Date.parse(v) : null);
const tick = (v: number) => new Date(v).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

export function WindowCard({ targetId, canCreate }: { targetId: string; canCreate: boolean }) {
  const { data, error } = useQuery({ queryKey: queryKeys.window(targetId), queryFn: () => api<WindowView>(`/api/targets/${targetId}/window`), refetchInterval: 15_000 });
  if (error) return <ErrorBox error={error} />;
  if (!data) return <p className="text-sm text-slate-500">Loading…</p>;
  const { window: w } = data;
  return (
    <div className="min-w-0 space-y-4 text-sm [overflow-wrap:anywhere]" data-testid="window-card">
      {w.reason ? (
        <p className="text-amber-800" data-testid="window-none">{w.reason}</p>
      ) : (
        <div data-testid="window-text" className="space-y-1">
          {w.ranges.map((r) => (
            <p key={`${r.timeline}-${r.fromLsn}`}>
              You can recover any moment from {r.fromTime ? <LocalTime value={r.fromTime} /> : <code className="text-xs">{r.fromLsn}</code>} to{' '}
              {r.toTime ? <LocalTime value={r.toTime} /> : <code className="text-xs">{r.toLsn}</code>} (timeline {r.timeline}; positions <code className="text-xs">{r.fromLsn}</code> to <code className="text-xs">{r.toLsn}</code>
              {r.startsAt.kind === 'base-backup' ? <>, from <Link className="underline" href={`/backups/${r.startsAt.backupId}`}>base backup {r.startsAt.backupId}</Link></> : <>, continuing timeline {r.startsAt.from}</>}).
            </p>
          ))}
          {w.gaps.map((g) => (
            <p key={`${g.timeline}-${g.after}`} role="alert" className={alert} data-testid="window-gap">
              A gap at <code className="text-xs">{g.missing[0]}</code>
              {g.count > 1 ? ` (${g.count} segments missing)` : ''} on timeline {g.timeline}
              {g.fromTime ? <>, after <LocalTime value={g.fromTime} /></> : ''}, stops recovery there: a moment after it needs a base backup taken after it.
            </p>
          ))}
        </div>
      )}
      {(w.ranges.length > 0 || data.restorePoints.length > 0 || data.baseBackups.length > 0) && <Chart data={data} />}
      {data.checkedAt && <p className="text-xs text-slate-500">The archive as the connection test of <LocalTime value={data.checkedAt} /> listed it; base backups and restore points as recorded now.</p>}
      <RestorePoints targetId={targetId} points={data.restorePoints} canCreate={canCreate} />
    </div>
  );
}

function Chart({ data }: { data: WindowView }) {
  const { window: w, baseBackups, restorePoints } = data;
  const timelines = [...new Set([...w.ranges.map((r) => r.timeline), ...baseBackups.map((b) => b.timeline), ...w.gaps.map((g) => g.timeline)])].sort((a, b) => a - b);
  if (timelines.length === 0) timelines.push(1);
  const times = [
    ...w.ranges.flatMap((r) => [ms(r.fromTime), ms(r.toTime)]),
    ...w.gaps.flatMap((g) => [ms(g.fromTime), ms(g.toTime)]),
    ...baseBackups.map((b) => ms(b.stoppedAt)),
    ...restorePoints.map((p) => ms(p.createdAt)),
  ].filter((t): t is number => t !== null);
  if (times.length === 0) return null;
  const lo = Math.min(...times);
  const hi = Math.max(...times);
  const pad = Math.max((hi - lo) * 0.03, 60_000);
  const markers = baseBackups.filter((b) => b.stoppedAt).map((b) => ({ x: ms(b.stoppedAt)!, y: b.timeline, id: b.id }));
  return (
    <div data-testid="window-chart" data-ranges={w.ranges.length} data-gaps={w.gaps.length} data-points={restorePoints.length}>
      <div className="h-48 w-full">
        <ResponsiveContainer width="100%" height="100%">
          <ScatterChart margin={{ top: 18, right: 12, bottom: 0, left: -18 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis type="number" dataKey="x" domain={[lo - pad, hi + pad]} tickFormatter={tick} tick={{ fontSize: 10 }} tickCount={4} />
            <YAxis type="number" dataKey="y" domain={[Math.min(...timelines) - 0.6, Math.max(...timelines) + 0.6]} ticks={timelines} allowDecimals={false} tick={{ fontSize: 10 }} label={{ value: 'timeline', angle: -90, position: 'insideLeft', fontSize: 10, dx: 14 }} />
            {w.ranges.map((r) => (
              <ReferenceArea key={`r-${r.timeline}-${r.fromLsn}`} x1={ms(r.fromTime) ?? lo} x2={ms(r.toTime) ?? hi} y1={r.timeline - 0.25} y2={r.timeline + 0.25} fill="#0284c7" fillOpacity={0.7} stroke="none" ifOverflow="extendDomain" />
            ))}
            {w.gaps.map((g) => (
              <ReferenceArea key={`g-${g.timeline}-${g.after}`} x1={ms(g.fromTime) ?? hi} x2={Math.max(ms(g.toTime) ?? hi, (ms(g.fromTime) ?? hi) + pad)} y1={g.timeline - 0.3} y2={g.timeline + 0.3} fill="#dc2626" fillOpacity={0.85} stroke="none" ifOverflow="extendDomain" />
            ))}
            {restorePoints.map((p) => (
              <ReferenceLine key={`p-${p.id}`} x={ms(p.createdAt)!} stroke={p.reachable ? '#7c3aed' : '#94a3b8'} strokeDasharray="4 2" label={{ value: `⚑ ${p.name}`, position: 'top', fontSize: 10, fill: '#5b21b6' }} ifOverflow="extendDomain" />
            ))}
            <Tooltip cursor={false} formatter={(v, name) => (name === 'x' ? [tick(Number(v)), 'base backup end'] : [v, name])} />
            <Scatter name="Base backups" data={markers} fill="#0f172a" shape="diamond" isAnimationActive={false} />
          </ScatterChart>
        </ResponsiveContainer>
      </div>
      <p className="mt-1 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600">
        <span><span className="mr-1 inline-block h-2 w-3 bg-sky-600 align-middle" />continuous WAL</span>
        <span><span className="mr-1 inline-block h-2 w-3 bg-red-600 align-middle" />gap</span>
        <span>◆ base backup</span>
        <span className="text-violet-800">⚑ restore point</span>
      </p>
    </div>
  );
}

function RestorePoints({ targetId, points, canCreate }: { targetId: string; points: WindowView['restorePoints']; canCreate: boolean }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => api<{ job: { id: string } }>(`/api/targets/${targetId}/restore-points`, { method: 'POST', body: { name } }),
    onSuccess: () => setName(''),
  });
  const job = useJob(create.data?.job.id ?? null).data?.job;
  const running = job ? isActive(job.status) : !!create.data;
  const ended = job && !isActive(job.status) ? job : null;
  // The new point shows once its job has ended: read the window again then.
  useEffect(() => {
    if (ended) void qc.invalidateQueries({ queryKey: queryKeys.window(targetId) });
  }, [ended?.id, ended?.status]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <section>
      <h3 className="mb-1 font-medium">Restore points</h3>
      {points.length === 0 ? (
        <p className="text-slate-600">No named restore point yet.</p>
      ) : (
        <ul className="space-y-1" data-testid="restore-points">
          {points.slice(0, 20).map((p) => (
            <li key={p.id}>
              <span className="font-medium">⚑ {p.name}</span> at <code className="text-xs">{p.lsn}</code>, <LocalTime value={p.createdAt} />, by {p.createdBy}
              {!p.reachable && <span className="text-slate-500"> (not yet inside the window: its segment is archived when the server finishes it)</span>}
            </li>
          ))}
        </ul>
      )}
      {canCreate && (
        <form
          className="mt-2 flex flex-wrap items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <label className="flex min-w-0 flex-1 flex-col text-xs text-slate-600">
            Name (up to 63 bytes)
            <input
              className="mt-1 w-full min-w-0 rounded-md border border-slate-300 px-2 py-1.5 text-sm text-slate-900"
              value={name}
              maxLength={63}
              onChange={(e) => setName(e.target.value)}
              placeholder="before the 16:00 release"
              data-testid="restore-point-name"
            />
          </label>
          <Button type="submit" variant="secondary" disabled={create.isPending || running || name.trim() === ''}>
            {create.isPending || running ? 'Creating…' : 'Create restore point'}
          </Button>
        </form>
      )}
      <ErrorBox error={create.error} />
      {ended && ended.status === 'succeeded' && <p className="mt-1 text-emerald-800" role="status">Restore point created.</p>}
      {ended && ended.status !== 'succeeded' && (
        <p className={`mt-1 ${alert}`} role="alert">
          {ended.errorMessage ?? 'The restore point was not created.'} {ended.errorHint} <Link className="underline" href={`/jobs/${ended.id}`}>The job</Link>
        </p>
      )}
    </section>
  );
}
