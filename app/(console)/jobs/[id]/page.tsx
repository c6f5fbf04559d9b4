// One job, live: progress, log, cancel, result or error.
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { Card, PageHeader } from '@/components/ui/card';
import { JobLive } from '@/components/jobs/job-live';
import { requirePageRole } from '@/lib/auth/require-page-role';
import { hasRole } from '@/lib/auth/roles';
import { getDb } from '@/lib/db';

export const metadata = { title: 'Job' };

export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageRole('viewer');
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/i.test(id)) notFound();
  const job = await getDb().job.findUnique({ where: { id }, select: { kind: true, createdAt: true } });
  if (!job) notFound();
  return (
    <>
      <Link href="/jobs" className="text-sm text-sky-700 underline">← Jobs</Link>
      <PageHeader title={`Job: ${job.kind}`} subtitle={<span className="font-mono text-xs">{id}</span>} />
      <Card>
        <JobLive id={id} canCancel={hasRole(user.role, 'operator')} />
      </Card>
    </>
  );
}
