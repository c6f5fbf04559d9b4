// The audit log (admin): who did what, when, with which parameters.
import { PageHeader } from '@/components/ui/card';
import { AuditList } from '@/components/audit/audit-list';
import { requirePageRole } from '@/lib/auth/require-page-role';

export const metadata = { title: 'Audit log' };

export default async function AuditPage() {
  await requirePageRole('admin');
  return (
    <>
      <PageHeader title="Audit log" subtitle="Every change anyone made, in the order it happened. Entries cannot be edited or removed." />
      <AuditList />
    </>
  );
}
