'use client';
// Actions on production waiting for a second admin (restores that replace it, rollbacks, switching approvals off):
// what exactly will happen, who asked, until when; approve (it runs) or refuse; the requester may withdraw. All audited.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { api } from '@/lib/client/api';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { ErrorBox } from '@/components/ui/error-box';
import { StatusBadge, type Tone } from '@/components/ui/status-badge';
import { Ago, LocalTime } from '@/components/ui/time';
import { UploadedBadge } from '@/components/backups/backup-table';

interface Req {
  id: string;
  kind: 'restore' | 'rollback' | 'settings';
  status: string;
  database: string;
  what: string;
  target: { id: string; name: string; server: string } | null;
  backup: { id: string; createdAt: string | null; database: string | null; uploaded: boolean; removed: boolean } | null;
  method: string | null;
  keptDatabase: string | null;
  requestedById: string;
  requestedBy: string | null;
  requestedAt: string;
  expiresAt: string;
  decidedBy: string | null;
  reason: string | null;
  jobId: string | null;
}

const tone: Record<string, Tone> = { requested: 'amber', approved: 'green', refused: 'gray', withdrawn: 'gray', expired: 'gray' };
const kindLabel: Record<Req['kind'], string> = { restore: 'Replace production', rollback: 'Roll back production', settings: 'Switch approvals off' };

export function RestoreRequests({ selfId }: { selfId: string }) {
  const qc = useQueryClient();
  const { data, error } = useQuery({ queryKey: ['restore-requests'], queryFn: () => api<{ requests: Req[] }>('/api/restores/requests'), refetchInterval: 10_000 });
  const decide = useMutation({
    mutationFn: ({ id, decision }: { id: string; decision: 'approve' | 'refuse' | 'withdraw' }) => api(`/api/restores/requests/${id}`, { method: 'POST', body: { decision } }),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ['restore-requests'] });
      void qc.invalidateQueries({ queryKey: ['settings'] });
    },
  });
  const pending = data?.requests.filter((r) => r.status === 'requested') ?? [];
  if (error) return <ErrorBox error={error} />;
  if (!data || data.requests.length === 0) return null;
  return (
    <Card title={`Actions on production waiting for a second admin (${pending.length})`} className="mb-6">
      <ul className="divide-y divide-slate-100 text-sm" data-testid="restore-requests">
        {data.requests.slice(0, 10).map((r) => (
          <li key={r.id} className="py-3" data-request-id={r.id}>
            <div className="flex flex-wrap items-center gap-2">
              <StatusBadge tone={tone[r.status] ?? 'gray'}>{r.status}{r.decidedBy && r.status !== 'withdrawn' ? ` by ${r.decidedBy}` : ''}</StatusBadge>
              <strong>{kindLabel[r.kind] ?? r.kind}</strong>
              {r.method && <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs">{r.method === 'in-place' ? 'in place (dropped, then restored)' : 'swap (old one kept)'}</span>}
              {r.jobId && <Link href={`/jobs/${r.jobId}`} className="text-sky-700 underline">job</Link>}
            </div>
            <p className="mt-1 text-slate-800">{r.what}.</p>
            <dl className="mt-1 grid grid-cols-[max-content_minmax(0,1fr)] gap-x-3 gap-y-0.5 text-xs text-slate-600">
              {r.target && <><dt>Target</dt><dd><Link href={`/targets/${r.target.id}`} className="text-sky-800 underline">{r.target.name}</Link> <span className="font-mono">{r.target.server}</span> · database <span className="font-mono">{r.database}</span></dd></>}
              {r.backup && (
                <>
                  <dt>Backup</dt>
                  <dd>
                    <Link href={`/backups/${r.backup.id}`} className="text-sky-800 underline">#{r.backup.id}</Link>
                    {r.backup.createdAt ? <> taken <LocalTime value={r.backup.createdAt} /> (<Ago value={r.backup.createdAt} />)</> : null}
                    {r.backup.database ? <> of <span className="font-mono">{r.backup.database}</span></> : null}
                    {r.backup.uploaded && <span className="ml-1"><UploadedBadge /></span>}
                    {r.backup.removed && <span className="ml-1 text-red-700">no longer kept</span>}
                  </dd>
                </>
              )}
              {r.keptDatabase && <><dt>Becomes production</dt><dd className="font-mono">{r.keptDatabase}</dd></>}
              <dt>Asked by</dt><dd>{r.requestedBy} <LocalTime value={r.requestedAt} /></dd>
              {r.status === 'requested' && <><dt>Expires</dt><dd><LocalTime value={r.expiresAt} /></dd></>}
              {r.reason && <><dt>Reason</dt><dd>{r.reason}</dd></>}
            </dl>
            {r.status === 'requested' && (
              <div className="mt-2 flex flex-wrap gap-2">
                {r.requestedById === selfId ? (
                  <>
                    <span className="self-center text-xs text-slate-500">another admin must decide</span>
                    <Button variant="secondary" onClick={() => decide.mutate({ id: r.id, decision: 'withdraw' })}>Withdraw</Button>
                  </>
                ) : (
                  <>
                    <Button variant="danger" onClick={() => confirm(`Approve now? ${r.what}.`) && decide.mutate({ id: r.id, decision: 'approve' })}>Approve</Button>
                    <Button variant="secondary" onClick={() => decide.mutate({ id: r.id, decision: 'refuse' })}>Refuse</Button>
                  </>
                )}
              </div>
            )}
          </li>
        ))}
      </ul>
      <ErrorBox error={decide.error} />
    </Card>
  );
}
