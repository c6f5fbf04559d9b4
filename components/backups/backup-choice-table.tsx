'use client';
// Pick one backup from a list: when it was taken, its age, size and whether the whole archive was read back.
import { StatusBadge } from '@/components/ui/status-badge';
import { Ago, LocalTime } from '@/components/ui/time';
import { bytes } from '@/components/ui/format';
import { UploadedBadge, type BackupRow } from './backup-table';

/** What a verified backup's check did (worker/backup/verify.ts): the stored archive read to its end, not only its list. */
export const VERIFIED_LABEL = 'read back in full';
export const VERIFIED_TITLE = 'After it was stored, the whole archive was read back: every zstd frame decoded and every data block read through pg_restore.';
const UNVERIFIED_TITLE = 'This backup was not read back after it was stored.';

export function BackupChoiceTable({ backups, selected, onSelect, testId }: { backups: BackupRow[]; selected: BackupRow | null; onSelect: (b: BackupRow) => void; testId: string }) {
  return (
    <table className="mt-4 w-full text-sm" data-testid={testId}>
      <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
        <tr><th /><th className="pb-2">Taken</th><th className="pb-2">Age</th><th className="pb-2">Database</th><th className="pb-2">Size</th><th className="pb-2">Verified</th></tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {backups.map((b) => (
          <tr key={b.id} className={selected?.id === b.id ? 'bg-sky-50' : ''}>
            <td className="py-1.5"><input type="radio" name="backup" aria-label={`backup ${b.id}`} checked={selected?.id === b.id} onChange={() => onSelect(b)} /></td>
            <td className="py-1.5"><LocalTime value={b.createdAt} />{b.backupType === 'uploaded' && <span className="ml-2"><UploadedBadge /></span>}</td>
            <td className="py-1.5"><Ago value={b.createdAt} /></td>
            <td className="py-1.5">{b.databaseName}</td>
            <td className="py-1.5">{bytes(b.backupSize)}</td>
            <td className="py-1.5">{b.verifiedAt ? <StatusBadge tone="green" title={VERIFIED_TITLE}>{VERIFIED_LABEL}</StatusBadge> : <StatusBadge tone="amber" title={UNVERIFIED_TITLE}>no</StatusBadge>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
