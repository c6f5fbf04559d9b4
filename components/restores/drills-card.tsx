'use client';
// Restore drills of a target: run one now, a monthly schedule, results with measured restore time against the RTO.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useState } from 'react';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';
import { StatusBadge } from '@/components/ui/status-badge';
import { duration, LocalTime } from '@/components/ui/time';
import { JobLive } from '@/components/jobs/job-live';
import type { ScheduleRow } from '@/components/schedules/schedules-card';

interface DrillRow { id: string; status: string; startedAt: string; finishedAt: string | null; restoreMs: number | null; checks: { name: string; ok: boolean }[] | null; error: string | null; errorCode: string | null }

export function DrillsCard({ targetId, canRun, isAdmin, drillSchedule }: { targetId: string; canRun: boolean; isAdmin: boolean; drillSchedule: ScheduleRow | undefined }) {
  const qc = useQueryClient();
  const [jobId, setJobId] = useState<string | null>(null);
  const { data, error } = useQuery({ queryKey: ['drills', targetId], queryFn: () => api<{ drills: DrillRow[]; rtoSeconds: number }>(`/api/targets/${targetId}/drills`), refetchInterval: 10_000 });
  const run = useMutation({ mutationFn: () => api<{ job: { id: string } }>(`/api/targets/${targetId}/drill`, { method: 'POST' }), onSuccess: (d) => setJobId(d.job.id) });
  const schedule = useMutation({
    mutationFn: () => (drillSchedule ? api(`/api/schedules/${drillSchedule.id}`, { method: 'DELETE' }) : api('/api/schedules', { method: 'POST', body: { targetId, kind: 'drill', cron: '0 3 1 * *', timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', retentionDays: null } })),
    onSettled: () => qc.invalidateQueries({ queryKey: queryKeys.target(targetId) }),
  });
  const rto = data?.rtoSeconds ?? 3600;
  const points = (data?.drills ?? []).filter((d) => d.restoreMs !== null).slice().reverse().map((d) => ({ at: new Date(d.startedAt).toLocaleDateString(undefined, { month: 'short', day: 'numeric' }), seconds: Math.round((d.restoreMs ?? 0) / 100) / 10 }));
  return (
    <div className="space-y-4" data-testid="drills">
      <div className="flex flex-wrap items-center gap-3">
        {canRun && <Button onClick={() => run.mutate()} disabled={run.isPending}>Run drill now</Button>}
        <span className="text-sm text-slate-600">
          {drillSchedule ? <>Scheduled: <code className="font-mono">{drillSchedule.cron}</code> ({drillSchedule.timezone}), next <LocalTime value={drillSchedule.nextRunAt} /></> : 'No drill schedule (the runbook drills monthly).'}
        </span>
        {isAdmin && <Button variant="secondary" onClick={() => schedule.mutate()} disabled={schedule.isPending}>{drillSchedule ? 'Stop monthly drills' : 'Drill monthly (1st, 03:00)'}</Button>}
      </div>
      <ErrorBox error={run.error ?? schedule.error ?? error} />
      {jobId && <JobLive id={jobId} canCancel={canRun} compact />}
      {points.length > 0 && (
        <div className="h-48 w-full">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={points} margin={{ top: 10, right: 20, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
              <XAxis dataKey="at" tick={{ fontSize: 11 }} />
              <YAxis tick={{ fontSize: 11 }} domain={[0, (max: number) => Math.max(max, rto) * 1.1]} label={{ value: 's', angle: -90, position: 'insideLeft', fontSize: 11 }} />
              <Tooltip formatter={(v) => [`${v} s`, 'restore time']} />
              <ReferenceLine y={rto} stroke="#dc2626" strokeDasharray="4 4" label={{ value: `RTO ${duration(rto * 1000)}`, fontSize: 11, fill: '#dc2626', position: 'insideTopRight' }} />
              <Line dataKey="seconds" stroke="#0284c7" strokeWidth={2} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
      {data && data.drills.length === 0 ? (
        <p className="text-sm text-amber-800">No drill yet: nobody has proven these backups restore.</p>
      ) : (
        <table className="w-full text-sm">
          <thead className="text-left text-xs uppercase tracking-wide text-slate-500"><tr><th className="pb-2">When</th><th className="pb-2">Result</th><th className="pb-2">Restore time</th><th className="pb-2">Against RTO</th><th className="pb-2">Checks</th></tr></thead>
          <tbody className="divide-y divide-slate-100">
            {data?.drills.map((d) => (
              <tr key={d.id}>
                <td className="py-1.5"><LocalTime value={d.startedAt} /></td>
                <td className="py-1.5"><StatusBadge status={d.status} /></td>
                <td className="py-1.5">{d.restoreMs !== null ? duration(d.restoreMs) : '—'}</td>
                <td className="py-1.5">{d.restoreMs !== null ? (d.restoreMs / 1000 <= rto ? <StatusBadge tone="green">within</StatusBadge> : <StatusBadge tone="red">over</StatusBadge>) : '—'}</td>
                <td className="py-1.5 text-xs">{d.checks && d.checks.length ? `${d.checks.filter((c) => c.ok).length}/${d.checks.length} ok` : d.checks ? <span className="text-amber-800">no checks ran</span> : d.error ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
