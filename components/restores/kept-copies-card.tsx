'use client';
// Databases kept beside production by swaps and rollbacks: roll back to one, or drop it (admin).
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '@/lib/client/api';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';
import { LocalTime } from '@/components/ui/time';
import { bytes } from '@/components/ui/format';
import { JobLive } from '@/components/jobs/job-live';

interface Copy { database: string; keptAt: string | null; sizeBytes: number | null; reason: string }

export function KeptCopiesCard({ targetId, isAdmin }: { targetId: string; isAdmin: boolean }) {
  const [jobId, setJobId] = useState<string | null>(null);
  const { data, error, refetch } = useQuery({ queryKey: ['copies', targetId], queryFn: () => api<{ copies: Copy[] }>(`/api/targets/${targetId}/copies`), refetchInterval: 10_000 });
  const act = useMutation({
    mutationFn: ({ kind, database }: { kind: 'rollback' | 'drop'; database: string }) =>
      kind === 'rollback'
        ? api<{ job?: { id: string }; request?: { id: string } }>(`/api/targets/${targetId}/rollback`, { method: 'POST', body: { keptDatabase: database } })
        : api<{ job?: { id: string }; request?: { id: string } }>(`/api/targets/${targetId}/copies/drop`, { method: 'POST', body: { database } }),
    onSuccess: (d) => {
      // With four eyes on, a rollback becomes a request another admin approves.
      setJobId(d.job?.id ?? null);
      setTimeout(() => void refetch(), 3000);
    },
  });
  if (error) return <ErrorBox error={error} />;
  if (!data) return null;
  if (data.copies.length === 0) return <p className="text-sm text-slate-600">No copies kept beside production.</p>;
  return (
    <div className="space-y-3">
      <table className="w-full text-sm" data-testid="kept-copies">
        <thead className="text-left text-xs uppercase tracking-wide text-slate-500"><tr><th className="pb-2">Database</th><th className="pb-2">What</th><th className="pb-2">Kept since</th><th className="pb-2">Size</th><th /></tr></thead>
        <tbody className="divide-y divide-slate-100">
          {data.copies.map((c) => (
            <tr key={c.database}>
              <td className="py-1.5 font-mono text-xs">{c.database}</td>
              <td className="py-1.5">{c.reason}</td>
              <td className="py-1.5"><LocalTime value={c.keptAt} /></td>
              <td className="py-1.5">{bytes(c.sizeBytes)}</td>
              <td className="py-1.5 text-right">
                {isAdmin && (
                  <span className="inline-flex gap-2">
                    {c.database.includes('_before_restore_') && <Button variant="secondary" onClick={() => confirm(`Roll back: make "${c.database}" production again? The current production database is set aside, not dropped.`) && act.mutate({ kind: 'rollback', database: c.database })}>Roll back</Button>}
                    <Button variant="secondary" className="text-red-700" onClick={() => prompt(`Drop "${c.database}" for good? Type its name to confirm:`) === c.database && act.mutate({ kind: 'drop', database: c.database })}>Drop</Button>
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorBox error={act.error} />
      {jobId && <JobLive id={jobId} canCancel={false} compact />}
      {act.data?.request && <p className="text-sm text-amber-800">The rollback waits for a second admin&apos;s approval (Restore page, requests card).</p>}
    </div>
  );
}
