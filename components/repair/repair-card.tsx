'use client';
// Guided repair of one database (admin): what it does and what it locks, the database typed back, live progress and
// log, then whether amcheck still fails, with the restore wizard one click away when it does.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';
import { JobLive } from '@/components/jobs/job-live';
import { isActive, useJob } from '@/components/jobs/use-job';

const field = 'mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm sm:w-1/2';

interface IndexProblem { index: string; table: string; error: string }
interface AmcheckReport { function: string; checked: number; corrupt: IndexProblem[]; unchecked: IndexProblem[] }
interface StepOutcome { ok: boolean; done: number; error: string | null }
interface RepairResult {
  database: string;
  amcheck: string | null;
  before: AmcheckReport | null;
  reindex: StepOutcome;
  vacuum: StepOutcome;
  after: AmcheckReport | null;
  healthy: boolean | null;
  checkStillFails: boolean;
  corruptIndexes: string[];
  restoreWizard: string | null;
}

/** `database`: the target's own database, or null when the target covers every database (`databases` are suggestions). */
export function RepairCard({ targetId, database, databases }: { targetId: string; database: string | null; databases: string[] }) {
  const qc = useQueryClient();
  const [chosen, setChosen] = useState('');
  const [confirm, setConfirm] = useState('');
  const [jobId, setJobId] = useState<string | null>(null);
  const name = database ?? chosen.trim();
  const start = useMutation({
    mutationFn: () => api<{ job: { id: string } }>(`/api/targets/${targetId}/repair`, { method: 'POST', body: { ...(database ? {} : { database: name }), confirm } }),
    onSuccess: (d) => {
      setJobId(d.job.id);
      setConfirm('');
      void qc.invalidateQueries({ queryKey: queryKeys.jobsAll });
    },
  });
  return (
    <div className="space-y-4 text-sm" data-testid="repair">
      <p className="text-slate-700">
        For suspected index corruption (wrong or missing rows from an index, “could not read block” errors): the runbook’s scenario 1, in four steps.
      </p>
      <ol className="ml-5 list-decimal space-y-1 text-slate-700">
        <li><strong>amcheck</strong> checks every btree index of the user’s schemas and names each corrupt one (skipped, and said so, where amcheck cannot be installed).</li>
        <li><strong>REINDEX DATABASE</strong> rebuilds every index from its table.</li>
        <li><strong>VACUUM (FULL, ANALYZE)</strong> rewrites every table and refreshes planner statistics.</li>
        <li><strong>amcheck again</strong>: healthy, or still failing, and then the way out is a restore.</li>
      </ol>
      <div className="rounded-md border border-red-300 bg-red-50 p-4 text-red-900">
        <p className="font-semibold">
          This takes exclusive locks, one table at a time. REINDEX blocks writes to a table (and queries that would use the index being rebuilt);
          VACUUM FULL locks each table exclusively while it is rewritten, so every query on that table waits. VACUUM FULL also needs free disk space
          for a copy of the largest table. Run it in a maintenance window.
        </p>
        {!database && (
          <label className="mt-3 block font-medium">
            Database to repair (this target covers every database)
            <input value={chosen} onChange={(e) => setChosen(e.target.value)} list={`repair-dbs-${targetId}`} className={field} autoComplete="off" aria-label="Database to repair" />
            <datalist id={`repair-dbs-${targetId}`}>
              {databases.map((d) => <option key={d} value={d} />)}
            </datalist>
          </label>
        )}
        <label className="mt-3 block font-medium">
          Type the database name {name ? <code className="font-mono">{name}</code> : ''} to confirm
          <input value={confirm} onChange={(e) => setConfirm(e.target.value)} className={field} autoComplete="off" aria-label="Type the database name to confirm the repair" />
        </label>
        <Button variant="danger" className="mt-3" onClick={() => start.mutate()} disabled={!name || confirm !== name || start.isPending}>
          {name ? `Repair ${name}` : 'Repair'}
        </Button>
      </div>
      <ErrorBox error={start.error} />
      {jobId && (
        <>
          <JobLive id={jobId} canCancel showResult={false} />
          <RepairOutcome jobId={jobId} targetId={targetId} />
        </>
      )}
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
  if (data.job.status === 'failed') {
    return (
      <div className="rounded-md border border-slate-300 bg-slate-50 p-4" data-testid="repair-outcome">
        <p>The repair stopped before it could say whether the database is healthy (see the error and log above). If the database stays damaged, restore the last good backup.</p>
        {wizard(`/restore?targetId=${targetId}`)}
      </div>
    );
  }
  const r = data.job.result as RepairResult | null;
  if (!r) return null;
  const found = r.before?.corrupt ?? [];
  if (r.healthy === true) {
    return (
      <div className="rounded-md border border-emerald-300 bg-emerald-50 p-4 text-emerald-900" data-testid="repair-outcome" data-healthy="true">
        <p className="font-semibold">Healthy: amcheck finds no corrupt index in “{r.database}” after the repair ({r.after?.checked ?? 0} indexes checked with {r.amcheck}).</p>
        {found.length > 0 && <p className="mt-1">Before the repair it found {found.length} corrupt: <code className="text-xs">{found.map((x) => x.index).join(', ')}</code>; REINDEX rebuilt them.</p>}
        <p className="mt-1">REINDEX rebuilt {r.reindex.done} indexes; VACUUM FULL rewrote {r.vacuum.done} tables.</p>
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
      {!r.reindex.ok && <p className="mt-2">REINDEX failed: {r.reindex.error}</p>}
      {!r.vacuum.ok && <p className="mt-2">VACUUM FULL failed: {r.vacuum.error}</p>}
      <p className="mt-2">Restore the last good backup: into a new database to compare first, or over production.</p>
      {wizard(r.restoreWizard ?? `/restore?targetId=${targetId}`)}
    </div>
  );
}
