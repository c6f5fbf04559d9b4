// GET /api/targets: protected databases with their last backup and connection status (no secrets); POST: add one (admin).
import { route } from '@/lib/http';
import { createTarget, listTargets } from '@/lib/targets/manage-targets';
import { targetInput } from '@/lib/targets/schemas';

export const GET = route({ role: 'viewer' }, async ({ user }) => ({ targets: await listTargets(user) }));

// A new target is tested at once (enqueued with the save), so the page can warn (unreachable, unreadable tables, no
// fitting pg_dump) before the first backup.
export const POST = route({ role: 'admin', body: targetInput }, async ({ user, body, ip }) => {
  const { testJob, ...target } = await createTarget(user, body, ip);
  return { target, testJob };
});
