// GET /api/settings (viewer): recovery targets; PUT (admin): change them, audited.
import { z } from 'zod';
import { route } from '@/lib/http';
import { getSettings, updateSettings } from '@/lib/settings/manage-settings';

export const GET = route({ role: 'viewer' }, async () => ({ settings: await getSettings() }));

const body = z
  .object({
    rtoSeconds: z.number().int().min(60, 'must be at least 60 seconds').max(7 * 86400).optional(),
    requireSecondAdmin: z.boolean().optional(),
  })
  .refine((v) => v.rtoSeconds !== undefined || v.requireSecondAdmin !== undefined, 'Nothing to change.');

export const PUT = route({ role: 'admin', body }, async ({ user, body, ip }) => ({ settings: await updateSettings(user, body, ip) }));
