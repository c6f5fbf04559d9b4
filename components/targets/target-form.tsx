'use client';
// Add or edit a target (admin): connection, one database or every database, key tables, check statements, hooks.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { api, ApiError } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';

const input = 'mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600';
const lines = (v: FormDataEntryValue | null) => String(v ?? '').split('\n').map((l) => l.trim()).filter(Boolean);

export interface EditableTarget {
  id: string;
  name: string;
  host: string;
  port: number;
  dbUser: string;
  sslMode: string;
  database: string | null;
  keyTables: string[];
  checkStatements: string[];
  hasPassword: boolean;
  preRestoreHook?: string | null;
  postRestoreHook?: string | null;
}

export function TargetForm({ onDone, initial }: { onDone?: () => void; initial?: EditableTarget }) {
  const qc = useQueryClient();
  const router = useRouter();
  const [allDbs, setAllDbs] = useState(initial ? initial.database === null : false);
  const create = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      initial
        ? api<{ target: { id: string } }>(`/api/targets/${initial.id}`, { method: 'PATCH', body })
        : api<{ target: { id: string } }>('/api/targets', { method: 'POST', body }),
    onSuccess: (data) => {
      void qc.invalidateQueries({ queryKey: queryKeys.targets });
      void qc.invalidateQueries({ queryKey: queryKeys.target(data.target.id) });
      onDone?.();
      if (!initial) router.push(`/targets/${data.target.id}`);
    },
  });
  const fields = create.error instanceof ApiError ? (create.error.fields ?? {}) : {};
  const err = (k: string) => fields[k] && <span className="text-xs text-red-700">{fields[k]}</span>;
  return (
    <form
      className="grid gap-4 sm:grid-cols-2"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const password = String(f.get('password') ?? '');
        create.mutate({
          name: f.get('name'),
          host: f.get('host'),
          port: Number(f.get('port') || 5432),
          dbUser: f.get('dbUser'),
          // Editing: an empty box keeps the stored password; "no password" clears it.
          ...(initial ? (f.get('noPassword') ? { password: null } : password ? { password } : {}) : { password: password || null }),
          sslMode: f.get('sslMode'),
          database: allDbs ? null : f.get('database'),
          keyTables: lines(f.get('keyTables')),
          checkStatements: lines(f.get('checkStatements')),
          ...(initial ? { preRestoreHook: String(f.get('preRestoreHook') ?? '') || null, postRestoreHook: String(f.get('postRestoreHook') ?? '') || null } : {}),
        });
      }}
    >
      <label className="text-sm font-medium text-slate-700">Name<input name="name" required placeholder="orders-prod" defaultValue={initial?.name} className={input} />{err('name')}</label>
      <label className="text-sm font-medium text-slate-700">Host<input name="host" required placeholder="db1.internal" defaultValue={initial?.host} className={input} />{err('host')}</label>
      <label className="text-sm font-medium text-slate-700">Port<input name="port" type="number" defaultValue={initial?.port ?? 5432} className={input} />{err('port')}</label>
      <label className="text-sm font-medium text-slate-700">SSL mode
        <select name="sslMode" defaultValue={initial?.sslMode ?? 'prefer'} className={input}>
          {['disable', 'prefer', 'require', 'verify-ca', 'verify-full'].map((m) => <option key={m}>{m}</option>)}
        </select>
      </label>
      <label className="text-sm font-medium text-slate-700">User<input name="dbUser" required placeholder="backup" defaultValue={initial?.dbUser} className={input} />{err('dbUser')}</label>
      <label className="text-sm font-medium text-slate-700">Password<input name="password" type="password" autoComplete="new-password" placeholder={initial ? (initial.hasPassword ? 'leave empty to keep the stored one' : 'none stored') : 'empty for trust or peer'} className={input} />
        <span className="text-xs text-slate-500">Stored encrypted; never shown again, never in logs or process lists.</span>
        {initial?.hasPassword && <label className="mt-1 flex items-center gap-2 text-xs font-normal"><input type="checkbox" name="noPassword" /> remove the stored password (trust or peer)</label>}
      </label>
      <fieldset className="sm:col-span-2">
        <legend className="text-sm font-medium text-slate-700">What to back up</legend>
        <div className="mt-1 flex flex-wrap items-center gap-4 text-sm">
          <label className="flex items-center gap-2"><input type="radio" checked={!allDbs} onChange={() => setAllDbs(false)} /> One database</label>
          <label className="flex items-center gap-2"><input type="radio" checked={allDbs} onChange={() => setAllDbs(true)} /> Every database of this server (found at each run)</label>
        </div>
        {!allDbs && <input name="database" required placeholder="database name" defaultValue={initial?.database ?? undefined} className={`${input} sm:w-1/2`} />}
        {err('database')}
      </fieldset>
      <label className="text-sm font-medium text-slate-700">Key tables (one per line, schema.table)
        <textarea name="keyTables" rows={3} placeholder={'core.users\ncore.sessions'} defaultValue={initial?.keyTables.join('\n')} className={`${input} font-mono`} />
        <span className="text-xs text-slate-500">Exact row counts are recorded at each backup, from the dump&apos;s own snapshot.</span>
        {err('keyTables.0')}
      </label>
      <label className="text-sm font-medium text-slate-700">Integrity checks (one SQL statement per line)
        <textarea name="checkStatements" rows={3} placeholder="SELECT core.analyze_query_performance()" defaultValue={initial?.checkStatements.join('\n')} className={`${input} font-mono`} />
        <span className="text-xs text-slate-500">Run against restored copies to prove they work.</span>
      </label>
      {initial && (
        <>
          <label className="text-sm font-medium text-slate-700">Pre-restore hook (before a production swap)
            <input name="preRestoreHook" defaultValue={initial.preRestoreHook ?? ''} placeholder="https://app.internal/maintenance/on or a command" className={`${input} font-mono`} />
            <span className="text-xs text-slate-500">An http(s) URL gets a JSON POST; anything else runs with /bin/sh -c on the worker. A failure stops the swap.</span>
          </label>
          <label className="text-sm font-medium text-slate-700">Post-restore hook (after the swap)
            <input name="postRestoreHook" defaultValue={initial.postRestoreHook ?? ''} placeholder="https://app.internal/maintenance/off" className={`${input} font-mono`} />
          </label>
        </>
      )}
      <div className="space-y-3 sm:col-span-2">
        <ErrorBox error={create.error} />
        <Button type="submit" disabled={create.isPending}>{create.isPending ? 'Saving…' : initial ? 'Save changes' : 'Add target'}</Button>
      </div>
    </form>
  );
}
