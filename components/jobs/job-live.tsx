'use client';
// A job as it runs: status, step, progress with percentage, elapsed time, log, cancel; then its result or error.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';
import { ProgressBar } from '@/components/ui/progress-bar';
import { StatusBadge } from '@/components/ui/status-badge';
import { duration, LocalTime } from '@/components/ui/time';
import { isActive, loadEarlierLines, useJob, type JobData } from './use-job';

function Elapsed({ from, to }: { from: string | null; to: string | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (to) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [to]);
  if (!from) return <span>not started</span>;
  return <span>{duration((to ? new Date(to).getTime() : now) - new Date(from).getTime())}</span>;
}

/** `offerRunAgain`: on the job page, a failed or cancelled job whose failure is retryable gets a "Run again" button. */
export function JobLive({ id, canCancel, compact = false, showResult = true, offerRunAgain = false }: { id: string; canCancel: boolean; compact?: boolean; showResult?: boolean; offerRunAgain?: boolean }) {
  const { data, error } = useJob(id);
  const qc = useQueryClient();
  const router = useRouter();
  const again = useMutation({
    mutationFn: () => api<{ job: { id: string } }>(`/api/jobs/${id}/run-again`, { method: 'POST' }),
    onSuccess: (d) => {
      void qc.invalidateQueries({ queryKey: queryKeys.jobsAll });
      router.push(`/jobs/${d.job.id}`);
    },
  });
  const cancel = useMutation({
    mutationFn: () => api(`/api/jobs/${id}/cancel`, { method: 'POST' }),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.job(id) });
      void qc.invalidateQueries({ queryKey: queryKeys.jobsAll });
    },
  });
  if (error) return <ErrorBox error={error} />;
  if (!data) return <p className="text-sm text-slate-500">Loading job…</p>;
  const { job, logs, cancel: right } = data;
  const active = isActive(job.status);
  return (
    <div className="space-y-4" data-testid="job-live" data-status={job.status}>
      <div className="flex flex-wrap items-center gap-3">
        <StatusBadge status={job.status}>{job.status === 'running' && job.cancelRequested ? 'cancelling' : job.status}</StatusBadge>
        <span className="text-sm text-slate-700">
          {job.step ? <>Step: <strong>{job.step}</strong></> : 'Waiting for a worker'}
        </span>
        <span className="text-sm text-slate-500">Elapsed: <Elapsed from={job.startedAt} to={job.finishedAt} /></span>
        {canCancel && active && right.allowed && (
          <Button variant="secondary" onClick={() => cancel.mutate()} disabled={cancel.isPending || job.cancelRequested}>
            {job.cancelRequested ? 'Cancelling…' : 'Cancel'}
          </Button>
        )}
      </div>
      {active && !right.allowed && (canCancel || right.code === 'JOB_PAST_POINT_OF_NO_RETURN') && right.reason && (
        <p className={`rounded-md border px-3 py-2 text-sm ${right.code === 'JOB_PAST_POINT_OF_NO_RETURN' ? 'border-amber-300 bg-amber-50 text-amber-900' : 'border-slate-200 bg-slate-50 text-slate-700'}`} data-testid="job-cancel-refused" data-code={right.code}>
          {right.reason}
        </p>
      )}
      {active && <ProgressBar value={job.status === 'queued' ? 0 : job.progress} label={job.progressDetail ?? undefined} />}
      <ErrorBox error={cancel.error} />
      {showResult && job.status === 'succeeded' && job.result && (
        <div className="rounded-md border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-900" data-testid="job-result">
          <p className="font-semibold">Finished {job.finishedAt && <LocalTime value={job.finishedAt} />}</p>
          <dl className="mt-2 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
            {Object.entries(job.result).map(([k, v]) => (
              <div key={k} className="contents">
                <dt className="text-emerald-800">{k}</dt>
                <dd className="font-mono">{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
      {(job.status === 'failed' || job.status === 'cancelled') && job.errorMessage && (
        <div role="alert" className={`rounded-md border px-4 py-3 text-sm ${job.status === 'failed' ? 'border-red-300 bg-red-50 text-red-900' : 'border-slate-300 bg-slate-50 text-slate-800'}`} data-testid="job-error">
          <p className="font-semibold">{job.errorMessage}</p>
          {job.errorHint && <p className="mt-1">{job.errorHint}</p>}
          <p className="mt-1 font-mono text-xs">{job.errorCode}</p>
          {job.errorDetail && <pre className="mt-2 max-h-48 overflow-auto whitespace-pre-wrap rounded bg-white/70 p-2 font-mono text-xs">{job.errorDetail}</pre>}
          {offerRunAgain && data.runAgain?.allowed && (
            <Button variant="secondary" className="mt-2" onClick={() => again.mutate()} disabled={again.isPending || !!again.data} data-testid="job-run-again">
              {again.isPending || again.data ? 'Starting…' : 'Run again'}
            </Button>
          )}
        </div>
      )}
      <ErrorBox error={again.error} />
      {!compact && <JobLog id={id} data={data} />}
    </div>
  );
}

/** The log: opens on the newest lines and follows new ones (unless scrolled up), with earlier lines on request. */
function JobLog({ id, data }: { id: string; data: JobData }) {
  const qc = useQueryClient();
  const box = useRef<HTMLPreElement>(null);
  const following = useRef(true);
  const earlier = useMutation({ mutationFn: (all: boolean) => loadEarlierLines(qc, id, all) });
  const { logs, log } = data;
  const newest = logs.at(-1)?.id;
  useLayoutEffect(() => {
    if (following.current && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [newest]);
  const onScroll = () => {
    const el = box.current;
    if (el) following.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 24;
  };
  return (
    <div>
      <div className="mb-1 flex flex-wrap items-center gap-x-3 gap-y-1">
        <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Log</h3>
        <span className="text-xs text-slate-500" data-testid="job-log-count">
          {log.total === 0 ? '' : logs.length === log.total ? `${log.total} line${log.total === 1 ? '' : 's'}` : `showing ${logs.length} of ${log.total} lines${log.earlier > 0 ? ' (the newest)' : ''}`}
        </span>
        {log.earlier > 0 && (
          <>
            <Button variant="secondary" onClick={() => earlier.mutate(false)} disabled={earlier.isPending}>
              Load earlier
            </Button>
            <Button variant="secondary" onClick={() => earlier.mutate(true)} disabled={earlier.isPending}>
              {earlier.isPending ? 'Loading…' : `Load all ${log.total}`}
            </Button>
          </>
        )}
      </div>
      <ErrorBox error={earlier.error} />
      <pre ref={box} onScroll={onScroll} className="max-h-80 overflow-auto rounded-md bg-slate-900 p-3 font-mono text-xs leading-5 text-slate-100" data-testid="job-log">
        {logs.length === 0 ? 'No log lines yet.' : logs.map((l) => `${new Date(l.at).toLocaleTimeString()}  ${l.level === 'info' ? '' : l.level.toUpperCase() + ' '}${l.line}`).join('\n')}
      </pre>
    </div>
  );
}
