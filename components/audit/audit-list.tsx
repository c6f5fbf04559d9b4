'use client';
// The audit entries, newest first.
import { useQuery } from '@tanstack/react-query';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { ErrorBox } from '@/components/ui/error-box';
import { LocalTime } from '@/components/ui/time';

interface Entry { id: number; at: string; actorEmail: string; action: string; entityType: string | null; entityId: string | null; params: unknown; ip: string | null }

export function AuditList() {
  const { data, error, isPending } = useQuery({ queryKey: queryKeys.audit(), queryFn: () => api<{ entries: Entry[] }>('/api/audit?limit=200') });
  if (error) return <ErrorBox error={error} />;
  if (isPending || !data) return <p className="text-sm text-slate-500">Loading…</p>;
  if (data.entries.length === 0) return <p className="text-sm text-slate-600">Nothing has been changed yet.</p>;
  return (
    <div className="overflow-hidden rounded-lg border border-slate-200 bg-white">
      <table className="w-full text-sm">
        <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
          <tr><th className="px-4 py-2">When</th><th className="px-4 py-2">Who</th><th className="px-4 py-2">Action</th><th className="px-4 py-2">Details</th></tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {data.entries.map((e) => (
            <tr key={e.id} className="align-top">
              <td className="whitespace-nowrap px-4 py-2 text-slate-600"><LocalTime value={e.at} /></td>
              <td className="px-4 py-2">{e.actorEmail}{e.ip && <span className="block text-xs text-slate-400">{e.ip}</span>}</td>
              <td className="px-4 py-2 font-mono text-xs">{e.action}</td>
              <td className="px-4 py-2 font-mono text-xs text-slate-700">{JSON.stringify(e.params)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
