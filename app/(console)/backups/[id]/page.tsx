// One backup: what, where, checksum, manifest, log; admins can download it.
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { Card, PageHeader } from '@/components/ui/card';
import { StatusBadge } from '@/components/ui/status-badge';
import { LocalTime } from '@/components/ui/time';
import { bytes, duration } from '@/components/ui/format';
import { requirePageRole } from '@/lib/auth/require-page-role';
import { getBackup } from '@/lib/backups/list-backups';
import { RemovalLabel, UploadedBadge } from '@/components/backups/backup-table';
import { UserError } from '@/lib/errors';
import { bigintId } from '@/lib/ids';

export const metadata = { title: 'Backup' };

const backupId = bigintId('must be a backup id');

export default async function BackupPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageRole('viewer');
  const { id } = await params;
  // Digits past bigint's range are not a backup either (PostgreSQL would refuse them: a crash, not a 404).
  const parsed = backupId.safeParse(id);
  if (!parsed.success) notFound();
  const data = await getBackup(parsed.data).catch((err) => {
    if (err instanceof UserError && err.code === 'NOT_FOUND') notFound();
    throw err;
  });
  const { backup: b, logs } = data;
  const rows: [string, React.ReactNode][] = [
    ['Status', <StatusBadge key="s" status={b.status} />],
    ['Kind', b.uploaded ? <span key="k" data-testid="backup-kind"><UploadedBadge /> {b.uploadedFileName ? <code className="text-xs">{b.uploadedFileName}</code> : null}: uploaded by an admin, not taken by Lifeboat; it never counts as the target&apos;s last good backup.</span> : b.backupType],
    ['Target', b.target ? <Link key="t" href={`/targets/${b.target.id}`} className="text-sky-800 underline">{b.target.name}</Link> : 'deleted target'],
    ['Database', b.databaseName],
    ['Started', <LocalTime key="c" value={b.createdAt} />],
    ['Took', b.durationMs !== null ? duration(b.durationMs) : '—'],
    ['Size', `${bytes(b.backupSize === null ? null : Number(b.backupSize))}${b.backupSize !== null ? ` (${b.backupSize} bytes)` : ''}`],
    ['Format', b.format],
    ['File', <code key="f" className="break-all font-mono text-xs">{b.location}/{b.backupFile}</code>],
    ['SHA-256', <code key="h" className="break-all font-mono text-xs">{b.checksumSha256 ?? '—'}</code>],
    ['Verified', b.verifiedAt ? <span key="v">pg_restore --list read it back at <LocalTime value={b.verifiedAt} /></span> : 'no'],
    ['Server / tool', `${b.serverVersion ?? '—'} / pg_dump ${b.toolVersion ?? '—'}`],
    ['Schedule', b.schedule ? `${b.schedule.cron} (${b.schedule.timezone})` : b.uploaded ? 'none (uploaded)' : 'started by hand'],
  ];
  if (b.errorMessage) rows.push(['Error', <span key="e" className="text-red-800">[{b.errorCode}] {b.errorMessage}</span>]);
  if (b.deletedAt) rows.push(['Removed', <span key="d">by retention at <LocalTime value={b.deletedAt} /></span>]);
  else if (b.removal === 'being-removed')
    rows.push(['Removed', <span key="d" data-testid="being-removed"><RemovalLabel backup={b} /> retention began removing it on {b.deletingOn}; its files may already be partly gone, so it cannot be restored or downloaded. Pick another backup.</span>]);
  return (
    <>
      <Link href="/backups" className="text-sm text-sky-700 underline">← Backups</Link>
      <PageHeader
        title={`${b.uploaded ? 'Uploaded backup' : 'Backup'} #${b.id}`}
        subtitle={b.backupFile}
        action={
          b.status === 'succeeded' && b.removal === 'kept' ? (
            <div className="flex gap-3">
              {user.role !== 'viewer' && <Link href={`/restore?backupId=${b.id}`} className="rounded-md bg-sky-700 px-3.5 py-2 text-sm font-medium text-white hover:bg-sky-800">Restore this backup</Link>}
              {user.role === 'admin' && <a href={`/api/backups/${b.id}/download`} className="rounded-md border border-slate-300 bg-white px-3.5 py-2 text-sm font-medium text-slate-800 hover:bg-slate-100">Download</a>}
            </div>
          ) : null
        }
      />
      <div className="grid gap-6 lg:grid-cols-2 [&>*]:min-w-0">
        <Card title="Details">
          <dl className="grid grid-cols-[max-content_minmax(0,1fr)] gap-x-4 gap-y-2 text-sm">
            {rows.map(([k, v]) => (
              <div key={k} className="contents"><dt className="text-slate-500">{k}</dt><dd>{v}</dd></div>
            ))}
          </dl>
        </Card>
        <Card title="Key table row counts (from the dump's snapshot)">
          {b.keyTableCounts && Object.keys(b.keyTableCounts as object).length ? (
            <table className="w-full text-sm"><tbody>{Object.entries(b.keyTableCounts as Record<string, number>).map(([t, n]) => <tr key={t}><td className="py-1 font-mono">{t}</td><td className="py-1 text-right">{n.toLocaleString()}</td></tr>)}</tbody></table>
          ) : <p className="text-sm text-slate-600">No key tables configured for this target.</p>}
          {(b.manifest as { restoreByHand?: string[] } | null)?.restoreByHand && (
            <>
              <h3 className="mt-4 text-xs font-semibold uppercase tracking-wide text-slate-500">Restore by hand</h3>
              <pre className="mt-1 overflow-auto whitespace-pre-wrap break-all rounded bg-slate-900 p-3 font-mono text-xs text-slate-100">{(b.manifest as { restoreByHand: string[] }).restoreByHand.join('\n')}</pre>
            </>
          )}
        </Card>
      </div>
      <div className="mt-6 grid gap-6">
        {b.manifest && <Card title="Manifest (stored beside the file)"><pre className="max-h-96 overflow-auto font-mono text-xs">{JSON.stringify(b.manifest, null, 2)}</pre></Card>}
        <Card title="Log" action={b.jobId ? <Link href={`/jobs/${b.jobId}`} className="text-sm text-sky-700 underline">Job</Link> : null}>
          <pre className="max-h-80 overflow-auto rounded-md bg-slate-900 p-3 font-mono text-xs leading-5 text-slate-100">{logs.length ? logs.map((l) => `${l.at.toISOString().slice(11, 19)} UTC  ${l.line}`).join('\n') : 'No log.'}</pre>
        </Card>
      </div>
    </>
  );
}
