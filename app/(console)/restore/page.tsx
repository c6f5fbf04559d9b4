// The restore wizard (operators restore into new databases; admins may also replace production).
import { notFound } from 'next/navigation';
import { PageHeader } from '@/components/ui/card';
import { RestoreWizard } from '@/components/restores/restore-wizard';
import { RestoreRequests } from '@/components/restores/restore-requests';
import { requirePageRole } from '@/lib/auth/require-page-role';
import { getDb } from '@/lib/db';
import { bigintId } from '@/lib/ids';

export const metadata = { title: 'Restore' };

const backupId = bigintId('must be a backup id');

export default async function RestorePage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const user = await requirePageRole('operator');
  const q = await searchParams;
  const targets = await getDb().target.findMany({ select: { id: true, name: true, database: true }, orderBy: { name: 'asc' } });
  let initialTargetId = q.targetId;
  if (q.backupId) {
    // A ?backupId that is no backup id (letters, or past bigint's range) is a bad link: not found, not a crash.
    const parsed = backupId.safeParse(q.backupId);
    if (!parsed.success) notFound();
    const b = await getDb().backupLog.findUnique({ where: { id: parsed.data }, select: { targetId: true } });
    initialTargetId = b?.targetId ?? initialTargetId;
  }
  return (
    <>
      <PageHeader title="Restore" subtitle="One decision at a time. Nothing runs until the last step." />
      {user.role === 'admin' && <RestoreRequests selfId={user.id} />}
      {targets.length === 0 ? <p className="text-sm text-slate-600">No targets yet: there is nothing to restore.</p> : <RestoreWizard targets={targets} isAdmin={user.role === 'admin'} initialTargetId={initialTargetId} initialBackupId={q.backupId} />}
    </>
  );
}
