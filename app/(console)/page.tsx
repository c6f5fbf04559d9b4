// The overview (everyone signed in).
import { PageHeader } from '@/components/ui/card';
import { Overview } from '@/components/overview/overview';
import { requirePageRole } from '@/lib/auth/require-page-role';
import { hasRole } from '@/lib/auth/roles';

export const metadata = { title: 'Overview' };

export default async function OverviewPage() {
  const user = await requirePageRole('viewer');
  return (
    <>
      <PageHeader title="Overview" subtitle="Is every database protected right now?" />
      <Overview canRunJobs={hasRole(user.role, 'operator')} isAdmin={user.role === 'admin'} />
    </>
  );
}
