// GET /api/targets: protected databases with their last backup (no secrets); POST: add one (admin).
import { route } from '@/lib/http';
import { createTarget, listTargets } from '@/lib/targets/manage-targets';
import { targetInput } from '@/lib/targets/schemas';

export const GET = route({ role: 'viewer' }, async () => ({ targets: await listTargets() }));

export const POST = route({ role: 'admin', body: targetInput }, async ({ user, body, ip }) => ({ target: await createTarget(user, body, ip) }));
