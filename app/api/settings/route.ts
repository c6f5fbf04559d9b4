// GET /api/settings (viewer): recovery targets and approvals; PUT (admin): change them, audited (switching approvals
// off becomes a request another admin must approve).
import { z } from 'zod';
import { route } from '@/lib/http';
import { getSettings, updateSettings } from '@/lib/settings/manage-settings';

export const GET = route({ role: 'viewer' }, async () => ({ settings: await getSettings() }));

const body = z
  .object({
    rtoSeconds: z.number().int().min(60, 'must be at least 60 seconds').max(7 * 86400).optional(),
    requireSecondAdmin: z.boolean().optional(),
    approvalExpiryHours: z.number().int().min(1, 'must be at least 1 hour').max(720, 'must be at most 30 days').optional(),
  })
  .refine((v) => v.rtoSeconds !== undefined || v.requireSecondAdmin !== undefined || v.approvalExpiryHours !== undefined, 'Nothing to change.');

export const PUT = route({ role: 'admin', body }, ({ user, body, ip }) => updateSettings(user, body, ip));
