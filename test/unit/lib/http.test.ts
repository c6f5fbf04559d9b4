// lib/http.ts isSameOrigin: mutating requests only from the console's own origin (NEXTAUTH_URL or the Host it was sent to).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSameOrigin, jsonResponse } from '../../../lib/http';

const saved = process.env.NEXTAUTH_URL;
beforeEach(() => {
  process.env.NEXTAUTH_URL = 'https://lifeboat.example.com';
});
afterEach(() => {
  if (saved === undefined) delete process.env.NEXTAUTH_URL;
  else process.env.NEXTAUTH_URL = saved;
});

function post(url: string, headers: Record<string, string>): Request {
  return new Request(url, { method: 'POST', headers });
}

describe('isSameOrigin', () => {
  it.each([
    ['no Origin (curl, scripts)', 'https://lifeboat.example.com/api/jobs', {}],
    ['Origin equal to NEXTAUTH_URL', 'https://lifeboat.example.com/api/jobs', { origin: 'https://lifeboat.example.com', 'sec-fetch-site': 'same-origin' }],
    ['Origin equal to the Host the request came to', 'http://127.0.0.1:3000/api/jobs', { origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000' }],
    ['Origin equal to the forwarded host and proto', 'http://10.0.0.5:3000/api/jobs', { origin: 'https://backup.internal', host: '10.0.0.5:3000', 'x-forwarded-host': 'backup.internal', 'x-forwarded-proto': 'https' }],
    ['Sec-Fetch-Site same-origin without Origin', 'https://lifeboat.example.com/api/jobs', { 'sec-fetch-site': 'same-origin' }],
  ])('allows %s', (_what, url, headers) => {
    expect(isSameOrigin(post(url, headers))).toBe(true);
  });

  it.each([
    ['Sec-Fetch-Site cross-site, even with a matching Origin', 'https://lifeboat.example.com/api/jobs', { origin: 'https://lifeboat.example.com', 'sec-fetch-site': 'cross-site' }],
    ['another site', 'https://lifeboat.example.com/api/jobs', { origin: 'https://evil.example', host: 'lifeboat.example.com' }],
    ['a sibling subdomain (same-site)', 'https://lifeboat.example.com/api/jobs', { origin: 'https://blog.example.com', host: 'lifeboat.example.com', 'sec-fetch-site': 'same-site' }],
    ['the right host on another port', 'http://127.0.0.1:3000/api/jobs', { origin: 'http://127.0.0.1:4000', host: '127.0.0.1:3000' }],
    ['the right host with another scheme', 'https://lifeboat.example.com/api/jobs', { origin: 'http://lifeboat.example.com', host: 'lifeboat.example.com' }],
    ['Origin "null" (sandboxed iframe, file://)', 'https://lifeboat.example.com/api/jobs', { origin: 'null', host: 'lifeboat.example.com' }],
    ['a look-alike with the allowed origin as prefix', 'https://lifeboat.example.com/api/jobs', { origin: 'https://lifeboat.example.com.evil.example', host: 'lifeboat.example.com' }],
  ])('refuses %s', (_what, url, headers) => {
    expect(isSameOrigin(post(url, headers))).toBe(false);
  });

  it('uses only the origin part of NEXTAUTH_URL (a path or trailing slash does not matter)', () => {
    process.env.NEXTAUTH_URL = 'https://tools.example.com/lifeboat/';
    expect(isSameOrigin(post('http://10.0.0.5:3000/api/jobs', { origin: 'https://tools.example.com', host: '10.0.0.5:3000' }))).toBe(true);
  });

  it('without NEXTAUTH_URL and without a Host, refuses any Origin', () => {
    delete process.env.NEXTAUTH_URL;
    expect(isSameOrigin(post('https://lifeboat.example.com/api/jobs', { origin: 'https://lifeboat.example.com' }))).toBe(false);
  });
});

describe('jsonResponse', () => {
  it('sends BigInt as a number when safe and as a string when not', async () => {
    const res = jsonResponse({ small: 42n, big: 2n ** 60n }, 201);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.text()).toBe('{"small":42,"big":"1152921504606846976"}');
  });
});

describe('findNul', () => {
  it('names the first string or key holding a NUL byte by its path', async () => {
    const { findNul } = await import('../../../lib/http');
    expect(findNul({ a: 'ok', b: ['x', 'y\u0000'] })).toBe('b.1');
    expect(findNul({ destination: { database: '\u0000' } })).toBe('destination.database');
    expect(findNul({ ['k\u0000']: 1 })).toBe('k\\0');
    expect(findNul('\u0000')).toBe('_');
    expect(findNul({ a: 'fine', n: 1, z: null, t: true })).toBeNull();
  });
});
