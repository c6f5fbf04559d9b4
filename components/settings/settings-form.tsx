'use client';
// Recovery targets (admin): the RTO drills are measured against; four-eyes approvals and how long a request waits.
// Switching approvals off is itself a request another admin must approve.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from '@/lib/client/api';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { ErrorBox } from '@/components/ui/error-box';

export function SettingsForm() {
  const qc = useQueryClient();
  const { data, error } = useQuery({ queryKey: ['settings'], queryFn: () => api<{ settings: { rtoSeconds: number; requireSecondAdmin: boolean; approvalExpiryHours: number } }>('/api/settings') });
  const [minutes, setMinutes] = useState('');
  const [fourEyes, setFourEyes] = useState(false);
  const [expiryHours, setExpiryHours] = useState('');
  useEffect(() => {
    if (data) {
      setMinutes(String(Math.round(data.settings.rtoSeconds / 60)));
      setFourEyes(data.settings.requireSecondAdmin);
      setExpiryHours(String(data.settings.approvalExpiryHours));
    }
  }, [data]);
  const save = useMutation({
    mutationFn: () =>
      api<{ pendingRequest: { id: string } | null }>('/api/settings', {
        method: 'PUT',
        body: { rtoSeconds: Math.round(Number(minutes) * 60), requireSecondAdmin: fourEyes, approvalExpiryHours: Math.round(Number(expiryHours)) },
      }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['settings'] });
      void qc.invalidateQueries({ queryKey: ['restore-requests'] });
    },
  });
  return (
    <Card title="Recovery targets and restore approvals">
      <ErrorBox error={error} />
      <form className="space-y-3" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <label className="block text-sm font-medium text-slate-700">RTO: a full database restore must finish within (minutes)
          <input type="number" min={1} value={minutes} onChange={(e) => setMinutes(e.target.value)} className="mt-1 block w-40 rounded-md border border-slate-300 px-3 py-2 text-sm" />
          <span className="text-xs text-slate-500">The runbook&apos;s target is 60 minutes. Every drill&apos;s measured restore time is compared with it.</span>
        </label>
        <label className="flex items-center gap-2 text-sm font-medium text-slate-700">
          <input type="checkbox" checked={fourEyes} onChange={(e) => setFourEyes(e.target.checked)} />
          Restores that replace production, and rollbacks, need a second admin&apos;s approval (switching this off needs one too)
        </label>
        <label className="block text-sm font-medium text-slate-700">A request expires after (hours)
          <input type="number" min={1} max={720} value={expiryHours} onChange={(e) => setExpiryHours(e.target.value)} className="mt-1 block w-40 rounded-md border border-slate-300 px-3 py-2 text-sm" />
          <span className="text-xs text-slate-500">Undecided requests cannot be approved after this; the default is 24 hours.</span>
        </label>
        <ErrorBox error={save.error} />
        {save.isSuccess && (save.data.pendingRequest
          ? <p className="text-sm text-amber-800">Saved, except approvals: switching them off waits for another admin (Restore page, requests card).</p>
          : <p className="text-sm text-emerald-800">Saved.</p>)}
        <Button type="submit" disabled={save.isPending}>Save</Button>
      </form>
    </Card>
  );
}
