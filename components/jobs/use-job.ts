'use client';
// Polls one job and accumulates its log lines (only new lines travel each poll).
import { useQuery } from '@tanstack/react-query';
import { useRef } from 'react';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';

export interface JobView {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  step: string | null;
  progress: number | null;
  progressDetail: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  errorHint: string | null;
  errorDetail: string | null;
  cancelRequested: boolean;
  /** Set at the job's point of no return: it can no longer be cancelled. */
  committedAt: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  createdBy: { email: string; name: string } | null;
  worker: { host: string; pid: number } | null;
}

export interface LogLine {
  id: number;
  at: string;
  level: string;
  line: string;
}

/** Whether the signed-in person may cancel the job, and why not (from the server, which enforces the same rule). */
export interface CancelRight {
  allowed: boolean;
  code?: 'FORBIDDEN' | 'JOB_PAST_POINT_OF_NO_RETURN';
  reason: string | null;
}

export const isActive = (s: JobView['status'] | undefined) => s === 'queued' || s === 'running';

export function useJob(id: string | null) {
  const lines = useRef<LogLine[]>([]);
  const lastId = useRef(0);
  const query = useQuery({
    queryKey: queryKeys.job(id ?? 'none'),
    enabled: id !== null,
    queryFn: async () => {
      const data = await api<{ job: JobView; logs: LogLine[]; cancel: CancelRight }>(`/api/jobs/${id}?afterLogId=${lastId.current}`);
      if (data.logs.length) {
        lines.current = [...lines.current, ...data.logs].slice(-2000);
        lastId.current = data.logs[data.logs.length - 1]!.id;
      }
      return { job: data.job, logs: lines.current, cancel: data.cancel };
    },
    refetchInterval: (q) => (isActive(q.state.data?.job.status) || !q.state.data ? 1_000 : false),
  });
  return query;
}
