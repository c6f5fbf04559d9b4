'use client';
// Size and duration of a target's backups over time; a jump of 50 % or more (the runbook's alert) is marked red.
import { useQuery } from '@tanstack/react-query';
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ReferenceDot, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { ErrorBox } from '@/components/ui/error-box';

interface Point { id: number; at: string; size: number; durationMs: number; database: string | null; changePct: number; sudden: boolean }

export function TrendChart({ targetId }: { targetId: string }) {
  const { data, error } = useQuery({ queryKey: queryKeys.trend(targetId), queryFn: () => api<{ points: Point[] }>(`/api/targets/${targetId}/trend`), refetchInterval: 15_000 });
  if (error) return <ErrorBox error={error} />;
  if (!data) return <p className="text-sm text-slate-500">Loading…</p>;
  if (data.points.length === 0) return <p className="text-sm text-slate-600">No successful backup yet: the chart starts with the first one.</p>;
  const rows = data.points.map((p) => ({
    ...p,
    label: new Date(p.at).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }),
    sizeMiB: Math.round((p.size / 1048576) * 100) / 100,
    seconds: Math.round(p.durationMs / 100) / 10,
  }));
  const sudden = rows.filter((r) => r.sudden);
  return (
    <div data-testid="trend-chart" data-points={rows.length}>
      <div className="h-64 w-full">
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={rows} margin={{ top: 10, right: 20, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis dataKey="label" tick={{ fontSize: 11 }} />
            <YAxis yAxisId="size" tick={{ fontSize: 11 }} label={{ value: 'MiB', angle: -90, position: 'insideLeft', fontSize: 11 }} />
            <YAxis yAxisId="time" orientation="right" tick={{ fontSize: 11 }} label={{ value: 's', angle: 90, position: 'insideRight', fontSize: 11 }} />
            <Tooltip formatter={(v, name) => (name === 'Size (MiB)' ? [`${v} MiB`, name] : [`${v} s`, name])} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Bar yAxisId="size" dataKey="sizeMiB" name="Size (MiB)" fill="#0284c7" isAnimationActive={false} />
            <Line yAxisId="time" dataKey="seconds" name="Duration (s)" stroke="#f59e0b" strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} />
            {sudden.map((r) => (
              <ReferenceDot key={r.id} yAxisId="size" x={r.label} y={r.sizeMiB} r={6} fill="#dc2626" stroke="#fff" />
            ))}
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      {sudden.length > 0 && (
        <ul className="mt-2 space-y-1 text-sm text-red-800" data-testid="sudden-changes">
          {sudden.map((r) => (
            <li key={r.id}>
              {r.label}: size changed by {r.changePct > 0 ? '+' : ''}{r.changePct} % against the previous backup{r.database ? ` of ${r.database}` : ''}. Check whether data was deleted or loaded.
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
