// Smoke: the console answers health and an operator can sign in over HTTP.
import { describe, expect, inject, it } from 'vitest';
import { signInCookie } from '../helpers/browser';
import { e2eUsers } from '../helpers/e2e-users';

describe('console smoke', () => {
  it('answers /api/health without a session and signs in an operator', async () => {
    const base = inject('baseUrl');
    const health = await fetch(`${base}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: 'up' });
    const cookie = await signInCookie(base, e2eUsers.operator.email, e2eUsers.operator.password);
    const me = await fetch(`${base}/api/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email: e2eUsers.operator.email, role: 'operator' } });
  });
});
