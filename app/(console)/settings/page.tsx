// Settings (admin): recovery targets.
import { PageHeader } from '@/components/ui/card';
import { SettingsForm } from '@/components/settings/settings-form';
import { requirePageRole } from '@/lib/auth/require-page-role';

export const metadata = { title: 'Settings' };

export default async function SettingsPage() {
  await requirePageRole('admin');
  return (
    <>
      <PageHeader title="Settings" subtitle="Targets the evidence is measured against." />
      <SettingsForm />
    </>
  );
}
