'use client';
// A target's schedules: cron in its time zone with the next runs, format and retention; admins add, pause, delete.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';
import { LocalTime } from '@/components/ui/time';

export interface ScheduleRow { id: string; kind: string; cron: string; timezone: string; format: string; compressLevel: number; zstdLevel: number; jobs: number; retentionDays: number | null; retentionCount: number | null; enabled: boolean; nextRunAt: string | null; lastRunAt: string | null; baseCompression?: string | null }

const presets = [
  { label: 'Daily at 02:00 (runbook)', cron: '0 2 * * *' },
  { label: 'Weekly, Sunday 01:00 (runbook)', cron: '0 1 * * 0' },
  { label: 'Every 6 hours', cron: '0 */6 * * *' },
];
const input = 'mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm';

const BASE_PRESET_CRON = '0 1 * * 0';
const baseCompressions = [
  { value: '', label: 'default (the base-backup job\'s choice for this server)' },
  { value: 'gzip', label: 'gzip (the runbook\'s --gzip; slowest)' },
  { value: 'server-zstd', label: 'zstd on the server (PostgreSQL 15+)' },
  { value: 'client-zstd', label: 'zstd on the worker (PostgreSQL 15+)' },
  { value: 'server-lz4', label: 'lz4 on the server (PostgreSQL 15+)' },
  { value: 'none', label: 'uncompressed' },
];

/** "weekly Sun 01:00" for the runbook preset, else the cron expression itself. */
function whenLabel(cron: string) {
  return cron.trim() === BASE_PRESET_CRON ? 'weekly Sun 01:00' : cron;
}

function keepLabel(s: ScheduleRow) {
  if (s.kind === 'base') return s.retentionDays ? (s.retentionDays % 7 === 0 ? `keep ${s.retentionDays / 7} week${s.retentionDays === 7 ? '' : 's'}` : `keep ${s.retentionDays} days`) : 'keep forever';
  return [s.retentionDays ? `${s.retentionDays} days` : null, s.retentionCount ? `last ${s.retentionCount}` : null].filter(Boolean).join(' and ') || 'forever';
}

/** A base schedule's one line, as the card shows it: "Base backup · weekly Sun 01:00 · keep 8 weeks". */
export function baseScheduleLabel(s: ScheduleRow) {
  return `Base backup · ${whenLabel(s.cron)} · ${keepLabel(s)}`;
}

function formatLabel(s: ScheduleRow) {
  if (s.kind === 'base') return `base backup, ${s.baseCompression ?? 'default compression'}`;
  if (s.format === 'custom') return `custom, gzip -Z${s.compressLevel}`;
  if (s.format === 'directory') return `directory, --jobs ${s.jobs}, gzip -Z${s.compressLevel}`;
  return `custom + zstd -${s.zstdLevel}`;
}

export function SchedulesCard({ targetId, schedules, isAdmin }: { targetId: string; schedules: ScheduleRow[]; isAdmin: boolean }) {
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: queryKeys.target(targetId) });
  const patch = useMutation({ mutationFn: ({ id, body }: { id: string; body: object }) => api(`/api/schedules/${id}`, { method: 'PATCH', body }), onSettled: refresh });
  const remove = useMutation({ mutationFn: (id: string) => api(`/api/schedules/${id}`, { method: 'DELETE' }), onSettled: refresh });
  return (
    <div className="space-y-4">
      {schedules.length === 0 ? (
        <p className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">No schedule: this target is backed up only when someone presses “Back up now”.</p>
      ) : (
        <table className="w-full text-sm">
          <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
            <tr><th className="pb-2">When</th><th className="pb-2">Format</th><th className="pb-2">Keep</th><th className="pb-2">Next run</th><th /></tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {schedules.map((s) => (
              <tr key={s.id} className={s.enabled ? '' : 'text-slate-400'}>
                {s.kind === 'base' ? (
                  <>
                    <td className="py-2" data-testid="base-schedule">{baseScheduleLabel(s)} <span className="text-xs">({s.timezone})</span></td>
                    <td className="py-2">{formatLabel(s)}</td>
                    <td className="py-2">{keepLabel(s)}; the newest good base backup always stays</td>
                  </>
                ) : (
                  <>
                    <td className="py-2"><code className="font-mono">{s.cron}</code> <span className="text-xs">({s.timezone})</span></td>
                    <td className="py-2">{formatLabel(s)}</td>
                    <td className="py-2">{keepLabel(s)}</td>
                  </>
                )}
                <td className="py-2">{s.enabled ? <LocalTime value={s.nextRunAt} /> : 'paused'}</td>
                <td className="py-2 text-right">
                  {isAdmin && (
                    <span className="inline-flex gap-2">
                      <Button variant="secondary" onClick={() => patch.mutate({ id: s.id, body: { enabled: !s.enabled } })}>{s.enabled ? 'Pause' : 'Resume'}</Button>
                      <Button variant="secondary" onClick={() => confirm(`Delete the schedule ${s.cron}? Backups it made are kept.`) && remove.mutate(s.id)}>Delete</Button>
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorBox error={patch.error ?? remove.error} />
      {isAdmin && (adding ? <AddSchedule targetId={targetId} onDone={() => { setAdding(false); void refresh(); }} onCancel={() => setAdding(false)} /> : <Button variant="secondary" onClick={() => setAdding(true)}>Add a schedule</Button>)}
    </div>
  );
}

function AddSchedule({ targetId, onDone, onCancel }: { targetId: string; onDone: () => void; onCancel: () => void }) {
  const [cron, setCron] = useState('0 2 * * *');
  const [timezone, setTimezone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const [format, setFormat] = useState<'custom-zstd' | 'custom' | 'directory'>('custom-zstd');
  const [retentionDays, setRetentionDays] = useState('30');
  const [kind, setKind] = useState<'logical' | 'base'>('logical');
  const [baseCompression, setBaseCompression] = useState('');
  const [retentionWeeks, setRetentionWeeks] = useState('8');
  const chooseKind = (k: 'logical' | 'base') => {
    setKind(k);
    setCron(k === 'base' ? BASE_PRESET_CRON : '0 2 * * *');
  };
  const preview = useQuery({
    queryKey: queryKeys.cronPreview(cron, timezone),
    queryFn: () => api<{ runs: string[] }>(`/api/schedules/preview?cron=${encodeURIComponent(cron)}&timezone=${encodeURIComponent(timezone)}`),
    enabled: cron.trim().length > 0,
    retry: false,
  });
  const create = useMutation({
    mutationFn: () =>
      api('/api/schedules', {
        method: 'POST',
        body:
          kind === 'base'
            ? { targetId, kind, cron, timezone, baseCompression: baseCompression || null, retentionWeeks: Number(retentionWeeks) }
            : { targetId, cron, timezone, format, compressLevel: format === 'custom' ? 9 : format === 'directory' ? 1 : 0, jobs: 2, retentionDays: retentionDays ? Number(retentionDays) : null },
      }),
    onSuccess: onDone,
  });
  const cronError = preview.error instanceof ApiError ? preview.error : null;
  return (
    <form className="grid gap-4 rounded-md border border-slate-200 p-4 sm:grid-cols-2" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
      <p className="text-sm font-semibold sm:col-span-2">Add a schedule</p>
      <label className="text-sm font-medium text-slate-700 sm:col-span-2">What
        <select value={kind} onChange={(e) => chooseKind(e.target.value as 'logical' | 'base')} className={input}>
          <option value="logical">Logical backup (pg_dump)</option>
          <option value="base">Base backup (pg_basebackup, for point-in-time recovery)</option>
        </select>
      </label>
      <div className="sm:col-span-2 flex flex-wrap gap-2">
        {presets.map((p) => (
          <button type="button" key={p.cron} onClick={() => setCron(p.cron)} className={`rounded-full border px-3 py-1 text-xs ${cron === p.cron ? 'border-sky-600 bg-sky-50 text-sky-800' : 'border-slate-300 text-slate-700'}`}>{p.label}</button>
        ))}
      </div>
      <label className="text-sm font-medium text-slate-700">Cron (minute hour day month weekday)
        <input value={cron} onChange={(e) => setCron(e.target.value)} className={`${input} font-mono`} aria-invalid={!!cronError} />
      </label>
      <label className="text-sm font-medium text-slate-700">Time zone<input value={timezone} onChange={(e) => setTimezone(e.target.value)} className={input} /></label>
      {kind === 'base' ? (
        <>
          <label className="text-sm font-medium text-slate-700">Compression
            <select value={baseCompression} onChange={(e) => setBaseCompression(e.target.value)} className={input}>
              {baseCompressions.map((c) => <option key={c.value} value={c.value}>{c.label}</option>)}
            </select>
          </label>
          <label className="text-sm font-medium text-slate-700">Keep for (weeks)<input type="number" min={1} value={retentionWeeks} onChange={(e) => setRetentionWeeks(e.target.value)} className={input} />
            <span className="text-xs text-slate-500">The newest good base backup is always kept; WAL that no kept base backup needs is freed.</span>
          </label>
        </>
      ) : (
        <>
          <label className="text-sm font-medium text-slate-700">Format
            <select value={format} onChange={(e) => setFormat(e.target.value as 'custom' | 'custom-zstd' | 'directory')} className={input}>
              <option value="custom-zstd">custom + zstd -2 (default: fastest, smaller than gzip -9)</option>
              <option value="custom">custom, gzip -Z9 (the runbook&apos;s flags; several times slower)</option>
              <option value="directory">directory, 2 parallel dumps, gzip -Z1 (big databases with many tables)</option>
            </select>
          </label>
          <label className="text-sm font-medium text-slate-700">Keep for (days)<input type="number" min={1} value={retentionDays} onChange={(e) => setRetentionDays(e.target.value)} className={input} />
            <span className="text-xs text-slate-500">The newest good backup is always kept, even when older.</span>
          </label>
        </>
      )}
      <div className="text-sm sm:col-span-2" data-testid="cron-preview">
        {cronError ? (
          <p className="text-red-700" role="alert">{cronError.message}</p>
        ) : preview.data ? (
          <>
            <p className="text-slate-600">Next runs ({timezone}):</p>
            <ul className="mt-1 list-disc pl-5">{preview.data.runs.map((r) => <li key={r}>{new Date(r).toLocaleString(undefined, { timeZone: timezone, weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' })}</li>)}</ul>
          </>
        ) : null}
      </div>
      <div className="space-y-2 sm:col-span-2">
        <ErrorBox error={create.error} />
        <div className="flex gap-2">
          <Button type="submit" disabled={create.isPending || !!cronError}>{create.isPending ? 'Saving…' : 'Add schedule'}</Button>
          <Button type="button" variant="secondary" onClick={onCancel}>Cancel</Button>
        </div>
      </div>
    </form>
  );
}
