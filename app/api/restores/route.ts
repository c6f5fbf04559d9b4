// POST /api/restores: start a restore (operator into a new database; admin with the typed name to replace production).
import { route } from '@/lib/http';
import { restoreRequest, startRestore } from '@/lib/restores/start-restore';

// Answers {job} when the restore starts, or {request} when it waits for a second admin's approval.
export const POST = route({ role: 'operator', body: restoreRequest }, async ({ user, body, ip }) => {
  const started = await startRestore(user, body, ip);
  return 'pending' in started ? { request: { id: started.id } } : { job: started };
});
