// GET /api/overview: workers, targets and recent jobs for the overview page.
import { route } from '@/lib/http';
import { getOverview } from '@/lib/overview/get-overview';

export const GET = route({ role: 'viewer' }, () => getOverview());
