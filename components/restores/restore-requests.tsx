'use client';
// Production restores waiting for a second admin: approve (the restore starts) or refuse; both audited.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { api } from '@/lib/client/api';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { ErrorBox } from '@/components/ui/error-box';
import { StatusBadge } from '@/components/ui/status-badge';
import { LocalTime } from '@/components/ui/time';

interface Req { id: string; database: string; status: string; requestedAt: string; requestedBy: string | null; decidedBy: string | null; jobId: string | null; requestedById: string }

export function RestoreRequests({ selfId }: { selfId: string }) {
  const qc = useQueryClient();
  const { data, error } = useQuery({ queryKey: ['restore-requests'], queryFn: () => api<{ requests: Req[] }>('/api/restores/requests'), refetchInterval: 10_000 });
  const decide = useMutation({
    mutationFn: ({ id, decision }: { id: string; decision: 'approve' | 'refuse' }) => api(`/api/restores/requests/${id}`, { method: 'POST', body: { decision } }),
    onSettled: () => qc.invalidateQueries({ queryKey: ['restore-requests'] }),
  });
  const pending = data?.requests.filter((r) => r.status === 'requested') ?? [];
  if (error) return <ErrorBox error={error} />;
  if (!data || data.requests.length === 0) return null;
  return (
    <Card title={`Production restores waiting for approval (${pending.length})`} className="mb-6">
      <table className="w-full text-sm" data-testid="restore-requests">
        <thead className="text-left text-xs uppercase tracking-wide text-slate-500"><tr><th className="pb-2">Production</th><th className="pb-2">Asked by</th><th className="pb-2">When</th><th className="pb-2">State</th><th /></tr></thead>
        <tbody className="divide-y divide-slate-100">
          {data.requests.slice(0, 10).map((r) => (
            <tr key={r.id}>
              <td className="py-1.5 font-mono">{r.database}</td>
              <td className="py-1.5">{r.requestedBy}</td>
              <td className="py-1.5"><LocalTime value={r.requestedAt} /></td>
              <td className="py-1.5"><StatusBadge tone={r.status === 'approved' ? 'green' : r.status === 'refused' ? 'gray' : 'amber'}>{r.status}{r.decidedBy ? ` by ${r.decidedBy}` : ''}</StatusBadge>{r.jobId && <Link href={`/jobs/${r.jobId}`} className="ml-2 text-sky-700 underline">job</Link>}</td>
              <td className="py-1.5 text-right">
                {r.status === 'requested' && (r.requestedById === selfId ? <span className="text-xs text-slate-500">another admin must decide</span> : (
                  <span className="inline-flex gap-2">
                    <Button variant="danger" onClick={() => confirm(`Approve: replace production "${r.database}" now?`) && decide.mutate({ id: r.id, decision: 'approve' })}>Approve</Button>
                    <Button variant="secondary" onClick={() => decide.mutate({ id: r.id, decision: 'refuse' })}>Refuse</Button>
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorBox error={decide.error} />
    </Card>
  );
}
