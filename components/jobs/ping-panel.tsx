'use client';
// "Test the worker": sends a ping job through the queue and shows it live, so on-call sees the whole path work.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';
import { JobLive } from './job-live';

export function PingPanel() {
  const qc = useQueryClient();
  const [jobId, setJobId] = useState<string | null>(null);
  const ping = useMutation({
    mutationFn: () => api<{ job: { id: string } }>('/api/jobs/ping', { method: 'POST', body: { message: 'console check', seconds: 3 } }),
    onSuccess: (data) => {
      setJobId(data.job.id);
      void qc.invalidateQueries({ queryKey: queryKeys.jobsAll });
      void qc.invalidateQueries({ queryKey: queryKeys.overview });
    },
  });
  return (
    <div className="space-y-3">
      <p className="text-sm text-slate-600">
        Sends a ping job through the queue to a worker and back. Use it after a deploy, or when jobs seem stuck.
      </p>
      <Button onClick={() => ping.mutate()} disabled={ping.isPending}>
        {ping.isPending ? 'Sending…' : 'Ping the worker'}
      </Button>
      <ErrorBox error={ping.error} />
      {jobId && (
        <div className="rounded-md border border-slate-200 p-3">
          <JobLive id={jobId} canCancel compact />
          <Link href={`/jobs/${jobId}`} className="mt-2 inline-block text-sm text-sky-700 underline">Open the job with its log</Link>
        </div>
      )}
    </div>
  );
}
