'use client';
// Backup history: filters (target, type, status, dates), server-side keyset pages, newest first.
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';
import { StatusBadge } from '@/components/ui/status-badge';
import { duration, LocalTime } from '@/components/ui/time';
import { bytes } from '@/components/ui/format';
import { removalState } from '@/lib/backups/kept';

export interface BackupRow {
  id: number;
  backupType: string;
  /** A dump someone uploaded: restorable, but not a backup Lifeboat took of the target. */
  uploaded?: boolean;
  backupFile: string;
  backupSize: number | null;
  createdAt: string;
  status: string;
  durationMs: number | null;
  databaseName: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  verifiedAt: string | null;
  deletedAt: string | null;
  /** The worker host whose retention run began removing it (deletedAt is set when it is done). */
  deletingOn?: string | null;
  jobId: string | null;
  target: { id: string; name: string } | null;
}

const sel = 'rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm';

export function BackupTable({ fixedTargetId, targets, pageSize = 25 }: { fixedTargetId?: string; targets?: { id: string; name: string }[]; pageSize?: number }) {
  const [filter, setFilter] = useState<Record<string, string>>({});
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  // Dates are the viewer's days: From is that day's local midnight, Until includes the whole chosen day.
  const day = (d: string, plusDays = 0) => {
    const t = new Date(`${d}T00:00:00`);
    t.setDate(t.getDate() + plusDays);
    return t.toISOString();
  };
  const apiFilter = { ...filter, ...(filter.from ? { from: day(filter.from) } : {}), ...(filter.to ? { to: day(filter.to, 1) } : {}) };
  const params = new URLSearchParams({ limit: String(pageSize), ...(fixedTargetId ? { targetId: fixedTargetId } : {}), ...apiFilter, ...(cursor ? { cursor } : {}) });
  for (const [k, v] of [...params]) if (!v) params.delete(k);
  const { data, error, isPending } = useQuery({
    queryKey: queryKeys.backups(Object.fromEntries(params)),
    queryFn: () => api<{ items: BackupRow[]; total: number; nextCursor: string | null }>(`/api/backups?${params}`),
    refetchInterval: 5_000,
  });
  const set = (k: string, v: string) => {
    setFilter((f) => ({ ...f, [k]: v }));
    setCursors([null]);
  };
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-end gap-3 text-sm text-slate-700">
        {!fixedTargetId && targets && (
          <label>Target<br /><select className={sel} value={filter.targetId ?? ''} onChange={(e) => set('targetId', e.target.value)}><option value="">all</option>{targets.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}</select></label>
        )}
        <label>Type<br /><select className={sel} value={filter.type ?? ''} onChange={(e) => set('type', e.target.value)}><option value="">all</option><option value="logical">logical</option><option value="uploaded">uploaded</option></select></label>
        <label>Status<br /><select className={sel} value={filter.status ?? ''} onChange={(e) => set('status', e.target.value)}>{['', 'succeeded', 'failed', 'running', 'cancelled'].map((s) => <option key={s} value={s}>{s || 'all'}</option>)}</select></label>
        <label>From<br /><input type="date" className={sel} value={filter.from ?? ''} onChange={(e) => set('from', e.target.value)} /></label>
        <label>Until<br /><input type="date" className={sel} value={filter.to ?? ''} onChange={(e) => set('to', e.target.value)} /></label>
      </div>
      <ErrorBox error={error} />
      {isPending || !data ? (
        <p className="text-sm text-slate-500">Loading…</p>
      ) : data.items.length === 0 ? (
        <p className="rounded-lg border border-dashed border-slate-300 bg-white p-8 text-center text-sm text-slate-600">No backups match.</p>
      ) : (
        <div className="overflow-hidden rounded-lg border border-slate-200 bg-white">
          <table className="w-full text-sm" data-testid="backup-table">
            <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
              <tr><th className="px-3 py-2">Status</th><th className="px-3 py-2">Started</th>{!fixedTargetId && <th className="px-3 py-2">Target</th>}<th className="px-3 py-2">Database</th><th className="px-3 py-2">Size</th><th className="px-3 py-2">Took</th><th className="px-3 py-2">Details</th></tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {data.items.map((b) => (
                <tr key={b.id} data-backup-id={b.id}>
                  <td className="px-3 py-2"><StatusBadge status={b.status} />{b.backupType === 'uploaded' && <span className="ml-1"><UploadedBadge /></span>}<RemovalLabel backup={b} /></td>
                  <td className="px-3 py-2"><Link href={`/backups/${b.id}`} className="text-sky-800 underline"><LocalTime value={b.createdAt} /></Link></td>
                  {!fixedTargetId && <td className="px-3 py-2">{b.target?.name ?? <em className="text-slate-500">deleted target</em>}</td>}
                  <td className="px-3 py-2">{b.databaseName}</td>
                  <td className="px-3 py-2">{bytes(b.backupSize)}</td>
                  <td className="px-3 py-2">{b.durationMs !== null ? duration(b.durationMs) : '—'}</td>
                  <td className="max-w-xs truncate px-3 py-2 text-slate-700" title={b.errorMessage ?? b.backupFile}>{b.errorMessage ?? (b.verifiedAt ? 'verified (pg_restore --list)' : '')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data && (
        <div className="flex items-center gap-3 text-sm text-slate-600">
          <span>{data.total} backup{data.total === 1 ? '' : 's'}</span>
          <Button variant="secondary" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>Newer</Button>
          <Button variant="secondary" disabled={!data.nextCursor} onClick={() => data.nextCursor && setCursors((c) => [...c, data.nextCursor])}>Older</Button>
        </div>
      )}
    </div>
  );
}

/** Uploaded dumps are labelled wherever backups are listed: they restore, but never count as a target's backup. */
export function UploadedBadge() {
  return <span title="Uploaded by an admin, not taken by Lifeboat: it never counts as this target's last good backup." data-testid="uploaded-badge"><StatusBadge tone="blue">uploaded</StatusBadge></span>;
}

/** Removed, or being removed by retention (its files may already be partly gone): either way not a source any more. */
export function RemovalLabel({ backup }: { backup: { deletedAt: string | Date | null; deletingOn?: string | null } }) {
  const state = removalState(backup);
  if (state === 'kept') return null;
  if (state === 'removed') return <span className="ml-1 text-xs text-slate-500" data-testid="removal-label">removed</span>;
  return (
    <span className="ml-1" data-testid="removal-label" title="Retention began removing this backup; its files may already be partly gone. It cannot be restored or downloaded.">
      <StatusBadge tone="amber">being removed</StatusBadge>
    </span>
  );
}
