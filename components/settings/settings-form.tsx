'use client';
// Recovery targets (admin): the RTO drills are measured against.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from '@/lib/client/api';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { ErrorBox } from '@/components/ui/error-box';

export function SettingsForm() {
  const qc = useQueryClient();
  const { data, error } = useQuery({ queryKey: ['settings'], queryFn: () => api<{ settings: { rtoSeconds: number; requireSecondAdmin: boolean } }>('/api/settings') });
  const [minutes, setMinutes] = useState('');
  const [fourEyes, setFourEyes] = useState(false);
  useEffect(() => {
    if (data) {
      setMinutes(String(Math.round(data.settings.rtoSeconds / 60)));
      setFourEyes(data.settings.requireSecondAdmin);
    }
  }, [data]);
  const save = useMutation({
    mutationFn: () => api('/api/settings', { method: 'PUT', body: { rtoSeconds: Math.round(Number(minutes) * 60), requireSecondAdmin: fourEyes } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['settings'] }),
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
          Restores that replace production need a second admin&apos;s approval
        </label>
        <ErrorBox error={save.error} />
        {save.isSuccess && <p className="text-sm text-emerald-800">Saved.</p>}
        <Button type="submit" disabled={save.isPending}>Save</Button>
      </form>
    </Card>
  );
}
