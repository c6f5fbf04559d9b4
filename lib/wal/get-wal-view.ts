// What the target page's "WAL archiving" card shows: the configuration to install for this target, and the WAL
// part of the last "Test connection" (the worker reads the server and lists the storage; the web only reads rows).
import { getDb } from '../db';
import { UserError } from '../errors';
import { jobKinds } from '../jobs/kinds';
import { defaultStoragePath } from '../storage/storage-for';
import { checkWalSettings, walConfigFor } from './wal-settings';

export async function getWalView(targetId: string) {
  const t = await getDb().target.findUnique({ where: { id: targetId }, select: { name: true, lastCheck: true, storage: { select: { path: true, kind: true, name: true } } } });
  if (!t) throw new UserError('NOT_FOUND', `There is no target ${targetId}.`);
  // lifeboat-wal writes into a folder (docs/wal.md): a storage of another kind cannot hold its archive.
  const storagePath = t.storage ? t.storage.path : defaultStoragePath();
  const storageProblem = t.storage?.kind && t.storage.kind !== 'local' ? `The storage "${t.storage.name}" is not a local folder; lifeboat-wal archives into a folder (or a mount) only.` : null;
  const parsed = t.lastCheck ? jobKinds['test-connection'].result.safeParse(t.lastCheck) : null;
  const check = parsed?.success ? parsed.data : null;
  const wal = check?.wal ?? null;
  return {
    config: { ...walConfigFor(t, storagePath), storage: t.storage?.name ?? 'default folder', storageProblem },
    checkedAt: wal ? check!.at : null,
    health: wal,
    settingProblems: wal ? checkWalSettings(wal.settings) : [],
  };
}
