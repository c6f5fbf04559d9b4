// lib/auth/client-address.ts: the client's address is the socket peer; X-Forwarded-For counts only from a trusted proxy.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddress, installPeerStamp, peerHeader, trustedProxies, badTrustedProxies } from '../../../../lib/auth/client-address';

let server: http.Server;
let port = 0;
/** What the server resolved for the last request, per trusted list given in the `x-test-trusted` header. */
beforeAll(async () => {
  installPeerStamp();
  server = http.createServer((req, res) => {
    const get = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : (v ?? null);
    };
    const trusted = trustedProxies(get('x-test-trusted') ?? '');
    res.end(JSON.stringify({ ip: clientAddress(get, trusted) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** One request to the test server from `from` (any 127/8 address works on loopback), with extra headers. */
function ask(from: string, headers: Record<string, string>): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', localAddress: from, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve((JSON.parse(body) as { ip: string | null }).ip));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('clientAddress on a real socket', () => {
  it('with no trusted proxy, is the peer whatever X-Forwarded-For, X-Real-IP or a forged stamp say', async () => {
    expect(await ask('127.0.0.2', {})).toBe('127.0.0.2');
    expect(await ask('127.0.0.2', { 'x-forwarded-for': '203.0.113.9', 'x-real-ip': '203.0.113.8' })).toBe('127.0.0.2');
    expect(await ask('127.0.0.3', { [peerHeader]: 'guess 203.0.113.7', 'x-forwarded-for': '203.0.113.9' })).toBe('127.0.0.3');
  });

  it('from a peer that is not in the list, ignores X-Forwarded-For', async () => {
    expect(await ask('127.0.0.2', { 'x-test-trusted': '127.0.0.1', 'x-forwarded-for': '203.0.113.9' })).toBe('127.0.0.2');
  });

  it('from a trusted proxy (address or CIDR), takes the nearest untrusted hop of X-Forwarded-For', async () => {
    expect(await ask('127.0.0.1', { 'x-test-trusted': '127.0.0.1', 'x-forwarded-for': '203.0.113.9' })).toBe('203.0.113.9');
    expect(await ask('127.0.0.4', { 'x-test-trusted': '127.0.0.0/8', 'x-forwarded-for': '203.0.113.9' })).toBe('203.0.113.9');
    // A client's own forged first hop stays left of what the proxies appended.
    expect(await ask('127.0.0.1', { 'x-test-trusted': '127.0.0.1, 10.0.0.0/8', 'x-forwarded-for': '1.2.3.4, 198.51.100.7, 10.1.2.3' })).toBe('198.51.100.7');
    // Without X-Forwarded-For, X-Real-IP from the proxy; without either, the proxy itself.
    expect(await ask('127.0.0.1', { 'x-test-trusted': '127.0.0.1', 'x-real-ip': '198.51.100.8' })).toBe('198.51.100.8');
    expect(await ask('127.0.0.1', { 'x-test-trusted': '127.0.0.1' })).toBe('127.0.0.1');
    // Garbage in the header stops the walk at the last real address.
    expect(await ask('127.0.0.1', { 'x-test-trusted': '127.0.0.1', 'x-forwarded-for': 'not-an-ip' })).toBe('127.0.0.1');
  });
});

describe('clientAddress without a stamp', () => {
  it('is null (unknown), never the client-sent headers', () => {
    const headers: Record<string, string> = { 'x-forwarded-for': '203.0.113.9', [peerHeader]: 'made-up 203.0.113.9' };
    expect(clientAddress((n) => headers[n], trustedProxies('0.0.0.0/0'))).toBeNull();
  });
});

describe('badTrustedProxies', () => {
  it('accepts addresses and CIDR ranges of both families', () => {
    expect(badTrustedProxies('127.0.0.1, 10.0.0.0/8,::1,fd00::/8')).toEqual([]);
  });
  it('names each entry that is not one', () => {
    expect(badTrustedProxies('127.0.0.1,proxy.local,10.0.0.0/33,1.2.3.4/x')).toEqual(['proxy.local', '10.0.0.0/33', '1.2.3.4/x']);
  });
});
