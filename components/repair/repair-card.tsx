'use client';
// Guided repair of one database (admin): a check first (amcheck, nothing rebuilt); the repair, with what it locks and
// the database typed back, offered when the check found something (or forced, with a warning); live progress and log,
// then whether amcheck still fails, with the restore wizard one click away when it does.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useMemo, useState } from 'react';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';
import { JobLive } from '@/components/jobs/job-live';
import { isActive, useJob } from '@/components/jobs/use-job';
import { jobResult, type JobResult } from '@/lib/jobs/kinds';

const field = 'mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm sm:w-1/2';

/** A check's or a repair's result, as its job's schema describes it. */
type RepairResult = JobResult<'repair'>;

/** `database`: the target's own database, or null when the target covers every database (`databases` are suggestions). */
export function RepairCard({ targetId, database, databases }: { targetId: string; database: string | null; databases: string[] }) {
  const qc = useQueryClient();
  const [chosen, setChosen] = useState('');
  const [checkJob, setCheckJob] = useState<string | null>(null);
  const [repairJob, setRepairJob] = useState<string | null>(null);
  const name = database ?? chosen.trim();
  const post = (body: Record<string, unknown>) => api<{ job: { id: string } }>(`/api/targets/${targetId}/repair`, { method: 'POST', body: { ...(database ? {} : { database: name }), ...body } });
  const check = useMutation({
    mutationFn: () => post({ mode: 'check' }),
    onSuccess: (d) => {
      setCheckJob(d.job.id);
      setRepairJob(null);
      void qc.invalidateQueries({ queryKey: queryKeys.jobsAll });
    },
  });
  const checked = useJob(checkJob).data?.job;
  const checkResult = useMemo(() => (checked?.status === 'succeeded' ? jobResult('repair', checked.result) : null), [checked?.status, checked?.result]);
  const startRepair = (body: Record<string, unknown>) => post({ mode: 'repair', ...body }).then((d) => {
    setRepairJob(d.job.id);
    void qc.invalidateQueries({ queryKey: queryKeys.jobsAll });
    return d;
  });
  return (
    <div className="space-y-4 text-sm" data-testid="repair">
      <p className="text-slate-700">
        For suspected index corruption (wrong or missing rows from an index, “could not read block” errors): the runbook’s scenario 1. First a
        <strong> check</strong>: amcheck reads every btree index of the user’s schemas and names each corrupt one. It rebuilds nothing and lets the
        application go on writing. A <strong>repair</strong> (REINDEX DATABASE, VACUUM (FULL, ANALYZE), amcheck again) is offered when the check finds something.
      </p>
      {!database && (
        <label className="block font-medium">
          Database to check (this target covers every database)
          <input value={chosen} onChange={(e) => setChosen(e.target.value)} list={`repair-dbs-${targetId}`} className={field} autoComplete="off" aria-label="Database to repair" />
          <datalist id={`repair-dbs-${targetId}`}>
            {databases.map((d) => <option key={d} value={d} />)}
          </datalist>
        </label>
      )}
      <Button onClick={() => check.mutate()} disabled={!name || check.isPending || (!!checked && isActive(checked.status))}>
        {name ? `Check ${name}` : 'Check'}
      </Button>
      <ErrorBox error={check.error} />
      {checkJob && <JobLive id={checkJob} canCancel showResult={false} />}
      {checkResult && <CheckOutcome r={checkResult} />}
      {checkResult?.corruptionFound && checkJob && !repairJob && (
        <RepairStep name={name} title="Repair what the check found" onStart={(confirm, lockTimeoutSeconds) => startRepair({ checkJobId: checkJob, confirm, lockTimeoutSeconds })} />
      )}
      {!repairJob && !checkResult?.corruptionFound && (
        <details className="rounded-md border border-slate-200 p-3">
          <summary className="cursor-pointer font-medium text-slate-700">Force a repair without a finding</summary>
          <p className="mt-2 text-amber-900">
            Only when you have a reason amcheck cannot see (it is not available here, or the server log shows index errors): REINDEX and VACUUM FULL
            rebuild everything whether or not it is damaged, and lock every table in turn. The forced repair is recorded in the audit log.
          </p>
          <RepairStep name={name} title="Forced repair" onStart={(confirm, lockTimeoutSeconds) => startRepair({ force: true, confirm, lockTimeoutSeconds })} />
        </details>
      )}
      {repairJob && (
        <>
          <JobLive id={repairJob} canCancel showResult={false} />
          <RepairOutcome jobId={repairJob} targetId={targetId} />
        </>
      )}
    </div>
  );
}

/** What a check found: nothing, something (the repair is the next step), or nothing it could check. */
function CheckOutcome({ r }: { r: RepairResult }) {
  if (r.corruptionFound) {
    return (
      <div role="alert" className="rounded-md border border-red-300 bg-red-50 p-4 text-red-900" data-testid="check-outcome" data-found="true">
        <p className="font-semibold">Corruption found in “{r.database}”: {r.before!.corrupt.length} corrupt index{r.before!.corrupt.length === 1 ? '' : 'es'}. Nothing was rebuilt yet.</p>
        <ul className="ml-5 mt-1 list-disc">
          {r.before!.corrupt.map((x) => <li key={x.index}><code className="font-mono text-xs">{x.index}</code> on <code className="font-mono text-xs">{x.table}</code>: {x.error}</li>)}
        </ul>
      </div>
    );
  }
  if (r.healthy) {
    return (
      <div className="rounded-md border border-emerald-300 bg-emerald-50 p-4 text-emerald-900" data-testid="check-outcome" data-found="false">
        <p className="font-semibold">No corruption found: amcheck checked {r.before?.checked ?? 0} indexes of “{r.database}” with {r.amcheck}. Nothing was rebuilt.</p>
      </div>
    );
  }
  return (
    <div className="rounded-md border border-amber-300 bg-amber-50 p-4 text-amber-900" data-testid="check-outcome" data-found="unknown">
      <p className="font-semibold">
        {r.before ? `No corruption found among ${r.before.checked} indexes, but ${r.before.unchecked.length} could not be checked (see the log).` : 'amcheck is not available here, so nothing could be checked (see the log).'} Nothing was rebuilt.
      </p>
    </div>
  );
}

/** The repair's warning, the typed name and the lock wait, then the start. */
function RepairStep({ name, title, onStart }: { name: string; title: string; onStart: (confirm: string, lockTimeoutSeconds: number) => Promise<unknown> }) {
  const [confirm, setConfirm] = useState('');
  const [lockWait, setLockWait] = useState(60);
  const start = useMutation({ mutationFn: () => onStart(confirm, lockWait), onSuccess: () => setConfirm('') });
  return (
    <div className="mt-3 rounded-md border border-red-300 bg-red-50 p-4 text-red-900">
      <p className="font-semibold">{title}: REINDEX DATABASE, then VACUUM (FULL, ANALYZE), then amcheck again.</p>
      <p className="mt-1">
        This takes exclusive locks, one table at a time. REINDEX blocks writes to a table (and queries that would use the index being rebuilt);
        VACUUM FULL locks each table exclusively while it is rewritten, so every query on that table waits. VACUUM FULL also needs free disk space
        for a copy of the largest table. Run it in a maintenance window. A lock held by another session is waited for at most the time below, then the repair stops.
      </p>
      <label className="mt-3 block font-medium">
        Wait for a lock at most (seconds)
        <input type="number" min={1} max={3600} value={lockWait} onChange={(e) => setLockWait(Number(e.target.value))} className={field} aria-label="Lock wait in seconds" />
      </label>
      <label className="mt-3 block font-medium">
        Type the database name {name ? <code className="font-mono">{name}</code> : ''} to confirm
        <input value={confirm} onChange={(e) => setConfirm(e.target.value)} className={field} autoComplete="off" aria-label="Type the database name to confirm the repair" />
      </label>
      <Button variant="danger" className="mt-3" onClick={() => start.mutate()} disabled={!name || confirm !== name || start.isPending}>
        {name ? `Repair ${name}` : 'Repair'}
      </Button>
      <ErrorBox error={start.error} />
    </div>
  );
}

function RepairOutcome({ jobId, targetId }: { jobId: string; targetId: string }) {
  const { data } = useJob(jobId);
  if (!data || isActive(data.job.status) || data.job.status === 'cancelled') return null;
  const wizard = (href: string) => (
    <Link href={href} className="mt-3 inline-block rounded-md bg-sky-700 px-3.5 py-2 text-sm font-medium text-white hover:bg-sky-800" data-testid="open-restore-wizard">
      Open the restore wizard
    </Link>
  );
  if (data.job.status === 'failed' && data.job.errorCode === 'REPAIR_LOCK_TIMEOUT') {
    return (
      <div className="rounded-md border border-amber-300 bg-amber-50 p-4 text-amber-900" data-testid="repair-outcome" data-healthy="unknown">
        <p>The repair stopped waiting for a lock another session holds (see the error above). That says nothing about damage: repair again when that session is done.</p>
      </div>
    );
  }
  if (data.job.status === 'failed') {
    return (
      <div className="rounded-md border border-slate-300 bg-slate-50 p-4" data-testid="repair-outcome">
        <p>The repair stopped before it could say whether the database is healthy (see the error and log above). If the database stays damaged, restore the last good backup.</p>
        {wizard(`/restore?targetId=${targetId}`)}
      </div>
    );
  }
  const r = jobResult('repair', data.job.result);
  if (!r) return null;
  const found = r.before?.corrupt ?? [];
  if (r.healthy === true) {
    return (
      <div className="rounded-md border border-emerald-300 bg-emerald-50 p-4 text-emerald-900" data-testid="repair-outcome" data-healthy="true">
        <p className="font-semibold">Healthy: amcheck finds no corrupt index in “{r.database}” after the repair ({r.after?.checked ?? 0} indexes checked with {r.amcheck}).</p>
        {found.length > 0 && <p className="mt-1">Before the repair it found {found.length} corrupt: <code className="text-xs">{found.map((x) => x.index).join(', ')}</code>; REINDEX rebuilt them.</p>}
        <p className="mt-1">REINDEX rebuilt {r.reindex?.done ?? 0} indexes; VACUUM FULL rewrote {r.vacuum?.done ?? 0} tables.</p>
      </div>
    );
  }
  if (r.healthy === null) {
    return (
      <div className="rounded-md border border-amber-300 bg-amber-50 p-4 text-amber-900" data-testid="repair-outcome" data-healthy="unknown">
        <p className="font-semibold">REINDEX and VACUUM FULL finished, but amcheck was not available here (see the log), so nothing proves the indexes are sound now.</p>
      </div>
    );
  }
  return (
    <div role="alert" className="rounded-md border border-red-300 bg-red-50 p-4 text-red-900" data-testid="repair-outcome" data-healthy="false">
      <p className="font-semibold">The database is still damaged: the repair did not cure it.</p>
      {r.checkStillFails && (
        <div className="mt-2">
          amcheck still fails on {r.corruptIndexes.length} index{r.corruptIndexes.length === 1 ? '' : 'es'}:
          <ul className="ml-5 mt-1 list-disc">
            {r.after!.corrupt.map((x) => <li key={x.index}><code className="font-mono text-xs">{x.index}</code> on <code className="font-mono text-xs">{x.table}</code>: {x.error}</li>)}
          </ul>
        </div>
      )}
      {r.reindex && !r.reindex.ok && <p className="mt-2">REINDEX failed: {r.reindex.error}</p>}
      {r.vacuum && !r.vacuum.ok && <p className="mt-2">VACUUM FULL failed: {r.vacuum.error}</p>}
      <p className="mt-2">Restore the last good backup: into a new database to compare first, or over production.</p>
      {wizard(r.restoreWizard ?? `/restore?targetId=${targetId}`)}
    </div>
  );
}
