// lib/audit/write-audit.ts scrubSecrets: secret-looking fields are removed at any depth, in objects and arrays.
import { describe, expect, it } from 'vitest';
import { scrubSecrets } from '../../../../lib/audit/write-audit';

describe('scrubSecrets', () => {
  it('replaces secret-looking keys at the top level and keeps the rest', () => {
    expect(
      scrubSecrets({ email: 'a@b.c', role: 'admin', password: 'hunter2hunter2', passwordHash: '$argon2id$...', token: 't', apiKey: 'k', clientSecret: 's', Authorization: 'Bearer x', cookie: 'c', credentials: { u: 1 }, pass: 'p' }),
    ).toEqual({
      email: 'a@b.c',
      role: 'admin',
      password: '[removed]',
      passwordHash: '[removed]',
      token: '[removed]',
      apiKey: '[removed]',
      clientSecret: '[removed]',
      Authorization: '[removed]',
      cookie: '[removed]',
      credentials: '[removed]',
      pass: '[removed]',
    });
  });

  it('scrubs nested objects and objects inside arrays', () => {
    const input = {
      target: { name: 'prod', connection: { host: 'db', port: 5432, user: 'backup', password: 'pw' } },
      storages: [
        { kind: 's3', bucket: 'b', accessKeyId: 'AKIA', secretAccessKey: 'sk' },
        { kind: 'local', path: '/srv' },
      ],
      matrix: [[{ token: 'deep' }], ['plain', 1, null]],
    };
    const copy = structuredClone(input);
    expect(scrubSecrets(input)).toEqual({
      target: { name: 'prod', connection: { host: 'db', port: 5432, user: 'backup', password: '[removed]' } },
      storages: [
        { kind: 's3', bucket: 'b', accessKeyId: '[removed]', secretAccessKey: '[removed]' },
        { kind: 'local', path: '/srv' },
      ],
      matrix: [[{ token: '[removed]' }], ['plain', 1, null]],
    });
    // The caller's object is left alone.
    expect(input).toEqual(copy);
  });

  it('removes a secret field whole, even when its value is an object', () => {
    expect(scrubSecrets({ secret: { value: 'x', note: 'y' } })).toEqual({ secret: '[removed]' });
  });

  it('passes primitives and null through', () => {
    for (const v of ['text', 42, true, null, undefined]) expect(scrubSecrets(v)).toBe(v);
    expect(scrubSecrets(['password', 'x'])).toEqual(['password', 'x']);
  });

  it('keeps a Date value as a timestamp (not an empty object)', () => {
    const at = new Date('2026-01-02T03:04:05.000Z');
    expect(JSON.parse(JSON.stringify(scrubSecrets({ at, nested: [{ at }] })))).toEqual({ at: at.toISOString(), nested: [{ at: at.toISOString() }] });
  });
});
