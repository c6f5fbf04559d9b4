// Recover deleted rows (runbook scenario 2): compare tables of a backup with production, then re-insert what is missing.
import { PageHeader } from '@/components/ui/card';
import { RecoverWizard } from '@/components/recover/recover-wizard';
import { requirePageRole } from '@/lib/auth/require-page-role';
import { getDb } from '@/lib/db';

export const metadata = { title: 'Recover rows' };

export default async function RecoverPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const user = await requirePageRole('operator');
  const q = await searchParams;
  const targets = await getDb().target.findMany({ select: { id: true, name: true }, orderBy: { name: 'asc' } });
  // ?comparison=<job id> reopens a finished comparison (an operator hands it to an admin for the re-insert).
  const compareJobId = q.comparison && /^[0-9a-f-]{36}$/.test(q.comparison) ? q.comparison : undefined;
  return (
    <>
      <PageHeader title="Recover deleted rows" subtitle="Compare tables of a backup with production by primary key; put back only what is missing." />
      {targets.length === 0 ? (
        <p className="text-sm text-slate-600">No targets yet: there is nothing to recover from.</p>
      ) : (
        <RecoverWizard targets={targets} isAdmin={user.role === 'admin'} initialTargetId={q.targetId} initialCompareJobId={compareJobId} />
      )}
    </>
  );
}
