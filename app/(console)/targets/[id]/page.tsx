// One target (everyone signed in; actions by role).
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { TargetDetail } from '@/components/targets/target-detail';
import { requirePageRole } from '@/lib/auth/require-page-role';
import { getDb } from '@/lib/db';

export const metadata = { title: 'Target' };

export default async function TargetPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageRole('viewer');
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/i.test(id) || !(await getDb().target.findUnique({ where: { id }, select: { id: true } }))) notFound();
  return (
    <>
      <Link href="/targets" className="text-sm text-sky-700 underline">← Targets</Link>
      <TargetDetail id={id} role={user.role} />
    </>
  );
}
