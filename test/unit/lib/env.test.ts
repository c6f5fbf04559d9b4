// lib/env.ts parseEnv: every missing or malformed variable gives one line naming it and what to set; OIDC is all-or-none.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jobTimeouts, parseEnv } from '../../../lib/env';

const valid = {
  DATABASE_URL: 'postgres://lifeboat:secret@127.0.0.1:5432/lifeboat',
  NEXTAUTH_SECRET: 'x'.repeat(32),
  NEXTAUTH_URL: 'http://localhost:3000',
  LIFEBOAT_MASTER_KEY: randomBytes(32).toString('base64'),
};

const required = Object.keys(valid) as (keyof typeof valid)[];

describe('parseEnv', () => {
  it('accepts a valid environment, fills defaults and ignores unrelated variables', () => {
    const { env, problems } = parseEnv({ ...valid, PATH: '/usr/bin', HOME: '/root' });
    expect(problems).toEqual([]);
    expect(env).toEqual({ ...valid, LIFEBOAT_WORKER_POOL: 'default', OIDC_NAME: 'Single sign-on' });
    expect(parseEnv({ ...valid, DATABASE_URL: 'postgresql://u@h/db' }).problems).toEqual([]);
  });

  it.each(required)('names %s when it is missing, and says what to set', (key) => {
    const source: Record<string, string | undefined> = { ...valid };
    delete source[key];
    const { env, problems } = parseEnv(source);
    expect(env).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^Configuration error: ${key} is not set\\. Set ${key} to .+\\(see \\.env\\.example\\)\\.$`));
  });

  it.each(required)('treats an empty %s as missing', (key) => {
    const { problems } = parseEnv({ ...valid, [key]: '' });
    expect(problems).toEqual([expect.stringContaining(`${key} is not set`)]);
  });

  it('reports every missing variable at once, one line each', () => {
    const { problems } = parseEnv({});
    expect(problems).toHaveLength(required.length);
    for (const key of required) expect(problems.filter((p) => p.includes(`: ${key} is not set`))).toHaveLength(1);
  });

  it('the time limits (backup, restore, repair) are whole seconds, at least 60, unset by default', () => {
    const { env } = parseEnv({ ...valid, LIFEBOAT_BACKUP_TIMEOUT_SECONDS: '7200', LIFEBOAT_RESTORE_TIMEOUT_SECONDS: '3600', LIFEBOAT_REPAIR_TIMEOUT_SECONDS: '900' });
    expect(env).toMatchObject({ LIFEBOAT_BACKUP_TIMEOUT_SECONDS: 7200, LIFEBOAT_RESTORE_TIMEOUT_SECONDS: 3600, LIFEBOAT_REPAIR_TIMEOUT_SECONDS: 900 });
    expect(parseEnv(valid).env!.LIFEBOAT_REPAIR_TIMEOUT_SECONDS).toBeUndefined();
    for (const bad of ['59', '600.5', 'six hours']) {
      const { env: none, problems } = parseEnv({ ...valid, LIFEBOAT_REPAIR_TIMEOUT_SECONDS: bad });
      expect(none, bad).toBeUndefined();
      expect(problems, bad).toEqual([expect.stringMatching(/^Configuration error: LIFEBOAT_REPAIR_TIMEOUT_SECONDS .+ Set LIFEBOAT_REPAIR_TIMEOUT_SECONDS to the longest a guided repair/)]);
    }
  });

  it('LIFEBOAT_TRUSTED_PROXIES: unset trusts nobody; addresses and CIDR ranges are kept; a bad entry is named', () => {
    expect(parseEnv(valid).env!.LIFEBOAT_TRUSTED_PROXIES).toBeUndefined();
    expect(parseEnv({ ...valid, LIFEBOAT_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,::1' }).env!.LIFEBOAT_TRUSTED_PROXIES).toBe('127.0.0.1, 10.0.0.0/8,::1');
    const { env, problems } = parseEnv({ ...valid, LIFEBOAT_TRUSTED_PROXIES: '127.0.0.1,nginx,10.0.0.0/40' });
    expect(env).toBeUndefined();
    expect(problems).toEqual([
      'Configuration error: LIFEBOAT_TRUSTED_PROXIES has entries that are not IP addresses or CIDR ranges: "nginx", "10.0.0.0/40". ' +
        'Set LIFEBOAT_TRUSTED_PROXIES to the reverse proxies whose X-Forwarded-For is believed, as comma-separated IP addresses or CIDR ranges ' +
        '(e.g. 127.0.0.1,10.0.0.0/8); leave it unset when browsers connect to Lifeboat directly (see .env.example).',
    ]);
  });

  it.each([
    ['DATABASE_URL', 'mysql://u@h/db', /must start with postgres:\/\/ or postgresql:\/\//, 'e.g. postgres://'],
    ['NEXTAUTH_SECRET', 'short', /must be at least 32 characters/, 'openssl rand -base64 32'],
    // Forgetting the scheme is the usual slip; "console.internal:8443" parses as a URL whose scheme is "console.internal:".
    ['NEXTAUTH_URL', 'console.internal:8443', /must be an? .*URL/, 'e.g. http://localhost:3000'],
    ['NEXTAUTH_URL', 'ftp://files.example.com', /must be an? .*URL/, 'e.g. http://localhost:3000'],
    ['LIFEBOAT_MASTER_KEY', randomBytes(16).toString('base64'), /must be 32 bytes in base64/, 'openssl rand -base64 32'],
    ['LIFEBOAT_WORKER_POOL', 'Pool_One', /must be lowercase letters, digits and dashes/, 'queue suffix'],
    ['OIDC_ISSUER', 'not a url', /must be an? .*URL/, 'issuer'],
  ])('names malformed %s (%s) with the rule and what to set', (key, value, rule, what) => {
    const extra = key === 'OIDC_ISSUER' ? { OIDC_CLIENT_ID: 'id', OIDC_CLIENT_SECRET: 'secret' } : {};
    const { env, problems } = parseEnv({ ...valid, ...extra, [key]: value });
    expect(env).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^Configuration error: ${key} ${rule.source}\\. Set ${key} to `));
    expect(problems[0]).toContain(what);
    // The value itself is never echoed: it may be a secret.
    expect(problems[0]).not.toContain(value);
  });

  describe('OIDC is all or none', () => {
    const oidc = { OIDC_ISSUER: 'https://id.example.com', OIDC_CLIENT_ID: 'lifeboat', OIDC_CLIENT_SECRET: 's3cret' };

    it('accepts none and all three', () => {
      expect(parseEnv(valid).problems).toEqual([]);
      const { env, problems } = parseEnv({ ...valid, ...oidc, OIDC_NAME: 'Company SSO' });
      expect(problems).toEqual([]);
      expect(env).toMatchObject({ ...oidc, OIDC_NAME: 'Company SSO' });
    });

    it.each(Object.keys(oidc))('with only %s set, names each of the other two', (only) => {
      const { env, problems } = parseEnv({ ...valid, [only]: oidc[only as keyof typeof oidc] });
      expect(env).toBeUndefined();
      const others = Object.keys(oidc).filter((k) => k !== only);
      expect(problems).toHaveLength(2);
      for (const key of others) expect(problems.some((p) => p.includes(`Configuration error: ${key} `) && p.includes(`Set ${key} to`))).toBe(true);
    });

    it('with two set, names the third', () => {
      const { problems } = parseEnv({ ...valid, OIDC_ISSUER: oidc.OIDC_ISSUER, OIDC_CLIENT_SECRET: oidc.OIDC_CLIENT_SECRET });
      expect(problems).toEqual([expect.stringContaining('Configuration error: OIDC_CLIENT_ID ')]);
    });

    it('reports a partial OIDC setup together with a missing required variable (not one problem per run)', () => {
      const { DATABASE_URL: _omit, ...rest } = valid;
      const { problems } = parseEnv({ ...rest, OIDC_ISSUER: oidc.OIDC_ISSUER });
      expect(problems.some((p) => p.includes('DATABASE_URL is not set'))).toBe(true);
      expect(problems.some((p) => p.includes('OIDC_CLIENT_ID'))).toBe(true);
      expect(problems.some((p) => p.includes('OIDC_CLIENT_SECRET'))).toBe(true);
      expect(problems).toHaveLength(3);
    });
  });
});

describe('jobTimeouts', () => {
  it('reads the time limits in a process without session secrets (the demo seed enqueues a job before the console has its env)', () => {
    const saved = { ...process.env };
    try {
      for (const k of ['DATABASE_URL', 'NEXTAUTH_SECRET', 'NEXTAUTH_URL', 'LIFEBOAT_MASTER_KEY', 'LIFEBOAT_RESTORE_TIMEOUT_SECONDS', 'LIFEBOAT_REPAIR_TIMEOUT_SECONDS']) delete process.env[k];
      process.env.LIFEBOAT_BACKUP_TIMEOUT_SECONDS = '7200';
      expect(jobTimeouts()).toEqual({ LIFEBOAT_BACKUP_TIMEOUT_SECONDS: 7200 });
    } finally {
      process.env = saved;
    }
  });
});
