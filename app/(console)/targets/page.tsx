// Targets: the databases Lifeboat protects.
import { PageHeader } from '@/components/ui/card';
import { TargetList } from '@/components/targets/target-list';
import { requirePageRole } from '@/lib/auth/require-page-role';

export const metadata = { title: 'Targets' };

export default async function TargetsPage() {
  const user = await requirePageRole('viewer');
  return (
    <>
      <PageHeader title="Targets" subtitle="The databases Lifeboat protects." />
      <TargetList isAdmin={user.role === 'admin'} />
    </>
  );
}
