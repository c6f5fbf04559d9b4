'use client';
// "Back up now": starts the backup job; if one is already running, says so and links to it.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { api, ApiError } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';
import { isActive, useJob } from '@/components/jobs/use-job';

export function BackupNowButton({ targetId, onStarted }: { targetId: string; onStarted?: (jobId: string) => void }) {
  const qc = useQueryClient();
  const start = useMutation({
    mutationFn: () => api<{ job: { id: string } }>(`/api/targets/${targetId}/backup`, { method: 'POST' }),
    onSuccess: (d) => {
      onStarted?.(d.job.id);
      void qc.invalidateQueries({ queryKey: queryKeys.targets });
      void qc.invalidateQueries({ queryKey: queryKeys.backupsAll });
    },
  });
  const runningId = start.error instanceof ApiError && start.error.code === 'BACKUP_ALREADY_RUNNING' ? (start.error.fields?.jobId ?? null) : null;
  // The note follows the job it names: once that backup ends, the note goes.
  const watched = useJob(runningId);
  const running = runningId && (!watched.data || isActive(watched.data.job.status)) ? runningId : undefined;
  return (
    <div className="space-y-2">
      <Button onClick={() => start.mutate()} disabled={start.isPending}>{start.isPending ? 'Starting…' : 'Back up now'}</Button>
      {runningId ? (
        running ? (
          <p className="text-sm text-amber-800" role="status">
            A backup of this target is already running. <Link href={`/jobs/${running}`} className="underline">Watch it</Link>
          </p>
        ) : null
      ) : (
        <ErrorBox error={start.error} />
      )}
      {start.data && !onStarted && (
        <p className="text-sm text-emerald-800" role="status">
          Backup started. <Link href={`/jobs/${start.data.job.id}`} className="underline">Watch its progress</Link>
        </p>
      )}
    </div>
  );
}
