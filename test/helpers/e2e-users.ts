// The users every e2e run seeds, one per role.
export const e2eUsers = {
  admin: { email: 'admin@e2e.test', password: 'admin-password-e2e', role: 'admin' as const, name: 'E2E Admin' },
  operator: { email: 'operator@e2e.test', password: 'operator-password-e2e', role: 'operator' as const, name: 'E2E Operator' },
  viewer: { email: 'viewer@e2e.test', password: 'viewer-password-e2e', role: 'viewer' as const, name: 'E2E Viewer' },
};
export type E2eRole = keyof typeof e2eUsers;
