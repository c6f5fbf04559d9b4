// The navigation, with the least role that may open each page (the pages check the same roles on the server).
import type { Role } from '@/lib/auth/roles';

export interface NavItem {
  href: string;
  label: string;
  role: Role;
}

export const navItems: NavItem[] = [
  { href: '/', label: 'Overview', role: 'viewer' },
  { href: '/targets', label: 'Targets', role: 'viewer' },
  { href: '/backups', label: 'Backups', role: 'viewer' },
  { href: '/restore', label: 'Restore', role: 'operator' },
  { href: '/recover', label: 'Recover rows', role: 'operator' },
  { href: '/jobs', label: 'Jobs', role: 'viewer' },
  { href: '/audit', label: 'Audit log', role: 'admin' },
  { href: '/users', label: 'Users', role: 'admin' },
  { href: '/settings', label: 'Settings', role: 'admin' },
];

/** Least role per page path, for the server-side page guard. */
export function pageRole(href: string): Role {
  return navItems.find((i) => i.href === href)?.role ?? 'viewer';
}
