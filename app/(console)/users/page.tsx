// Users (admin only; other roles get the 403 page).
import { PageHeader } from '@/components/ui/card';
import { UsersAdmin } from '@/components/users/users-admin';
import { requirePageRole } from '@/lib/auth/require-page-role';

export const metadata = { title: 'Users' };

export default async function UsersPage() {
  const user = await requirePageRole('admin');
  return (
    <>
      <PageHeader title="Users" subtitle="Who can sign in, and what their role lets them do. A disabled user is signed out at their next click." />
      <UsersAdmin selfId={user.id} />
    </>
  );
}
