'use client';
// The list of targets (read-only for viewers and operators).
import { useQuery } from '@tanstack/react-query';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { ErrorBox } from '@/components/ui/error-box';
import { StatusBadge } from '@/components/ui/status-badge';

interface TargetRow { id: string; name: string; host: string; port: number; dbUser: string; database: string | null; disabled: boolean; workerPool: string }

export function TargetList({ isAdmin }: { isAdmin: boolean }) {
  const { data, error, isPending } = useQuery({ queryKey: queryKeys.targets, queryFn: () => api<{ targets: TargetRow[] }>('/api/targets') });
  if (error) return <ErrorBox error={error} />;
  if (isPending || !data) return <p className="text-sm text-slate-500">Loading…</p>;
  if (data.targets.length === 0) {
    return (
      <div className="rounded-lg border border-dashed border-slate-300 bg-white p-10 text-center" data-testid="targets-empty">
        <p className="text-base font-medium">No targets yet.</p>
        <p className="mt-1 text-sm text-slate-600">
          {isAdmin ? 'Adding a target (connection, schedule, test connection) arrives with logical backups.' : 'Ask an admin to add the databases Lifeboat should protect.'}
        </p>
      </div>
    );
  }
  return (
    <div className="overflow-hidden rounded-lg border border-slate-200 bg-white">
      <table className="w-full text-sm">
        <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
          <tr><th className="px-4 py-2">Name</th><th className="px-4 py-2">Server</th><th className="px-4 py-2">Database</th><th className="px-4 py-2">Pool</th><th className="px-4 py-2">State</th></tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {data.targets.map((t) => (
            <tr key={t.id}>
              <td className="px-4 py-2 font-medium">{t.name}</td>
              <td className="px-4 py-2 font-mono text-xs">{t.dbUser}@{t.host}:{t.port}</td>
              <td className="px-4 py-2">{t.database ?? <em>every database</em>}</td>
              <td className="px-4 py-2">{t.workerPool}</td>
              <td className="px-4 py-2"><StatusBadge status={t.disabled ? 'disabled' : 'succeeded'}>{t.disabled ? 'disabled' : 'active'}</StatusBadge></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
