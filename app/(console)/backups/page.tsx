// Backup history (everyone signed in).
import { PageHeader } from '@/components/ui/card';
import { BackupTable } from '@/components/backups/backup-table';
import { requirePageRole } from '@/lib/auth/require-page-role';
import { getDb } from '@/lib/db';

export const metadata = { title: 'Backups' };

export default async function BackupsPage() {
  await requirePageRole('viewer');
  const targets = await getDb().target.findMany({ select: { id: true, name: true }, orderBy: { name: 'asc' } });
  return (
    <>
      <PageHeader title="Backups" subtitle="Every backup run, newest first: the same rows as SELECT * FROM backup_log." />
      <BackupTable targets={targets} />
    </>
  );
}
