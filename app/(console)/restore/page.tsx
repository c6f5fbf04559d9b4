// The restore wizard (operators restore into new databases; admins may also replace production).
import { PageHeader } from '@/components/ui/card';
import { RestoreWizard } from '@/components/restores/restore-wizard';
import { RestoreRequests } from '@/components/restores/restore-requests';
import { requirePageRole } from '@/lib/auth/require-page-role';
import { getDb } from '@/lib/db';

export const metadata = { title: 'Restore' };

export default async function RestorePage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const user = await requirePageRole('operator');
  const q = await searchParams;
  const targets = await getDb().target.findMany({ select: { id: true, name: true, database: true }, orderBy: { name: 'asc' } });
  let initialTargetId = q.targetId;
  if (q.backupId && /^\d+$/.test(q.backupId)) {
    const b = await getDb().backupLog.findUnique({ where: { id: BigInt(q.backupId) }, select: { targetId: true } });
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
