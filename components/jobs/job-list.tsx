'use client';
// The job list with a status filter; rows link to the live job page.
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { ErrorBox } from '@/components/ui/error-box';
import { StatusBadge } from '@/components/ui/status-badge';
import { duration, LocalTime } from '@/components/ui/time';
import type { JobView } from './use-job';

const statuses = ['', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

export function JobList() {
  const params = useSearchParams();
  const router = useRouter();
  const status = params.get('status') ?? '';
  const { data, error, isPending } = useQuery({
    queryKey: queryKeys.jobs({ status }),
    queryFn: () => api<{ jobs: JobView[] }>(`/api/jobs?limit=100${status ? `&status=${status}` : ''}`),
    refetchInterval: 3_000,
  });
  return (
    <div className="space-y-4">
      <label className="flex items-center gap-2 text-sm text-slate-700">
        Status
        <select
          value={status}
          onChange={(e) => router.replace(e.target.value ? `/jobs?status=${e.target.value}` : '/jobs')}
          className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm"
        >
          {statuses.map((s) => <option key={s} value={s}>{s || 'all'}</option>)}
        </select>
      </label>
      <ErrorBox error={error} />
      {isPending ? (
        <p className="text-sm text-slate-500">Loading…</p>
      ) : data && data.jobs.length === 0 ? (
        <p className="rounded-lg border border-dashed border-slate-300 bg-white p-8 text-center text-sm text-slate-600">No jobs{status ? ` with status ${status}` : ''} yet.</p>
      ) : (
        <div className="overflow-hidden rounded-lg border border-slate-200 bg-white">
          <table className="w-full text-sm">
            <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
              <tr><th className="px-4 py-2">Status</th><th className="px-4 py-2">Job</th><th className="px-4 py-2">Started by</th><th className="px-4 py-2">Created</th><th className="px-4 py-2">Took</th><th className="px-4 py-2">Outcome</th></tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {data?.jobs.map((j) => (
                <tr key={j.id}>
                  <td className="px-4 py-2"><StatusBadge status={j.status} /></td>
                  <td className="px-4 py-2"><Link href={`/jobs/${j.id}`} className="font-medium text-sky-800 underline">{j.kind}</Link></td>
                  <td className="px-4 py-2 text-slate-600">{j.createdBy?.email ?? 'system'}</td>
                  <td className="px-4 py-2 text-slate-600"><LocalTime value={j.createdAt} /></td>
                  <td className="px-4 py-2 text-slate-600">{j.startedAt && j.finishedAt ? duration(new Date(j.finishedAt).getTime() - new Date(j.startedAt).getTime()) : j.status === 'running' ? `${Math.round(j.progress ?? 0)} %` : '—'}</td>
                  <td className="max-w-xs truncate px-4 py-2 text-slate-700" title={j.errorMessage ?? undefined}>{j.errorMessage ?? j.step ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
