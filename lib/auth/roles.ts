// Roles and what each may do; the server checks these on every page and API call.
import type { Role } from '../generated/prisma/enums';

export const roles = ['viewer', 'operator', 'admin'] as const satisfies readonly Role[];
export type { Role };

const rank: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** True when `role` is at least `needed` (admin > operator > viewer). */
export function hasRole(role: Role, needed: Role): boolean {
  return rank[role] >= rank[needed];
}

export const roleLabels: Record<Role, string> = {
  viewer: 'Viewer: dashboards, history, RTO and checklists (read-only)',
  operator: 'Operator: viewer, plus run backups and verification jobs',
  admin: 'Admin: everything, plus restores to production, targets, storage and users',
};
