// Signed-in pages: the session is checked once here, against the database (a disabled user is out at once).
import { redirect } from 'next/navigation';
import { getSessionUser } from '@/lib/auth/session';
import { Sidebar } from '@/components/shell/sidebar';
import { DatabaseDown } from '@/components/shell/database-down';
import { isDatabaseUnavailable } from '@/lib/errors';

export const dynamic = 'force-dynamic';

export default async function ConsoleLayout({ children }: { children: React.ReactNode }) {
  let user;
  try {
    user = await getSessionUser();
  } catch (err) {
    if (isDatabaseUnavailable(err)) return <DatabaseDown />;
    throw err;
  }
  if (!user) redirect('/login');
  return (
    <div className="flex min-h-screen flex-col md:flex-row">
      <Sidebar user={user} />
      <main className="min-w-0 flex-1 px-3 py-4 md:px-8 md:py-8">
        <div className="mx-auto max-w-6xl">{children}</div>
      </main>
    </div>
  );
}
