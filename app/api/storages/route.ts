// GET /api/storages (viewer), POST (admin): where backups go.
import { route } from '@/lib/http';
import { createStorage, listStorages, storageInput } from '@/lib/storages/manage-storages';

export const GET = route({ role: 'viewer' }, async () => ({ storages: await listStorages() }));

export const POST = route({ role: 'admin', body: storageInput }, async ({ user, body, ip }) => ({ storage: await createStorage(user, body, ip) }));
