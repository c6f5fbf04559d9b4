// lib/auth/roles.ts hasRole: admin > operator > viewer.
import { describe, expect, it } from 'vitest';
import { hasRole, roleLabels, roles } from '../../../../lib/auth/roles';

describe('hasRole', () => {
  it.each([
    ['viewer', 'viewer', true],
    ['viewer', 'operator', false],
    ['viewer', 'admin', false],
    ['operator', 'viewer', true],
    ['operator', 'operator', true],
    ['operator', 'admin', false],
    ['admin', 'viewer', true],
    ['admin', 'operator', true],
    ['admin', 'admin', true],
  ] as const)('%s has %s: %s', (role, needed, expected) => {
    expect(hasRole(role, needed)).toBe(expected);
  });

  it('refuses a role it does not know (e.g. a stale or tampered value)', () => {
    expect(hasRole('superuser' as never, 'viewer')).toBe(false);
    expect(hasRole(undefined as never, 'viewer')).toBe(false);
  });

  it('lists the three roles in rank order, each with a label', () => {
    expect(roles).toEqual(['viewer', 'operator', 'admin']);
    for (const r of roles) expect(roleLabels[r]).toMatch(/^[A-Z][a-z]+: /);
  });
});
