// GET /api/health: for load balancers; public, no secrets. 200 when the console and its database are up, else 503.
import { checkHealth } from '@/lib/health/check-health';
import { jsonResponse } from '@/lib/http';

export const dynamic = 'force-dynamic';

export async function GET() {
  const health = await checkHealth();
  return jsonResponse({ ...health, service: 'lifeboat-console' }, health.status === 'ok' ? 200 : 503);
}
