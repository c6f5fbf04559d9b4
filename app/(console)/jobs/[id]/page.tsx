// One job, live: progress, log, cancel, result or error.
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { Card, PageHeader } from '@/components/ui/card';
import { JobLive } from '@/components/jobs/job-live';
import { requirePageRole } from '@/lib/auth/require-page-role';
import { hasRole } from '@/lib/auth/roles';
import { getDb } from '@/lib/db';
import { approvalForJob } from '@/lib/restores/approval-requests';
import { LocalTime } from '@/components/ui/time';

export const metadata = { title: 'Job' };

export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageRole('viewer');
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/i.test(id)) notFound();
  const job = await getDb().job.findUnique({
    where: { id },
    select: { kind: true, createdAt: true, createdBy: { select: { email: true } }, target: { select: { id: true, name: true } } },
  });
  if (!job) notFound();
  // Four eyes: who asked for this job and who approved it, for the review the morning after.
  const approval = await approvalForJob(id);
  return (
    <>
      <Link href="/jobs" className="text-sm text-sky-700 underline">← Jobs</Link>
      <PageHeader title={`Job: ${job.kind}`} subtitle={<span className="font-mono text-xs">{id}</span>} />
      <p className="mb-3 text-sm text-slate-600" data-testid="job-people">
        {job.target ? (
          <>
            Target <Link href={`/targets/${job.target.id}`} className="text-sky-700 underline">{job.target.name}</Link> ·{' '}
          </>
        ) : null}
        {approval ? (
          <>
            Asked by {approval.requestedBy ?? 'a deleted user'} at <LocalTime value={approval.requestedAt} /> · approved by{' '}
            {approval.approvedBy ?? 'a deleted user'} at <LocalTime value={approval.approvedAt} />
          </>
        ) : (
          <>
            Started by {job.createdBy?.email ?? 'Lifeboat itself (a schedule or the system)'} at <LocalTime value={job.createdAt} />
          </>
        )}
      </p>
      <Card>
        <JobLive id={id} canCancel={hasRole(user.role, 'operator')} offerRunAgain />
      </Card>
    </>
  );
}
