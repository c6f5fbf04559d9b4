// Jobs: every run of work, newest first.
import { Suspense } from 'react';
import { PageHeader } from '@/components/ui/card';
import { JobList } from '@/components/jobs/job-list';
import { requirePageRole } from '@/lib/auth/require-page-role';

export const metadata = { title: 'Jobs' };

export default async function JobsPage() {
  await requirePageRole('viewer');
  return (
    <>
      <PageHeader title="Jobs" subtitle="Every backup, restore, check and ping the workers ran, with its log." />
      <Suspense>
        <JobList />
      </Suspense>
    </>
  );
}
