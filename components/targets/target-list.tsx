'use client';
// Targets: each one's protection at a glance (last good backup, last result, tool check); add one (admin).
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Card } from '@/components/ui/card';
import { ErrorBox } from '@/components/ui/error-box';
import { StatusBadge } from '@/components/ui/status-badge';
import { Ago } from '@/components/ui/time';
import { Button } from '@/components/ui/button';
import { TargetForm } from './target-form';

export interface TargetRow {
  id: string;
  name: string;
  host: string;
  port: number;
  dbUser: string;
  database: string | null;
  disabled: boolean;
  workerPool: string;
  lastGoodAt: string | null;
  lastBackup: { status: string; created_at: string } | null;
  lastCheck: { ok: boolean; serverVersion?: string; toolProblem?: { message: string } | null; unreadable?: string[] } | null;
  connection: ConnectionView;
}

/** The target's status from the newest evidence (lib/targets/target-status.ts). */
export interface ConnectionView { state: string; tone: 'green' | 'red' | 'gray'; label: string; reason: string | null; code: string | null; at: string | null; source: 'test' | 'backup' | null }

export function ConnectionBadge({ c, version }: { c: ConnectionView; version?: string }) {
  const from = c.source === 'test' ? 'connection test' : c.source === 'backup' ? 'backup attempt' : null;
  return (
    <span data-testid="connection-status" data-state={c.state} title={[c.reason, from && `from the last ${from}`].filter(Boolean).join(' · ') || undefined}>
      <StatusBadge tone={c.tone}>{c.label}{c.state === 'ok' && version ? ` · PG ${version}` : ''}</StatusBadge>
      {c.tone === 'red' && c.reason && <span className="mt-1 block max-w-xs truncate text-xs text-red-700">{c.reason}</span>}
    </span>
  );
}

export function TargetList({ isAdmin }: { isAdmin: boolean }) {
  const [adding, setAdding] = useState(false);
  const { data, error, isPending } = useQuery({ queryKey: queryKeys.targets, queryFn: () => api<{ targets: TargetRow[] }>('/api/targets'), refetchInterval: 10_000 });
  if (error) return <ErrorBox error={error} />;
  if (isPending || !data) return <p className="text-sm text-slate-500">Loading…</p>;
  return (
    <div className="space-y-6">
      {isAdmin && (
        <div>
          {adding ? (
            <Card title="Add a target" action={<Button variant="secondary" onClick={() => setAdding(false)}>Close</Button>}>
              <TargetForm onDone={() => setAdding(false)} />
            </Card>
          ) : (
            <Button onClick={() => setAdding(true)}>Add a target</Button>
          )}
        </div>
      )}
      {data.targets.length === 0 ? (
        <div className="rounded-lg border border-dashed border-slate-300 bg-white p-10 text-center" data-testid="targets-empty">
          <p className="text-base font-medium">No targets yet.</p>
          <p className="mt-1 text-sm text-slate-600">{isAdmin ? 'Add the databases Lifeboat should protect.' : 'Ask an admin to add the databases Lifeboat should protect.'}</p>
        </div>
      ) : (
        <div className="overflow-hidden rounded-lg border border-slate-200 bg-white">
          <table className="w-full text-sm">
            <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
              <tr><th className="px-4 py-2">Target</th><th className="px-4 py-2">Server</th><th className="px-4 py-2">Last good backup</th><th className="px-4 py-2">Last run</th><th className="px-4 py-2">Connection</th></tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {data.targets.map((t) => (
                <tr key={t.id}>
                  <td className="px-4 py-2.5">
                    <Link href={`/targets/${t.id}`} className="font-medium text-sky-800 underline">{t.name}</Link>
                    <p className="text-xs text-slate-500">{t.database ?? 'every database'}{t.disabled && ' · disabled'}</p>
                  </td>
                  <td className="px-4 py-2.5 font-mono text-xs">{t.dbUser}@{t.host}:{t.port}</td>
                  <td className={`px-4 py-2.5 ${t.lastGoodAt ? '' : 'font-medium text-red-700'}`}>{t.lastGoodAt ? <Ago value={t.lastGoodAt} /> : 'never'}</td>
                  <td className="px-4 py-2.5">{t.lastBackup ? <StatusBadge status={t.lastBackup.status} /> : <span className="text-slate-400">—</span>}</td>
                  <td className="px-4 py-2.5 text-xs">
                    <ConnectionBadge c={t.connection} version={t.lastCheck?.serverVersion?.split(' ')[0]} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
