'use client';
// The row recovery wizard: a backup, the tables to compare (from the archive's table of contents), the comparison
// as it runs, then what is missing or changed, with the re-insert, the downloads and the discard.
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { jobResult } from '@/lib/jobs/kinds';
import { tableChoices } from '@/lib/recoveries/table-choices';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { ErrorBox } from '@/components/ui/error-box';
import { WizardSteps } from '@/components/ui/wizard-steps';
import { BackupChoiceTable } from '@/components/backups/backup-choice-table';
import { JobLive } from '@/components/jobs/job-live';
import { useJob } from '@/components/jobs/use-job';
import type { BackupRow } from '@/components/backups/backup-table';
import { isRemoved } from '@/lib/backups/kept';
import { RecoveryResults } from './recovery-results';

interface TargetOpt {
  id: string;
  name: string;
}

const steps = ['Backup', 'Tables', 'Compare', 'Results'] as const;
const field = 'mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm';

export function RecoverWizard({ targets, isAdmin, initialTargetId, initialCompareJobId }: { targets: TargetOpt[]; isAdmin: boolean; initialTargetId?: string; initialCompareJobId?: string }) {
  const [step, setStep] = useState(initialCompareJobId ? 3 : 0);
  const [targetId, setTargetId] = useState(initialTargetId ?? targets[0]?.id ?? '');
  const [backup, setBackup] = useState<BackupRow | null>(null);
  const [tables, setTables] = useState<string[]>([]);
  const [tocJob, setTocJob] = useState<string | null>(null);
  const [compareJob, setCompareJob] = useState<string | null>(initialCompareJobId ?? null);

  // The archive's tables come from the restore preflight (it also checks the file against its checksum).
  const readToc = useMutation({
    mutationFn: (b: BackupRow) => api<{ job: { id: string } }>('/api/restores/preflight', { method: 'POST', body: { backupId: String(b.id), destination: { mode: 'drill' } } }),
    onSuccess: (d) => setTocJob(d.job.id),
  });
  const start = useMutation({
    mutationFn: () => api<{ job: { id: string } }>('/api/recoveries', { method: 'POST', body: { backupId: String(backup!.id), tables } }),
    onSuccess: (d) => {
      setCompareJob(d.job.id);
      setStep(2);
    },
  });
  const cmp = useJob(compareJob);
  const cmpResult = cmp.data?.job.status === 'succeeded' ? cmp.data.job.result : null;
  const result = useMemo(() => jobResult('recover-compare', cmpResult), [cmpResult]);
  useEffect(() => {
    if (result && step === 2) setStep(3);
  }, [result, step]);

  const toTables = () => {
    if (!tocJob && backup) readToc.mutate(backup);
    setStep(1);
  };

  return (
    <div className="space-y-6">
      <WizardSteps steps={steps} current={step} label="Recovery steps" />

      {step === 0 && (
        <PickBackup
          targets={targets}
          targetId={targetId}
          setTargetId={(id) => {
            setTargetId(id);
            setBackup(null);
          }}
          backup={backup}
          setBackup={(b) => {
            setBackup(b);
            setTocJob(null);
            setTables([]);
          }}
        />
      )}
      {step === 1 && backup && <PickTables tocJob={tocJob} tocError={readToc.error} tables={tables} setTables={setTables} retry={() => { setTocJob(null); readToc.mutate(backup); }} />}
      {step === 2 && compareJob && (
        <Card title="3. Comparing with production">
          <p className="mb-3 text-sm text-slate-600">
            The chosen tables are restored into a scratch database beside production, then read side by side in primary-key order. Production is only read.
          </p>
          <JobLive id={compareJob} canCancel showResult={false} />
          {cmp.data && (cmp.data.job.status === 'failed' || cmp.data.job.status === 'cancelled') && (
            <Button variant="secondary" className="mt-3" onClick={() => setStep(1)}>Back to the tables</Button>
          )}
        </Card>
      )}
      {step === 3 && compareJob && (result ? <RecoveryResults compareJobId={compareJob} result={result} isAdmin={isAdmin} onStartOver={() => { setCompareJob(null); setStep(0); }} /> : <Card title="4. Results"><JobLive id={compareJob} canCancel={false} compact showResult={false} /></Card>)}

      {step < 2 && (
        <div className="flex gap-3">
          {step > 0 && <Button variant="secondary" onClick={() => setStep(step - 1)}>Back</Button>}
          {step === 0 && <Button onClick={toTables} disabled={!backup}>Next</Button>}
          {step === 1 && (
            <Button onClick={() => start.mutate()} disabled={tables.length === 0 || start.isPending}>
              Compare {tables.length || ''} table{tables.length === 1 ? '' : 's'} with production
            </Button>
          )}
        </div>
      )}
      {step === 1 && <ErrorBox error={start.error} />}
    </div>
  );
}

function PickBackup({ targets, targetId, setTargetId, backup, setBackup }: { targets: TargetOpt[]; targetId: string; setTargetId: (id: string) => void; backup: BackupRow | null; setBackup: (b: BackupRow) => void }) {
  const { data, error } = useQuery({
    queryKey: queryKeys.backups({ targetId, status: 'succeeded', limit: '20' }),
    queryFn: () => api<{ items: BackupRow[] }>(`/api/backups?targetId=${targetId}&status=succeeded&limit=20`),
    enabled: !!targetId,
  });
  // A backup whose removal retention began (or finished) is never offered: its files may be partly gone.
  const usable = (data?.items ?? []).filter((b) => !isRemoved(b));
  return (
    <Card title="1. Which backup still has the rows?">
      <p className="mb-3 text-sm text-slate-600">Pick a backup taken before the rows were deleted. Production is compared with it table by table.</p>
      <label className="text-sm font-medium text-slate-700">
        Target
        <select value={targetId} onChange={(e) => setTargetId(e.target.value)} className={`${field} sm:w-1/2`}>
          {targets.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
        </select>
      </label>
      <ErrorBox error={error} />
      <BackupChoiceTable backups={usable} selected={backup} onSelect={setBackup} testId="recover-pick-backup" />
      {data && usable.length === 0 && <p className="mt-3 text-sm text-red-800">This target has no usable backup.</p>}
    </Card>
  );
}

function PickTables({ tocJob, tocError, tables, setTables, retry }: { tocJob: string | null; tocError: unknown; tables: string[]; setTables: (f: (cur: string[]) => string[]) => void; retry: () => void }) {
  const { data } = useJob(tocJob);
  const job = data?.job;
  const tocResult = job?.status === 'succeeded' ? job.result : null;
  // The table list comes from a preflight of a drill (it reads the archive and touches nothing).
  const archive = useMemo(() => jobResult('restore-preflight', tocResult)?.archive, [tocResult]);
  const choices = archive?.tables ? tableChoices(archive.tables, archive.partitions) : undefined;
  const failed = job && (job.status === 'failed' || job.status === 'cancelled') ? job : null;
  return (
    <Card title="2. Which tables lost rows?">
      <p className="mb-3 text-sm text-slate-600">
        Rows are matched by primary key; a table without one is refused. Pick parent and child tables together (for example users and their sessions) so a re-insert can put both back in order.
      </p>
      <ErrorBox error={tocError} />
      {tocJob && !archive && !failed && <JobLive id={tocJob} canCancel={false} compact showResult={false} />}
      {failed && (
        <div role="alert" className="rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900">
          <p className="font-semibold">{failed.errorMessage}</p>
          {failed.errorHint && <p className="mt-1">{failed.errorHint}</p>}
          <p className="mt-1 font-mono text-xs">{failed.errorCode}</p>
          <Button variant="secondary" className="mt-2" onClick={retry}>Read the archive again</Button>
        </div>
      )}
      {choices && (
        <fieldset className="max-h-72 overflow-auto rounded-md border border-slate-200 p-2 text-sm" data-testid="recover-tables">
          <legend className="sr-only">Tables in the backup</legend>
          {choices.length === 0 && <p className="text-slate-500">The archive has no tables.</p>}
          {choices.map(({ table: t, partitions }) => (
            <label key={t} className="flex items-center gap-2 py-0.5 font-mono text-xs">
              <input type="checkbox" checked={tables.includes(t)} onChange={(e) => setTables((cur) => (e.target.checked ? [...cur, t] : cur.filter((x) => x !== t)))} /> {t}
              {partitions > 0 && <span className="font-sans text-slate-500">partitioned, {partitions} partition{partitions === 1 ? '' : 's'} compared together</span>}
            </label>
          ))}
        </fieldset>
      )}
    </Card>
  );
}
