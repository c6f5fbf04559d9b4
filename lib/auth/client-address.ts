// The address a request came from: the TCP peer, or what a trusted proxy (LIFEBOAT_TRUSTED_PROXIES) forwarded.
// Next 16 hands route handlers no socket, and fills X-Forwarded-For with the peer only when the client sent none,
// so a client could name any address. The server process stamps each request with its peer address instead
// (installPeerStamp, from instrumentation.ts), under a per-process token a client cannot know.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';

export const peerHeader = 'x-lifeboat-peer';
const tokenKey = Symbol.for('lifeboat.peerStampToken');
type Holder = { [tokenKey]?: string };

/** The entries that are not an IP address or a CIDR range; empty when the list is good. */
export function badTrustedProxies(list: string): string[] {
  return splitList(list).filter((entry) => !parseEntry(entry));
}

function splitList(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function parseEntry(entry: string): { address: string; prefix?: number; type: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, ...rest] = entry.split('/');
  const version = isIP(address);
  if (!version || rest.length) return null;
  const type = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, type };
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > (version === 4 ? 32 : 128)) return null;
  return { address, prefix, type };
}

export interface TrustedProxies {
  has(address: string): boolean;
}

const parsedLists = new Map<string, TrustedProxies>();

/** The trusted proxies of a (validated) comma-separated list; an empty or missing list trusts nobody. */
export function trustedProxies(list: string | undefined): TrustedProxies {
  const key = list ?? '';
  let found = parsedLists.get(key);
  if (!found) {
    const block = new BlockList();
    for (const entry of splitList(key)) {
      const parsed = parseEntry(entry);
      if (!parsed) continue; // lib/env.ts refuses such a list before this runs
      if (parsed.prefix === undefined) block.addAddress(parsed.address, parsed.type);
      else block.addSubnet(parsed.address, parsed.prefix, parsed.type);
    }
    found = {
      has: (address) => {
        const version = isIP(address);
        return version !== 0 && block.check(address, version === 4 ? 'ipv4' : 'ipv6');
      },
    };
    parsedLists.set(key, found);
  }
  return found;
}

/** "::ffff:10.0.0.1" (IPv4 on a dual-stack socket) as "10.0.0.1"; anything that is not an address as null. */
function normalize(address: string | undefined | null): string | null {
  if (!address) return null;
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) a = mapped[1]!;
  return isIP(a) ? a : null;
}

/** Makes this process stamp every HTTP request with its socket's peer address, replacing any the client sent. */
export function installPeerStamp(): void {
  const holder = globalThis as Holder;
  if (holder[tokenKey]) return;
  const token = randomBytes(16).toString('hex');
  holder[tokenKey] = token;
  for (const proto of [http.Server.prototype, https.Server.prototype] as { emit: (...a: unknown[]) => boolean }[]) {
    const original = proto.emit;
    proto.emit = function emit(this: unknown, event: unknown, ...args: unknown[]) {
      if (event === 'request') {
        const req = args[0] as http.IncomingMessage;
        req.headers[peerHeader] = `${token} ${req.socket?.remoteAddress ?? ''}`;
      }
      return original.call(this, event, ...args);
    };
  }
}

/** The stamped peer address, or null when this request was not stamped by this process. */
export function peerAddress(header: string | null | undefined): string | null {
  const token = (globalThis as Holder)[tokenKey];
  if (!token || !header) return null;
  const [got, address] = header.split(' ');
  return got === token ? normalize(address) : null;
}

/**
 * The client's address: the peer, unless the peer is a trusted proxy; then X-Forwarded-For read from the right,
 * skipping trusted proxies (each proxy appends the address it saw), or X-Real-IP. Null when the peer is unknown.
 */
export function clientAddress(get: (name: string) => string | null | undefined, trusted: TrustedProxies): string | null {
  const peer = peerAddress(get(peerHeader));
  if (!peer || !trusted.has(peer)) return peer;
  const hops = (get('x-forwarded-for') ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalize(hops[i]);
    if (!hop) break; // garbage from before the first trusted proxy: stop at the last good address
    client = hop;
    if (!trusted.has(hop)) return hop;
  }
  if (hops.length === 0) return normalize(get('x-real-ip')) ?? peer;
  return client;
}
