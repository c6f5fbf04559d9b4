'use client';
// Polls one job and keeps a window of its log: it opens on the newest lines, follows new ones as they come (only
// new lines travel each poll), and can load earlier lines on request; the counts say what is not shown.
import { useQuery, type QueryClient } from '@tanstack/react-query';
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

/** Whether the signed-in person may run a failed or cancelled job again (its failure code is retryable), and why not. */
export interface RunAgainRight {
  allowed: boolean;
  reason: string | null;
}

/** Lines stored in all, and how many of them come before the first line held here. */
export interface LogWindow {
  total: number;
  earlier: number;
}

interface JobAnswer {
  job: JobView;
  logs: LogLine[];
  log: { total: number; earlier: number; later: number };
  cancel: CancelRight;
  runAgain: RunAgainRight;
}

export interface JobData {
  job: JobView;
  logs: LogLine[];
  log: LogWindow;
  cancel: CancelRight;
  runAgain: RunAgainRight;
}

export const isActive = (s: JobView['status'] | undefined) => s === 'queued' || s === 'running';

/** Lines shown when a job page opens (its newest), and the most a followed log keeps before dropping its oldest. */
const FIRST_PAGE = 500;
const FOLLOW_PAGE = 2000;
const FOLLOW_KEEP = 5000;
const EARLIER_PAGE = 1000;
const ALL_PAGE = 5000;

interface LogState {
  lines: LogLine[];
  earlier: number;
  total: number;
  lastId: number;
  started: boolean;
  /** Earlier lines were asked for: keep every line instead of a window. */
  keepAll: boolean;
}

// One state a job, shared by every component that watches it (they share the query key too).
const logStates = new Map<string, LogState>();
const stateOf = (id: string) => {
  let s = logStates.get(id);
  if (!s) logStates.set(id, (s = { lines: [], earlier: 0, total: 0, lastId: 0, started: false, keepAll: false }));
  return s;
};

const view = (s: LogState): LogWindow => ({ total: s.total, earlier: s.earlier });

export function useJob(id: string | null) {
  return useQuery({
    queryKey: queryKeys.job(id ?? 'none'),
    enabled: id !== null,
    queryFn: async (): Promise<JobData> => {
      const s = stateOf(id!);
      let data: JobAnswer;
      if (!s.started) {
        // open on the newest lines: on a live job they are what matters; earlier ones load on request.
        data = await api<JobAnswer>(`/api/jobs/${id}?logTail=1&logLimit=${FIRST_PAGE}`);
        s.lines = data.logs;
        s.earlier = data.log.earlier;
        s.started = true;
      } else {
        // follow: fetch what is new; a burst larger than a page is read in a few pages within this poll.
        let pages = 0;
        do {
          data = await api<JobAnswer>(`/api/jobs/${id}?afterLogId=${s.lastId}&logLimit=${FOLLOW_PAGE}`);
          if (data.logs.length) {
            s.lines = [...s.lines, ...data.logs];
            s.lastId = data.logs.at(-1)!.id;
          }
        } while (data.log.later > 0 && data.logs.length > 0 && ++pages < 5);
      }
      if (s.lines.length) s.lastId = Math.max(s.lastId, s.lines.at(-1)!.id);
      if (!s.keepAll && s.lines.length > FOLLOW_KEEP) {
        const drop = s.lines.length - FOLLOW_KEEP;
        s.lines = s.lines.slice(drop);
        s.earlier += drop;
      }
      s.total = data.log.total;
      return { job: data.job, logs: s.lines, log: view(s), cancel: data.cancel, runAgain: data.runAgain };
    },
    refetchInterval: (q) => (isActive(q.state.data?.job.status) || !q.state.data ? 1_000 : false),
  });
}

/** Loads the lines before the first one shown: one page, or every earlier line. */
export async function loadEarlierLines(qc: QueryClient, id: string, all: boolean): Promise<void> {
  const s = stateOf(id);
  s.keepAll = true;
  while (s.earlier > 0 && s.lines.length) {
    const page = await api<JobAnswer>(`/api/jobs/${id}?logBefore=${s.lines[0]!.id}&logLimit=${all ? ALL_PAGE : EARLIER_PAGE}`);
    if (!page.logs.length) break;
    s.lines = [...page.logs, ...s.lines];
    s.earlier = page.log.earlier;
    s.total = page.log.total;
    if (!all) break;
  }
  qc.setQueryData<JobData>(queryKeys.job(id), (old) => (old ? { ...old, logs: s.lines, log: view(s) } : old));
}
