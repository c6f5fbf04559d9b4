// lib/auth/options.ts: email and password always; single sign-on (OIDC) only when all its variables are set.
import { describe, expect, it } from 'vitest';
import { buildAuthOptions } from '../../../../lib/auth/options';
import { parseEnv } from '../../../../lib/env';

const base = {
  DATABASE_URL: 'postgres://lifeboat@127.0.0.1:5432/lifeboat',
  NEXTAUTH_SECRET: 'x'.repeat(40),
  NEXTAUTH_URL: 'http://localhost:3000',
  LIFEBOAT_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
};

function options(extra: Record<string, string>) {
  const { env, problems } = parseEnv({ ...base, ...extra });
  expect(problems).toEqual([]);
  return buildAuthOptions(env!);
}

describe('auth options', () => {
  it('offers only email and password when no OIDC variable is set', () => {
    const o = options({});
    expect(o.providers.map((p) => p.id)).toEqual(['credentials']);
    expect(o.session?.strategy).toBe('jwt');
    expect(o.pages).toEqual({ signIn: '/login', error: '/login' });
  });

  it('adds an OIDC provider from the issuer, client id and secret, with PKCE and state checks', () => {
    const o = options({ OIDC_ISSUER: 'https://login.example.com/realms/ops/', OIDC_CLIENT_ID: 'lifeboat', OIDC_CLIENT_SECRET: 's3cret', OIDC_NAME: 'Company SSO' });
    expect(o.providers.map((p) => p.id)).toEqual(['credentials', 'oidc']);
    const oidc = o.providers[1] as unknown as Record<string, unknown>;
    expect(oidc).toMatchObject({
      name: 'Company SSO',
      type: 'oauth',
      wellKnown: 'https://login.example.com/realms/ops/.well-known/openid-configuration',
      clientId: 'lifeboat',
      clientSecret: 's3cret',
      idToken: true,
      checks: ['pkce', 'state'],
    });
  });

  it('uses Secure (__Secure- prefixed) session cookies exactly when NEXTAUTH_URL is https', () => {
    expect(options({}).useSecureCookies).toBe(false);
    expect(options({ NEXTAUTH_URL: 'https://lifeboat.example.com' }).useSecureCookies).toBe(true);
  });
});
