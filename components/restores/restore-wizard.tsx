'use client';
// The restore wizard: one decision a step (backup, destination, options), the preflight before anything runs,
// a typed confirmation for production, then live progress and the checked result.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { ErrorBox } from '@/components/ui/error-box';
import { WizardSteps } from '@/components/ui/wizard-steps';
import { BackupChoiceTable } from '@/components/backups/backup-choice-table';
import { StatusBadge } from '@/components/ui/status-badge';
import { Ago, duration, LocalTime } from '@/components/ui/time';
import { bytes } from '@/components/ui/format';
import { JobLive } from '@/components/jobs/job-live';
import { useJob } from '@/components/jobs/use-job';
import type { BackupRow } from '@/components/backups/backup-table';
import { isRemoved } from '@/lib/backups/kept';
import { CheckTable, checkVerdict } from './check-table';
import { jobResult, type JobResult } from '@/lib/jobs/kinds';

interface TargetOpt { id: string; name: string; database: string | null }
type Destination = { mode: 'new'; targetId: string; database: string } | { mode: 'replace'; method: 'swap' | 'in-place' };
/** What the preflight found, as its job's result schema describes it. */
type Preflight = JobResult<'restore-preflight'>;

const steps = ['Backup', 'Destination', 'Options', 'Preflight', 'Confirm', 'Restore'] as const;
type RoleGrants = { superuser: boolean; createrole: boolean; replication: boolean; bypassrls: boolean; password: boolean };
const noGrants: RoleGrants = { superuser: false, createrole: false, replication: false, bypassrls: false, password: false };
const field = 'mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm';

export function RestoreWizard({ targets, isAdmin, initialTargetId, initialBackupId }: { targets: TargetOpt[]; isAdmin: boolean; initialTargetId?: string; initialBackupId?: string }) {
  const [step, setStep] = useState(0);
  const [targetId, setTargetId] = useState(initialTargetId ?? targets[0]?.id ?? '');
  const [backup, setBackup] = useState<BackupRow | null>(null);
  const [dest, setDest] = useState<Destination | null>(null);
  const [jobs, setJobs] = useState(2);
  const [section, setSection] = useState<'all' | 'schema' | 'data'>('all');
  const [tables, setTables] = useState<string[]>([]);
  const [preflightJob, setPreflightJob] = useState<string | null>(null);
  const [confirmText, setConfirmText] = useState('');
  const [restoreJob, setRestoreJob] = useState<string | null>(null);
  const [requestId, setRequestId] = useState<string | null>(null);
  const [roleGrants, setRoleGrants] = useState<RoleGrants>(noGrants);
  const [withoutOwners, setWithoutOwners] = useState(false);

  const payload = () => ({ backupId: String(backup!.id), destination: dest!, jobs, section, tables, schemas: [], runChecks: true, roleGrants: isAdmin ? roleGrants : noGrants, withoutOwners });
  const preflight = useMutation({
    mutationFn: () => api<{ job: { id: string } }>('/api/restores/preflight', { method: 'POST', body: payload() }),
    onSuccess: (d) => setPreflightJob(d.job.id),
  });
  const start = useMutation({
    // The side database's name as the preflight showed it, so the name shown is the name used.
    mutationFn: () => api<{ job?: { id: string }; request?: { id: string } }>('/api/restores', { method: 'POST', body: { ...payload(), confirm: confirmText, ...(dest?.mode === 'replace' && report ? { sideDatabase: report.destination.database } : {}) } }),
    onSuccess: (d) => {
      if (d.job) setRestoreJob(d.job.id);
      if (d.request) setRequestId(d.request.id);
      setStep(5);
    },
  });
  const pf = useJob(preflightJob);
  const pfResult = preflightJob && pf.data?.job.status === 'succeeded' ? pf.data.job.result : null;
  const report = useMemo(() => jobResult('restore-preflight', pfResult), [pfResult]);
  const pfFailed = preflightJob && pf.data && (pf.data.job.status === 'failed' || pf.data.job.status === 'cancelled') ? pf.data.job : null;
  const isReplace = dest?.mode === 'replace';
  const prodName = backup?.databaseName ?? '';

  const go = (n: number) => {
    if (n === 2 && !preflightJob) preflight.mutate(); // the archive's table list feeds the options step
    // The preflight step checks the options as chosen (tables, roles), and names the side database the restore uses.
    if (n === 3 && step === 2) {
      setPreflightJob(null);
      preflight.mutate();
    }
    setStep(n);
  };
  const canNext = [!!backup, !!dest && (dest.mode !== 'new' || dest.database.trim().length > 0), true, !!report && report.problems.length === 0, !isReplace || confirmText === prodName][step];

  return (
    <div className="space-y-6">
      <WizardSteps steps={steps} current={step} label="Restore steps" />

      {step === 0 && isAdmin && <UploadDump targetId={targetId} targets={targets} />}
      {step === 0 && <PickBackup initialBackupId={initialBackupId} targets={targets} targetId={targetId} setTargetId={(id) => { setTargetId(id); setBackup(null); }} backup={backup} setBackup={(b) => { setBackup(b); setPreflightJob(null); }} />}
      {step === 1 && backup && <PickDestination targets={targets} backup={backup} isAdmin={isAdmin} dest={dest} setDest={(d) => { setDest(d); setPreflightJob(null); }} />}
      {step === 2 && (
        <Card title="3. Options">
          <div className="grid gap-4 sm:grid-cols-2">
            <label className="text-sm font-medium text-slate-700">Parallel jobs (pg_restore --jobs)
              <input type="number" min={1} max={32} value={jobs} onChange={(e) => setJobs(Number(e.target.value) || 1)} className={field} />
              <span className="text-xs text-slate-500">Data and indexes are restored by this many processes at once.</span>
            </label>
            <label className="text-sm font-medium text-slate-700">What to restore
              <select value={section} onChange={(e) => setSection(e.target.value as 'all')} className={field}>
                <option value="all">schema and data</option>
                <option value="schema">schema only (no rows)</option>
                <option value="data">data only (into existing tables)</option>
              </select>
            </label>
          </div>
          <fieldset className="mt-4">
            <legend className="text-sm font-medium text-slate-700">Tables (from the archive&apos;s table of contents)</legend>
            {!report && !pfFailed && <p className="text-sm text-slate-500">Reading the archive…</p>}
            {report && (
              <div className="mt-1 max-h-56 overflow-auto rounded-md border border-slate-200 p-2 text-sm">
                <label className="flex items-center gap-2 font-medium"><input type="checkbox" checked={tables.length === 0} onChange={() => setTables([])} /> Whole database ({report.archive.tables.length} tables)</label>
                {report.archive.tables.map((t) => (
                  <label key={t} className="ml-5 flex items-center gap-2 font-mono text-xs">
                    <input type="checkbox" checked={tables.includes(t)} onChange={(e) => setTables((cur) => (e.target.checked ? [...cur, t] : cur.filter((x) => x !== t)))} /> {t}
                  </label>
                ))}
              </div>
            )}
            {isReplace && tables.length > 0 && <p className="mt-2 text-sm text-amber-800">Replacing production with only some tables leaves the others empty in production. Choose a new database for partial restores.</p>}
            {tables.length > 0 && <p className="mt-2 text-xs text-slate-500">A picked table comes with the sequences it owns (serial and identity columns), its column defaults and, for a partitioned table, its partitions. Indexes, constraints and triggers are not restored with picked tables.</p>}
          </fieldset>
          <fieldset className="mt-4 space-y-1 text-sm">
            <legend className="font-medium text-slate-700">Owner roles missing on the destination</legend>
            {isAdmin ? (
              <>
                <p className="text-slate-600">They are created from the roles saved with the backup, without these powers unless you tick them:</p>
                {(['superuser', 'createrole', 'replication', 'bypassrls', 'password'] as const).map((k) => (
                  <label key={k} className="ml-2 flex items-center gap-2">
                    <input type="checkbox" checked={roleGrants[k]} onChange={(e) => setRoleGrants((g) => ({ ...g, [k]: e.target.checked }))} />
                    {k === 'password' ? 'keep the saved password (hash)' : `keep ${k.toUpperCase()}`}
                  </label>
                ))}
              </>
            ) : (
              <p className="text-slate-600">Only an admin&apos;s restore creates roles. If the destination lacks the archive&apos;s owners, restore without owners or ask an admin.</p>
            )}
            <label className="flex items-center gap-2"><input type="checkbox" checked={withoutOwners} onChange={(e) => setWithoutOwners(e.target.checked)} /> Restore without owners and privileges (pg_restore --no-owner --no-privileges: the restoring login owns everything)</label>
          </fieldset>
        </Card>
      )}
      {step === 3 && (
        <Card title="4. Preflight: checked before anything runs">
          {!preflightJob && <Button onClick={() => preflight.mutate()}>Run preflight</Button>}
          <ErrorBox error={preflight.error} />
          {preflightJob && !report && !pfFailed && <JobLive id={preflightJob} canCancel={false} compact showResult={false} />}
          {pfFailed && (
            <div role="alert" className="rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900" data-testid="preflight-failed">
              <p className="font-semibold">{pfFailed.errorMessage}</p>
              {pfFailed.errorHint && <p className="mt-1">{pfFailed.errorHint}</p>}
              <p className="mt-1 font-mono text-xs">{pfFailed.errorCode}</p>
              <p className="mt-2">Nothing was changed. Go back and pick another backup.</p>
            </div>
          )}
          {report && <PreflightView report={report} />}
          {preflightJob && (report || pfFailed) && <Button variant="secondary" className="mt-3" onClick={() => { setPreflightJob(null); preflight.mutate(); }}>Run preflight again</Button>}
        </Card>
      )}
      {step === 4 && backup && dest && (
        <Card title="5. Confirm">
          <Summary backup={backup} dest={dest} targets={targets} jobs={jobs} section={section} tables={tables} />
          {isReplace ? (
            <div className="mt-4 rounded-md border border-red-300 bg-red-50 p-4">
              <p className="text-sm font-semibold text-red-900">
                {dest.method === 'swap'
                  ? `Production "${prodName}" will be replaced. It is renamed and kept, so you can roll back; its connections are ended at the swap (typically under 2 seconds of outage).`
                  : `Production "${prodName}" will be DROPPED (after the whole file has been read and checked) and is down until the restore and its checks finish: it is restored under another name and takes its own name back only when every check passed, so no client sees it half-restored. From the drop on, the restore cannot be cancelled, and there is no way back if the backup is bad.`}
              </p>
              <label className="mt-3 block text-sm font-medium text-red-900">Type the database name <code className="font-mono">{prodName}</code> to confirm
                <input value={confirmText} onChange={(e) => setConfirmText(e.target.value)} className={field} autoComplete="off" aria-label="Type the database name to confirm" />
              </label>
            </div>
          ) : (
            <p className="mt-4 text-sm text-slate-700">Production is not touched.</p>
          )}
          <ErrorBox error={start.error} />
        </Card>
      )}
      {step === 5 && restoreJob && <RestoreResult jobId={restoreJob} isAdmin={isAdmin} />}
      {step === 5 && requestId && (
        <Card title="6. Waiting for a second admin">
          <p className="text-sm text-slate-700" data-testid="restore-requested">
            Replacing production needs another admin&apos;s approval (a setting). Your request is listed on this page for the other admins; the restore starts when one of them approves it. Nothing has changed yet.
          </p>
        </Card>
      )}

      {step < 5 && (
        <div className="flex gap-3">
          {step > 0 && <Button variant="secondary" onClick={() => setStep(step - 1)}>Back</Button>}
          {step < 4 && <Button onClick={() => go(step + 1)} disabled={!canNext}>Next</Button>}
          {step === 4 && (
            <Button variant={isReplace ? 'danger' : 'primary'} onClick={() => start.mutate()} disabled={!canNext || start.isPending}>
              {isReplace ? `Replace ${prodName}` : 'Start the restore'}
            </Button>
          )}
        </div>
      )}
    </div>
  );
}

function PickBackup({ initialBackupId, targets, targetId, setTargetId, backup, setBackup }: { initialBackupId?: string; targets: TargetOpt[]; targetId: string; setTargetId: (id: string) => void; backup: BackupRow | null; setBackup: (b: BackupRow) => void }) {
  const { data, error } = useQuery({
    queryKey: queryKeys.backups({ targetId, status: 'succeeded', limit: '20' }),
    queryFn: () => api<{ items: BackupRow[] }>(`/api/backups?targetId=${targetId}&status=succeeded&limit=20`),
    enabled: !!targetId,
  });
  // A backup whose removal retention began (or finished) is never offered: its files may be partly gone.
  const usable = (data?.items ?? []).filter((b) => !isRemoved(b));
  // "Latest" means the target's own backup of its database: an upload of another database is never picked for you.
  const own = targets.find((t) => t.id === targetId)?.database ?? null;
  const latest = usable.find((b) => b.backupType !== 'uploaded' || (own !== null && b.databaseName === own));
  const preselect = !backup && initialBackupId ? usable.find((b) => String(b.id) === initialBackupId) : undefined;
  useEffect(() => {
    if (preselect) setBackup(preselect);
  }, [preselect, setBackup]);
  return (
    <Card title="1. Pick a backup">
      <label className="text-sm font-medium text-slate-700">Target
        <select value={targetId} onChange={(e) => setTargetId(e.target.value)} className={`${field} sm:w-1/2`}>
          {targets.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
        </select>
      </label>
      <ErrorBox error={error} />
      {latest && (
        <Button variant="secondary" className="mt-3" onClick={() => setBackup(latest)}>Use the latest successful backup (<Ago value={latest.createdAt} />)</Button>
      )}
      <BackupChoiceTable backups={usable} selected={backup} onSelect={setBackup} testId="pick-backup" />
      {data && usable.length === 0 && <p className="mt-3 text-sm text-red-800">This target has no usable backup.</p>}
    </Card>
  );
}

/** For the day the catalog is gone: an admin uploads a dump; a worker checks it and lists it as a backup. */
function UploadDump({ targetId, targets }: { targetId: string; targets: TargetOpt[] }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [database, setDatabase] = useState(targets.find((t) => t.id === targetId)?.database ?? '');
  const upload = useMutation({
    mutationFn: async () => {
      const q = new URLSearchParams({ targetId, database, fileName: file!.name });
      const res = await fetch(`/api/uploads?${q}`, { method: 'POST', body: file, headers: { 'content-type': 'application/octet-stream' } });
      const data = await res.json();
      if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? 'HTTP_' + res.status, data?.error?.message ?? 'The upload failed.', data?.error?.hint, data?.error?.fields);
      return data as { job: { id: string } };
    },
  });
  const { data: job } = useJob(upload.data?.job.id ?? null);
  useEffect(() => {
    if (job?.job.status === 'succeeded') void qc.invalidateQueries({ queryKey: queryKeys.backupsAll });
  }, [job?.job.status, qc]);
  if (!open) return <Button variant="secondary" onClick={() => setOpen(true)}>Upload a dump file…</Button>;
  return (
    <Card title="Upload a dump file">
      <p className="mb-3 text-sm text-slate-600">For a dump made outside Lifeboat, or when the catalog is gone. A worker stores it, reads its table of contents with pg_restore --list, and lists it below as a backup of this target.</p>
      <div className="grid gap-3 sm:grid-cols-2">
        <label className="text-sm font-medium text-slate-700">File (pg_dump custom format, optionally .zst)<input type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} className={field} /></label>
        <label className="text-sm font-medium text-slate-700">Database it was dumped from<input value={database} onChange={(e) => setDatabase(e.target.value)} className={field} /></label>
      </div>
      <Button className="mt-3" onClick={() => upload.mutate()} disabled={!file || !database || upload.isPending}>{upload.isPending ? 'Uploading…' : 'Upload and check'}</Button>
      <ErrorBox error={upload.error} />
      {upload.data && <div className="mt-3"><JobLive id={upload.data.job.id} canCancel={false} compact showResult={false} /></div>}
    </Card>
  );
}

function PickDestination({ targets, backup, isAdmin, dest, setDest }: { targets: TargetOpt[]; backup: BackupRow; isAdmin: boolean; dest: Destination | null; setDest: (d: Destination) => void }) {
  const proposed = useMemo(() => {
    const d = new Date();
    const p = (n: number) => String(n).padStart(2, '0');
    return `${backup.databaseName}_restored_${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}`.slice(0, 63);
  }, [backup.databaseName]);
  const sameTarget = backup.target?.id ?? targets[0]?.id ?? '';
  const mode = dest?.mode === 'new' ? (dest.targetId === sameTarget ? 'same' : 'other') : dest?.mode === 'replace' ? 'replace' : null;
  return (
    <Card title="2. Where should it go?">
      <div className="space-y-3 text-sm">
        <label className="flex gap-3 rounded-md border border-slate-200 p-3">
          <input type="radio" name="dest" checked={mode === 'same'} onChange={() => setDest({ mode: 'new', targetId: sameTarget, database: proposed })} />
          <span><strong>A new database on the same server</strong><br /><span className="text-slate-600">Production keeps running; compare or copy data from the restored database.</span></span>
        </label>
        {mode === 'same' && dest?.mode === 'new' && (
          <label className="ml-8 block text-sm font-medium text-slate-700">Database name<input value={dest.database} onChange={(e) => setDest({ ...dest, database: e.target.value })} className={`${field} sm:w-1/2`} /></label>
        )}
        <label className="flex gap-3 rounded-md border border-slate-200 p-3">
          <input type="radio" name="dest" checked={mode === 'other'} onChange={() => setDest({ mode: 'new', targetId: targets.find((t) => t.id !== sameTarget)?.id ?? sameTarget, database: backup.databaseName ?? proposed })} disabled={targets.length < 2} />
          <span><strong>A database on another target</strong><br /><span className="text-slate-600">For example a staging server.{targets.length < 2 ? ' (Only one target exists.)' : ''}</span></span>
        </label>
        {mode === 'other' && dest?.mode === 'new' && (
          <div className="ml-8 grid gap-3 sm:grid-cols-2">
            <label className="text-sm font-medium text-slate-700">Target<select value={dest.targetId} onChange={(e) => setDest({ ...dest, targetId: e.target.value })} className={field}>{targets.filter((t) => t.id !== sameTarget).map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}</select></label>
            <label className="text-sm font-medium text-slate-700">Database name<input value={dest.database} onChange={(e) => setDest({ ...dest, database: e.target.value })} className={field} /></label>
          </div>
        )}
        <label className={`flex gap-3 rounded-md border p-3 ${isAdmin ? 'border-red-200' : 'border-slate-200 opacity-60'}`}>
          <input type="radio" name="dest" checked={mode === 'replace'} disabled={!isAdmin} onChange={() => setDest({ mode: 'replace', method: 'swap' })} />
          <span><strong>Replace production ({backup.databaseName})</strong>{!isAdmin && ' (admins only)'}<br /><span className="text-slate-600">Restored beside production and checked first; then the names are swapped. The old database is kept for a roll back.</span></span>
        </label>
        {mode === 'replace' && dest?.mode === 'replace' && (
          <div className="ml-8 space-y-2">
            <label className="flex items-center gap-2"><input type="radio" name="method" checked={dest.method === 'swap'} onChange={() => setDest({ mode: 'replace', method: 'swap' })} /> Restore then swap (recommended: outage of a few seconds, roll back possible)</label>
            <label className="flex items-center gap-2"><input type="radio" name="method" checked={dest.method === 'in-place'} onChange={() => setDest({ mode: 'replace', method: 'in-place' })} /> In place, the runbook&apos;s way (drop, create, restore)</label>
            {dest.method === 'in-place' && <p role="alert" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-900">Production is dropped first and stays closed to every client (it does not exist under its name) for the whole restore and its checks; it cannot be cancelled once dropped. If the backup is bad there is no way back.</p>}
          </div>
        )}
      </div>
    </Card>
  );
}

function PreflightView({ report }: { report: Preflight }) {
  const rows: [string, React.ReactNode, boolean][] = [
    ['File', <span key="f">{bytes(report.file.size)}, SHA-256 matches the catalog</span>, true],
    ['Archive', `${report.archive.format}, pg_dump ${report.archive.dumpedBy}, ${report.archive.entries} entries, ${report.archive.tables.length} tables`, true],
    ['pg_restore', `${report.tool.pgRestore} (${report.tool.binDir})`, true],
    ['Destination', `${report.destination.target}: PostgreSQL ${report.destination.serverVersion}, database "${report.destination.database}"`, true],
    [
      'Roles',
      !report.roles.missing.length
        ? `all owners exist (${report.roles.owners.join(', ')})`
        : report.roles.withoutOwners
          ? `missing: ${report.roles.missing.join(', ')}; restored without owners, no role is created`
          : `missing: ${report.roles.missing.join(', ')}${report.roles.toCreate?.length ? `; will be created: ${report.roles.toCreate.map((r) => `${r.name} (${r.attributes.join(' ')}${r.password ? ', saved password' : ', no password'})`).join('; ')}` : ''}`,
      report.roles.withoutOwners || report.roles.missing.length === report.roles.createdFromGlobals.length,
    ],
  ];
  if (report.tables) rows.push(['Tables', `${report.tables.picked.join(', ')}${report.tables.partitions.length ? `; with partitions ${report.tables.partitions.join(', ')}` : ''}${report.tables.sequences.length ? `; with sequences ${report.tables.sequences.join(', ')}` : ''}${report.tables.unknown.length ? `; not in the archive: ${report.tables.unknown.join(', ')}` : ''}`, report.tables.unknown.length === 0]);
  if (report.databaseProperties) rows.push(['Database properties', report.databaseProperties.summary, true]);
  rows.push(['Free space', report.space ? `${bytes(report.space.freeBytes)} free in ${report.space.dataDirectory}; about ${bytes(report.space.neededBytes)} needed (${report.space.basis})` : 'cannot be measured from this worker (the server is on another host, or does not show its data directory)', !report.space || report.space.freeBytes >= report.space.neededBytes]);
  if (report.destination.production) rows.push(['Production', `"${report.destination.production}" has ${report.destination.productionConnections ?? 0} open connection(s); they are ended at the swap (or the drop, in place). The restore goes into "${report.destination.database}" first.`, true]);
  return (
    <div className="space-y-3" data-testid="preflight-report" data-ok={report.problems.length === 0}>
      <dl className="grid grid-cols-[max-content_1fr_max-content] gap-x-4 gap-y-2 text-sm">
        {rows.map(([k, v, ok]) => (
          <div key={k} className="contents"><dt className="text-slate-500">{k}</dt><dd>{v}</dd><dd>{ok ? <StatusBadge tone="green">ok</StatusBadge> : <StatusBadge tone="red">problem</StatusBadge>}</dd></div>
        ))}
      </dl>
      {report.problems.map((p) => <p key={p.code} role="alert" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">{p.message} <span className="font-mono text-xs">{p.code}</span></p>)}
    </div>
  );
}

function Summary({ backup, dest, targets, jobs, section, tables }: { backup: BackupRow; dest: Destination; targets: TargetOpt[]; jobs: number; section: string; tables: string[] }) {
  const where = dest.mode === 'new' ? `new database "${dest.database}" on ${targets.find((t) => t.id === dest.targetId)?.name}` : `production "${backup.databaseName}" (${dest.method === 'swap' ? 'restore then swap' : 'in place'})`;
  return (
    <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
      <dt className="text-slate-500">Backup</dt><dd>#{backup.id} of {backup.target?.name} / {backup.databaseName}, <LocalTime value={backup.createdAt} /></dd>
      <dt className="text-slate-500">Into</dt><dd>{where}</dd>
      <dt className="text-slate-500">How</dt><dd>{section === 'all' ? 'schema and data' : `${section} only`}, {tables.length ? `${tables.length} table(s)` : 'whole database'}, {jobs} parallel job(s), checks on</dd>
    </dl>
  );
}

function RestoreResult({ jobId, isAdmin }: { jobId: string; isAdmin: boolean }) {
  const { data } = useJob(jobId);
  const job = data?.job;
  const result = useMemo(() => (job?.status === 'succeeded' ? jobResult('restore', job.result) : null), [job?.status, job?.result]);
  const rollback = useMutation({
    mutationFn: () => api<{ job?: { id: string }; request?: { id: string } }>(`/api/targets/${(job?.payload as { targetId?: string })?.targetId ?? ''}/rollback`, { method: 'POST', body: { keptDatabase: result?.keptCopy } }),
  });
  return (
    <div className="space-y-6">
      <Card title="6. Restoring">
        <JobLive id={jobId} canCancel={(job?.payload as { destination?: { mode?: string } })?.destination?.mode !== 'replace'} showResult={false} />
      </Card>
      {result && (
        <Card title="7. Result">
          <div className="space-y-3 text-sm" data-testid="restore-result" data-checks-ok={String(result.checksOk)}>
            {(() => {
              const v = checkVerdict(result.checks, result.checksNotRun);
              return <p className={`font-semibold ${v.tone === 'green' ? 'text-emerald-800' : v.tone === 'red' ? 'text-red-800' : 'text-amber-800'}`} data-testid="check-verdict">{v.text}</p>;
            })()}
            <p>Database <code className="font-mono">{result.database}</code> on {result.target}; restore took {duration(result.restoreMs)}, everything {duration(result.durationMs)}.</p>
            {result.downtimeMs !== undefined && <p data-testid="downtime">Production outage: <strong>{(result.downtimeMs / 1000).toFixed(2)} s</strong>{result.connectionsEnded !== undefined ? ` (${result.connectionsEnded} connection(s) ended)` : ''}.</p>}
            <CheckTable checks={result.checks} notRun={result.checksNotRun} />
            {typeof result.keptCopy === 'string' && (
              <div className="rounded-md border border-slate-200 p-3">
                <p>The previous production database is kept as <code className="font-mono">{result.keptCopy}</code>.</p>
                {isAdmin && (
                  <Button variant="secondary" className="mt-2" onClick={() => confirm(`Roll back: put "${result.keptCopy}" back as production? The restored database is set aside, not dropped.`) && rollback.mutate()} disabled={rollback.isPending || !!rollback.data}>
                    Roll back
                  </Button>
                )}
                <ErrorBox error={rollback.error} />
                {rollback.data?.job && <div className="mt-3"><JobLive id={rollback.data.job.id} canCancel={false} compact /></div>}
                {rollback.data?.request && <p className="mt-3 text-amber-800">The rollback waits for a second admin&apos;s approval (Restore page, requests card).</p>}
              </div>
            )}
            <Link href="/jobs" className="text-sky-700 underline">All jobs</Link>
          </div>
        </Card>
      )}
    </div>
  );
}
