'use client';
// "Base backup now": starts a physical base backup (pg_basebackup of the whole server, verified against its
// backup_manifest) with the default compression; if one is already running, says so and links to it.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { api, ApiError } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { ErrorBox } from '@/components/ui/error-box';

export function BaseBackupButton({ targetId }: { targetId: string }) {
  const qc = useQueryClient();
  const start = useMutation({
    mutationFn: () => api<{ job: { id: string } }>(`/api/targets/${targetId}/base-backup`, { method: 'POST', body: {} }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.targets });
      void qc.invalidateQueries({ queryKey: queryKeys.backupsAll });
    },
  });
  const runningId = start.error instanceof ApiError && start.error.code === 'BASE_BACKUP_ALREADY_RUNNING' ? (start.error.fields?.jobId ?? null) : null;
  return (
    <div className="space-y-2">
      <Button variant="secondary" onClick={() => start.mutate()} disabled={start.isPending} title="pg_basebackup of the whole server, checked against its backup_manifest">
        {start.isPending ? 'Starting…' : 'Base backup now'}
      </Button>
      {runningId ? (
        <p className="text-sm text-amber-800" role="status">
          A base backup of this target is already running. <Link href={`/jobs/${runningId}`} className="underline">Watch it</Link>
        </p>
      ) : (
        <ErrorBox error={start.error} />
      )}
      {start.data && (
        <p className="text-sm text-emerald-800" role="status">
          Base backup started. <Link href={`/jobs/${start.data.job.id}`} className="underline">Watch its progress</Link>
        </p>
      )}
    </div>
  );
}
