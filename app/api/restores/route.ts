// POST /api/restores: start a restore (operator into a new database; admin with the typed name to replace production).
import { route } from '@/lib/http';
import { restoreRequest, startRestore } from '@/lib/restores/start-restore';

export const POST = route({ role: 'operator', body: restoreRequest }, async ({ user, body, ip }) => ({ job: await startRestore(user, body, ip) }));
