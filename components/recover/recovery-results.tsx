'use client';
// What a comparison found, table by table: counts, the backup's and production's rows side by side (missing rows in
// red, changed cells in amber), then the ways out: re-insert (admin, typed name), download as SQL or CSV, discard.
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '@/lib/client/api';
import type { ComparisonResult, PreviewRow, TableComparison } from '@/lib/recoveries/comparison';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { ErrorBox } from '@/components/ui/error-box';
import { StatusBadge } from '@/components/ui/status-badge';
import { duration, LocalTime } from '@/components/ui/time';
import { bytes } from '@/components/ui/format';
import { JobLive } from '@/components/jobs/job-live';
import { useJob } from '@/components/jobs/use-job';
import { jobResult } from '@/lib/jobs/kinds';

const field = 'mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm';

export function RecoveryResults({ compareJobId, result, isAdmin, onStartOver }: { compareJobId: string; result: ComparisonResult; isAdmin: boolean; onStartOver: () => void }) {
  const [ended, setEnded] = useState<'reinsert' | 'discard' | null>(null);
  const missing = result.tables.reduce((n, t) => n + t.missing.count, 0);
  const changed = result.tables.reduce((n, t) => n + t.changed.count, 0);
  return (
    <div className="space-y-6" data-testid="recovery-results" data-missing={missing} data-changed={changed}>
      <Card title="4. What the backup has that production lost">
        <div className="space-y-2 text-sm">
          <p>
            Backup <strong>#{result.backupId}</strong> of <strong>{result.target}</strong> / <code className="font-mono">{result.database}</code>, taken <LocalTime value={result.backupTakenAt} />, compared in {duration(result.durationMs)}.
          </p>
          <p className={missing ? 'text-base font-semibold text-red-800' : 'text-base font-semibold text-emerald-800'}>
            {missing ? `${missing.toLocaleString()} row(s) are missing from production` : 'No row of the backup is missing from production'}
            {changed ? `; ${changed.toLocaleString()} row(s) changed since the backup (left as they are).` : '.'}
          </p>
          {!ended && (
            <p className="text-slate-600">
              The scratch copy <code className="font-mono">{result.scratchDatabase}</code> is kept for the re-insert and the downloads until <LocalTime value={result.scratchExpiresAt} /> (24 hours), or until you re-insert or discard.
              {' '}To hand this comparison to an admin, share <a className="text-sky-700 underline" href={`/recover?comparison=${compareJobId}`}>its link</a>.
            </p>
          )}
        </div>
        <table className="mt-4 w-full text-sm" data-testid="recovery-summary">
          <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
            <tr><th className="pb-2">Table</th><th className="pb-2">Primary key</th><th className="pb-2 text-right">In the backup</th><th className="pb-2 text-right">In production</th><th className="pb-2 text-right">Missing</th><th className="pb-2 text-right">Changed</th><th className="pb-2 text-right">New since</th></tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {result.tables.map((t) => (
              <tr key={t.table}>
                <td className="py-1.5 font-mono text-xs">
                  {t.table}
                  {t.partitions?.length ? <span className="ml-1 font-sans text-slate-500">({t.partitions.length} partitions together)</span> : null}
                </td>
                <td className="py-1.5 font-mono text-xs">{t.primaryKey.join(', ')}</td>
                <td className="py-1.5 text-right tabular-nums">{t.backupRows.toLocaleString()}</td>
                <td className="py-1.5 text-right tabular-nums">{t.productionRows.toLocaleString()}</td>
                <td className="py-1.5 text-right tabular-nums">{t.missing.count ? <StatusBadge tone="red">{t.missing.count.toLocaleString()}</StatusBadge> : '0'}</td>
                <td className="py-1.5 text-right tabular-nums">{t.changed.count ? <StatusBadge tone="amber">{t.changed.count.toLocaleString()}</StatusBadge> : '0'}</td>
                <td className="py-1.5 text-right tabular-nums text-slate-500">{t.newInProduction.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>

      {result.tables.map((t) => <TablePreview key={t.table} t={t} />)}

      {!ended && (
        <Actions compareJobId={compareJobId} result={result} missing={missing} isAdmin={isAdmin} onEnded={setEnded} />
      )}
      {ended && <EndedActions ended={ended} onStartOver={onStartOver} />}
    </div>
  );
}

/** The backup's rows beside production's: missing rows (red, nothing on the right), then changed rows (differing cells amber). */
function TablePreview({ t }: { t: TableComparison }) {
  if (!t.missing.count && !t.changed.count) return null;
  const rows: { kind: 'missing' | 'changed'; backup: PreviewRow; production: PreviewRow | null }[] = [
    ...t.missing.preview.map((r) => ({ kind: 'missing' as const, backup: r, production: null })),
    ...t.changed.preview.map((c) => ({ kind: 'changed' as const, backup: c.backup, production: c.production })),
  ];
  const cell = 'max-w-[16rem] truncate whitespace-nowrap px-2 py-1 font-mono text-xs';
  const side = (title: string, which: 'backup' | 'production') => (
    <div className="min-w-0">
      <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">{title}</h3>
      <div className="overflow-x-auto rounded-md border border-slate-200">
        <table className="w-full text-left" data-testid={`preview-${which}`}>
          <thead className="bg-slate-50 text-xs text-slate-600">
            <tr>{t.columns.map((c) => <th key={c} className="whitespace-nowrap px-2 py-1 font-medium">{c}{t.primaryKey.includes(c) && <span className="ml-1 rounded bg-slate-200 px-1 text-[10px] font-semibold text-slate-700" title="primary key">PK</span>}</th>)}</tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {rows.map((r, i) => {
              const values = which === 'backup' ? r.backup : r.production;
              if (!values) {
                return (
                  <tr key={i} className="bg-red-50" data-kind="missing">
                    <td colSpan={t.columns.length} className={`${cell} italic text-red-800`}>not in production</td>
                  </tr>
                );
              }
              return (
                <tr key={i} className={r.kind === 'missing' ? 'bg-red-50 text-red-950' : ''} data-kind={r.kind}>
                  {t.columns.map((c) => {
                    const differs = r.kind === 'changed' && r.production && r.backup[c] !== r.production[c];
                    const v = values[c];
                    return (
                      <td key={c} className={`${cell} ${differs ? 'bg-amber-100 font-semibold text-amber-950' : ''}`} title={v ?? 'NULL'}>
                        {v === null || v === undefined ? <span className="text-slate-400">NULL</span> : v}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
  const shown = (n: number, of: number) => (n < of ? `first ${n} of ${of.toLocaleString()}` : `${of.toLocaleString()}`);
  return (
    <Card title={<span className="font-mono">{t.table}</span>} action={<span className="text-xs text-slate-500">{t.missing.count ? `${shown(t.missing.preview.length, t.missing.count)} missing` : ''}{t.missing.count && t.changed.count ? ' · ' : ''}{t.changed.count ? `${shown(t.changed.preview.length, t.changed.count)} changed` : ''}</span>}>
      {(t.columnsOnlyInBackup.length > 0 || t.columnsOnlyInProduction.length > 0) && (
        <p className="mb-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          The table changed since the backup; only the columns both have are compared and copied.
          {t.columnsOnlyInBackup.length > 0 && ` Only in the backup: ${t.columnsOnlyInBackup.join(', ')}.`}
          {t.columnsOnlyInProduction.length > 0 && ` Only in production (filled with their defaults on re-insert): ${t.columnsOnlyInProduction.join(', ')}.`}
        </p>
      )}
      <div className="grid gap-4 lg:grid-cols-2">
        {side('In the backup', 'backup')}
        {side('In production now', 'production')}
      </div>
      <p className="mt-2 text-xs text-slate-500">
        <span className="mr-3 inline-block rounded bg-red-50 px-1.5 text-red-900 ring-1 ring-red-200">red: missing from production</span>
        <span className="inline-block rounded bg-amber-100 px-1.5 text-amber-950 ring-1 ring-amber-300">amber: changed since the backup</span>
      </p>
    </Card>
  );
}

function Actions({ compareJobId, result, missing, isAdmin, onEnded }: { compareJobId: string; result: ComparisonResult; missing: number; isAdmin: boolean; onEnded: (e: 'reinsert' | 'discard') => void }) {
  const [confirmText, setConfirmText] = useState('');
  const [reinsertJob, setReinsertJob] = useState<string | null>(null);
  const [discardJob, setDiscardJob] = useState<string | null>(null);
  const reinsert = useMutation({
    mutationFn: () => api<{ job: { id: string } }>(`/api/recoveries/${compareJobId}/reinsert`, { method: 'POST', body: { confirm: confirmText } }),
    onSuccess: (d) => setReinsertJob(d.job.id),
  });
  const discard = useMutation({
    mutationFn: () => api<{ job: { id: string } }>(`/api/recoveries/${compareJobId}/discard`, { method: 'POST' }),
    onSuccess: (d) => setDiscardJob(d.job.id),
  });
  const withMissing = result.tables.filter((t) => t.missing.count > 0);
  const busy = !!reinsertJob || !!discardJob;
  return (
    <>
      <Card title="5. Put the rows back">
        {missing === 0 ? (
          <p className="text-sm text-slate-700">Nothing to re-insert. Discard the scratch copy below when you are done looking.</p>
        ) : isAdmin ? (
          <div className="rounded-md border border-red-300 bg-red-50 p-4" data-testid="reinsert">
            <p className="text-sm font-semibold text-red-900">
              {missing.toLocaleString()} row(s) will be inserted into production <code className="font-mono">{result.database}</code> in one transaction: {withMissing.map((t) => `${t.table} (${t.missing.count.toLocaleString()})`).join(', ')}.
            </p>
            <ul className="mt-2 list-disc pl-5 text-sm text-red-900">
              <li>Parent tables go before child tables (by production&apos;s foreign keys); if any row is refused, nothing is inserted.</li>
              <li>Sequences owned by these tables are moved forward when they are behind the highest id.</li>
              <li>Production&apos;s triggers fire for the inserted rows. Changed rows are left as they are.</li>
              <li>The scratch copy and its downloads are dropped afterwards.</li>
            </ul>
            <label className="mt-3 block text-sm font-medium text-red-900">
              Type the database name <code className="font-mono">{result.database}</code> to confirm
              <input value={confirmText} onChange={(e) => setConfirmText(e.target.value)} className={field} autoComplete="off" aria-label="Type the database name to confirm" disabled={busy} />
            </label>
            <Button variant="danger" className="mt-3" onClick={() => reinsert.mutate()} disabled={confirmText !== result.database || reinsert.isPending || busy}>
              Re-insert {missing.toLocaleString()} row(s) into {result.database}
            </Button>
            <ErrorBox error={reinsert.error} />
          </div>
        ) : (
          <p className="text-sm text-slate-700">Re-inserting rows into production needs the admin role. Download the rows below, or ask an admin to open this comparison.</p>
        )}
        {reinsertJob && (
          <div className="mt-4 space-y-3">
            <JobLive id={reinsertJob} canCancel={false} compact showResult={false} />
            <ReinsertOutcome jobId={reinsertJob} onDone={() => onEnded('reinsert')} />
          </div>
        )}
      </Card>

      {missing > 0 && (
        <Card title="Download the missing rows">
          <p className="mb-3 text-sm text-slate-600">Written by the worker beside the backups; available while the scratch copy is kept.</p>
          <div className="flex flex-wrap items-start gap-4">
            <ExportButton compareJobId={compareJobId} format="sql" label="SQL, all tables (INSERTs, parents first)" disabled={busy} />
            {withMissing.map((t) => <ExportButton key={t.table} compareJobId={compareJobId} format="csv" table={t.table} label={`CSV, ${t.table}`} disabled={busy} />)}
          </div>
        </Card>
      )}

      <Card title="Done looking?">
        <Button variant="secondary" onClick={() => discard.mutate()} disabled={discard.isPending || busy}>Discard the scratch copy</Button>
        <p className="mt-2 text-xs text-slate-500">Drops <code className="font-mono">{result.scratchDatabase}</code> and its downloads. Production is not touched.</p>
        <ErrorBox error={discard.error} />
        {discardJob && (
          <div className="mt-3">
            <JobLive id={discardJob} canCancel={false} compact showResult={false} />
            <DoneWhenSucceeded jobId={discardJob} onDone={() => onEnded('discard')} />
          </div>
        )}
      </Card>
    </>
  );
}

function ReinsertOutcome({ jobId, onDone }: { jobId: string; onDone: () => void }) {
  const { data } = useJob(jobId);
  const job = data?.job;
  if (job?.status !== 'succeeded') return null;
  const r = jobResult('recover-reinsert', job.result);
  if (!r) return null;
  return (
    <div className="rounded-md border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-900" data-testid="reinsert-result">
      <p className="font-semibold">Back in {r.database}: {r.tables.map((t) => `${t.table} ${t.inserted.toLocaleString()}`).join(', ')}.</p>
      {r.sequences.map((s) => <p key={s.sequence}>Sequence {s.sequence} moved from {s.from} to {s.to}.</p>)}
      <p>{r.scratchDropped ? 'The scratch copy was dropped.' : 'The scratch copy could not be dropped; see the job log.'}</p>
      <Button variant="secondary" className="mt-2" onClick={onDone}>Done</Button>
    </div>
  );
}

function DoneWhenSucceeded({ jobId, onDone }: { jobId: string; onDone: () => void }) {
  const { data } = useJob(jobId);
  if (data?.job.status !== 'succeeded') return null;
  return <Button variant="secondary" className="mt-2" onClick={onDone}>Done</Button>;
}

function EndedActions({ ended, onStartOver }: { ended: 'reinsert' | 'discard'; onStartOver: () => void }) {
  return (
    <Card>
      <p className="text-sm text-slate-700">{ended === 'reinsert' ? 'The rows are back and the scratch copy is gone.' : 'The scratch copy is gone.'}</p>
      <Button className="mt-3" onClick={onStartOver}>Compare again</Button>
    </Card>
  );
}

function ExportButton({ compareJobId, format, table, label, disabled }: { compareJobId: string; format: 'sql' | 'csv'; table?: string; label: string; disabled: boolean }) {
  const [jobId, setJobId] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () => api<{ job: { id: string } }>(`/api/recoveries/${compareJobId}/export`, { method: 'POST', body: { format, ...(table ? { table } : {}) } }),
    onSuccess: (d) => setJobId(d.job.id),
  });
  const { data } = useJob(jobId);
  const job = data?.job;
  const r = job?.status === 'succeeded' ? jobResult('recover-export', job.result) : null;
  return (
    <div className="min-w-[14rem] text-sm">
      {!r && (
        <Button variant="secondary" onClick={() => start.mutate()} disabled={disabled || start.isPending || (!!job && job.status !== 'failed')}>
          {job && job.status !== 'failed' ? `Writing ${format.toUpperCase()}…` : label}
        </Button>
      )}
      {r && (
        <a href={`/api/recoveries/exports/${jobId}`} className="inline-flex items-center rounded-md bg-sky-700 px-3.5 py-2 font-medium text-white hover:bg-sky-800" download={r.fileName}>
          Download {r.fileName} ({r.rows.toLocaleString()} rows, {bytes(r.size)})
        </a>
      )}
      <ErrorBox error={start.error} />
      {job?.status === 'failed' && <p className="mt-1 text-red-800">{job.errorMessage}</p>}
    </div>
  );
}
