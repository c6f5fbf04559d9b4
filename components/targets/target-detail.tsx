'use client';
// One target: back up now with live progress, connection check, schedules, size trend, history; admin actions.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useMemo, useState } from 'react';
import { api } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { Button } from '@/components/ui/button';
import { Card, PageHeader } from '@/components/ui/card';
import { ErrorBox } from '@/components/ui/error-box';
import { LocalTime } from '@/components/ui/time';
import { bytes } from '@/components/ui/format';
import { JobLive } from '@/components/jobs/job-live';
import { isActive, useJob } from '@/components/jobs/use-job';
import { TrendChart } from '@/components/charts/trend-chart';
import { BackupTable } from '@/components/backups/backup-table';
import { SchedulesCard, type ScheduleRow } from '@/components/schedules/schedules-card';
import { BackupNowButton } from './backup-now-button';
import { BaseBackupButton } from './base-backup-button';
import { TargetForm } from './target-form';
import { ConnectionBadge, type ConnectionView } from './target-list';
import Link from 'next/link';
import { DrillsCard } from '@/components/restores/drills-card';
import { KeptCopiesCard } from '@/components/restores/kept-copies-card';
import { RepairCard } from '@/components/repair/repair-card';
import { WalCard } from './wal-card';
import { WindowCard } from './window-card';
import { jobResult } from '@/lib/jobs/kinds';

interface Check { at: string; ok: boolean; serverVersion: string; user: string; sizes: { database: string; bytes: number }[]; unreadable: string[]; tool: { version: string; binDir: string } | null; toolProblem: { message: string; hint: string } | null }
interface Target { id: string; name: string; host: string; port: number; dbUser: string; database: string | null; sslMode: string; disabled: boolean; keyTables: string[]; checkStatements: string[]; workerPool: string; hasPassword: boolean; preRestoreHook?: string | null; postRestoreHook?: string | null; hasHooks: { pre: boolean; post: boolean }; lastCheck: Check | null; connection: ConnectionView; schedules: ScheduleRow[] }

export function TargetDetail({ id, role }: { id: string; role: 'viewer' | 'operator' | 'admin' }) {
  const qc = useQueryClient();
  const router = useRouter();
  const [jobId, setJobId] = useState<string | null>(null);
  const [testJob, setTestJob] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const { data, error } = useQuery({ queryKey: queryKeys.target(id), queryFn: () => api<{ target: Target }>(`/api/targets/${id}`), refetchInterval: 10_000 });
  const test = useMutation({ mutationFn: () => api<{ job: { id: string } }>(`/api/targets/${id}/test`, { method: 'POST' }), onSuccess: (d) => setTestJob(d.job.id) });
  const toggle = useMutation({ mutationFn: (disabled: boolean) => api(`/api/targets/${id}`, { method: 'PATCH', body: { disabled } }), onSettled: () => qc.invalidateQueries({ queryKey: queryKeys.target(id) }) });
  const remove = useMutation({ mutationFn: () => api<{ backupsKept: number }>(`/api/targets/${id}`, { method: 'DELETE' }), onSuccess: () => router.push('/targets') });
  if (error) return <ErrorBox error={error} />;
  if (!data) return <p className="text-sm text-slate-500">Loading…</p>;
  const t = data.target;
  const canRun = role !== 'viewer';
  const isAdmin = role === 'admin';
  return (
    <>
      <PageHeader
        title={t.name}
        subtitle={<span className="font-mono text-xs">{t.dbUser}@{t.host}:{t.port} · {t.database ?? 'every database'} · sslmode {t.sslMode} · pool {t.workerPool}{t.disabled ? ' · DISABLED' : ''}</span>}
        action={
          canRun ? (
            <div className="flex items-start gap-3">
              <Link href={`/restore?targetId=${id}`} className="rounded-md border border-slate-300 bg-white px-3.5 py-2 text-sm font-medium text-slate-800 hover:bg-slate-100">Restore…</Link>
              {!t.disabled && <BackupNowButton targetId={id} onStarted={setJobId} />}
              {!t.disabled && <BaseBackupButton targetId={id} />}
            </div>
          ) : null
        }
      />
      <div className="space-y-6">
        {jobId && <BackupRun jobId={jobId} targetId={id} canCancel={canRun} />}
        <div className="grid gap-6 lg:grid-cols-2">
          <Card title="Connection" action={isAdmin ? <Button variant="secondary" onClick={() => test.mutate()} disabled={test.isPending}>Test connection</Button> : null}>
            <ErrorBox error={test.error} />
            {testJob && <div className="mb-3"><JobLive id={testJob} canCancel={false} compact /></div>}
            <div className="mb-3 text-sm">
              <ConnectionBadge c={t.connection} />
              {t.connection.at && <span className="ml-2 text-xs text-slate-500">from the last {t.connection.source === 'backup' ? 'backup attempt' : 'connection test'}, <LocalTime value={t.connection.at} /></span>}
            </div>
            {t.connection.tone === 'red' && t.lastCheck && <p className="mb-2 text-xs text-slate-500">The details below are from an older test that passed; the newer evidence above says otherwise.</p>}
            {t.lastCheck ? <CheckView check={t.lastCheck} /> : <p className="text-sm text-slate-600">No connection test has passed yet.{isAdmin ? ' Press “Test connection”.' : ''}</p>}
            {!isAdmin && (t.hasHooks.pre || t.hasHooks.post) && <p className="mt-2 text-xs text-slate-500">A production swap runs restore hooks set by an admin (shown to admins only).</p>}
          </Card>
          <Card title="Size and duration of backups">
            <TrendChart targetId={id} />
          </Card>
        </div>
        <Card title="WAL archiving">
          <WalCard targetId={id} isAdmin={isAdmin} />
        </Card>
        <Card title="Recoverable window"><WindowCard targetId={id} canCreate={canRun} /></Card>
        <Card title="Schedules">
          <SchedulesCard targetId={id} schedules={t.schedules.filter((s) => s.kind !== 'drill')} isAdmin={isAdmin} />
        </Card>
        <Card title="Restore drills (the proof that backups restore)">
          <DrillsCard targetId={id} canRun={canRun} isAdmin={isAdmin} drillSchedule={t.schedules.find((s) => s.kind === 'drill')} />
        </Card>
        <Card title="Copies kept beside production">
          <KeptCopiesCard targetId={id} isAdmin={isAdmin} />
        </Card>
        <Card title="Backups of this target">
          <BackupTable fixedTargetId={id} pageSize={10} />
        </Card>
        {isAdmin && (
          <Card title="Repair">
            <RepairCard targetId={id} database={t.database} databases={t.lastCheck?.sizes.map((x) => x.database) ?? []} />
          </Card>
        )}
        {isAdmin && (
          <Card title="Administration">
            {editing && <div className="mb-4"><TargetForm initial={t} onDone={() => setEditing(false)} /></div>}
            <div className="flex flex-wrap items-center gap-3">
              <Button variant="secondary" onClick={() => setEditing(!editing)}>{editing ? 'Close the editor' : 'Edit connection and checks'}</Button>
              <Button variant="secondary" onClick={() => toggle.mutate(!t.disabled)}>{t.disabled ? 'Enable target' : 'Disable target (stops its schedules)'}</Button>
              <Button
                variant="danger"
                onClick={() => {
                  const typed = prompt(`Delete target "${t.name}"? Its schedules are deleted; its backups stay on storage and in the history.\n\nType the target name to confirm:`);
                  if (typed === t.name) remove.mutate();
                }}
              >
                Delete target
              </Button>
            </div>
            <ErrorBox error={toggle.error ?? remove.error} />
          </Card>
        )}
      </div>
    </>
  );
}

/** The backup started here: live while it runs; when it ends, history, chart and target refresh, and a link to it. */
function BackupRun({ jobId, targetId, canCancel }: { jobId: string; targetId: string; canCancel: boolean }) {
  const qc = useQueryClient();
  const { data } = useJob(jobId);
  const status = data?.job.status;
  const ended = status !== undefined && !isActive(status);
  useEffect(() => {
    if (!ended) return;
    for (const key of [queryKeys.backupsAll, queryKeys.trend(targetId), queryKeys.target(targetId), queryKeys.targets]) void qc.invalidateQueries({ queryKey: key });
  }, [ended, qc, targetId]);
  // A whole-server backup that failed for some databases still lists the ones it backed up.
  const result = data?.job.result ?? null;
  const backups = useMemo(() => jobResult('backup', result)?.backups ?? [], [result]);
  return (
    <Card title={ended ? `Backup ${status}` : 'Backup in progress'}>
      <JobLive id={jobId} canCancel={canCancel} showResult={false} />
      {backups.map((b) => (
        <p key={b.id} className="mt-3 text-sm">
          <Link href={`/backups/${b.id}`} className="font-medium text-sky-800 underline">Open backup #{b.id}</Link> of {b.database}
        </p>
      ))}
    </Card>
  );
}

function CheckView({ check }: { check: Check }) {
  return (
    <div className="space-y-2 text-sm" data-testid="connection-check">
      <p>Checked <LocalTime value={check.at} /> as <code>{check.user}</code>.</p>
      <p>Server: <strong>PostgreSQL {check.serverVersion}</strong></p>
      <p>Size: {check.sizes.map((s) => `${s.database} ${bytes(s.bytes)}`).join(', ')}</p>
      {check.tool && <p>Backups use pg_dump {check.tool.version} from <code className="text-xs">{check.tool.binDir}</code>.</p>}
      {check.toolProblem && <p role="alert" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-900">{check.toolProblem.message} {check.toolProblem.hint}</p>}
      {check.unreadable.length > 0 ? (
        <div role="alert" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-900">
          The user cannot read {check.unreadable.length} table{check.unreadable.length === 1 ? '' : 's'}; backups would fail: <code className="text-xs">{check.unreadable.slice(0, 20).join(', ')}</code>
        </div>
      ) : (
        <p className="text-emerald-800">The user can read every table.</p>
      )}
    </div>
  );
}
