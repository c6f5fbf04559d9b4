// route(): the one wrapper for API handlers: same-origin check, session and role, zod parsing, error mapping.
import { NextResponse, type NextRequest } from 'next/server';
import { z } from 'zod';
import { clientAddress, trustedProxies, type TrustedProxies } from './auth/client-address';
import { requireUser, type SessionUser } from './auth/session';
import { getEnv } from './env';
import type { Role } from './auth/roles';
import { toErrorResponse, UserError } from './errors';

type Ctx = { params: Promise<Record<string, string | string[]>> };

interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  role: Role;
  body?: B;
  query?: Q;
  params?: P;
}

interface RouteArgs<B, Q, P> {
  user: SessionUser;
  body: B;
  query: Q;
  params: P;
  req: NextRequest;
  ip: string | null;
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Origins that may send mutating requests: the configured URL and the host the request came to. */
export function isSameOrigin(req: Request): boolean {
  const origin = req.headers.get('origin');
  const fetchSite = req.headers.get('sec-fetch-site');
  if (fetchSite === 'cross-site') return false;
  if (!origin) return true; // browsers always send Origin on cross-site POSTs; a missing one is a non-browser client
  const allowed = new Set<string>();
  if (process.env.NEXTAUTH_URL) allowed.add(new URL(process.env.NEXTAUTH_URL).origin);
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host');
  if (host) {
    const proto = req.headers.get('x-forwarded-proto') ?? new URL(req.url).protocol.replace(':', '');
    allowed.add(`${proto}://${host}`);
  }
  return allowed.has(origin);
}

export function jsonResponse(data: unknown, status = 200): Response {
  // BigInt columns (backup sizes, log ids) travel as numbers when safe, else strings.
  const text = JSON.stringify(data, (_k, v) =>
    typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v,
  );
  return new NextResponse(text, { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
}

export function errorResponse(err: unknown): Response {
  const { status, body } = toErrorResponse(err);
  return jsonResponse(body, status);
}

function zodFields(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.') || '_';
    fields[key] ??= issue.message;
  }
  return fields;
}

/** The path of the first string (or object key) holding a NUL byte, which PostgreSQL text cannot store. */
export function findNul(value: unknown, path: string[] = []): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') || '_' : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], [...path, String(i)]);
      if (found !== null) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      // A key is named with its NUL shown as \0, so the answer stays readable.
      if (k.includes('\u0000')) return [...path, k.replaceAll('\u0000', '\\0')].join('.');
      const found = findNul(v, [...path, k]);
      if (found !== null) return found;
    }
  }
  return null;
}

function refuseNul(value: unknown, where: string): void {
  const field = findNul(value);
  if (field === null) return;
  const message = 'must not contain a NUL byte (\\0)';
  throw new UserError('VALIDATION', `The ${where} is not valid: ${field}: ${message}.`, undefined, { [field]: message });
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  refuseNul(value, where);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = zodFields(result.error);
  const list = Object.entries(fields)
    .map(([k, m]) => `${k}: ${m}`)
    .join('; ');
  throw new UserError('VALIDATION', `The ${where} is not valid: ${list}.`, undefined, fields);
}

/** The client's address: the socket's peer, or X-Forwarded-For only when the peer is in LIFEBOAT_TRUSTED_PROXIES. */
export function clientIp(req: Request, trusted: TrustedProxies = trustedProxies(getEnv().LIFEBOAT_TRUSTED_PROXIES)): string | null {
  return clientAddress((name) => req.headers.get(name), trusted);
}

export function route<
  B extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  P extends z.ZodType = z.ZodUndefined,
>(spec: RouteSpec<B, Q, P>, fn: (args: RouteArgs<z.infer<B>, z.infer<Q>, z.infer<P>>) => Promise<unknown>) {
  return async (req: NextRequest, ctx: Ctx): Promise<Response> => {
    try {
      if (unsafeMethods.has(req.method) && !isSameOrigin(req)) {
        throw new UserError('CROSS_ORIGIN', 'This request came from another site and was refused.');
      }
      const user = await requireUser(spec.role);
      // The address first: a bad id is named even when the body has other problems.
      const params = spec.params ? parseOrThrow(spec.params, await ctx.params, 'address') : undefined;
      const rawQuery = Object.fromEntries(req.nextUrl.searchParams);
      const query = spec.query ? parseOrThrow(spec.query, rawQuery, 'query') : (refuseNul(rawQuery, 'query'), undefined);
      let body: unknown = undefined;
      if (spec.body) {
        let raw: unknown;
        try {
          raw = await req.json();
        } catch {
          throw new UserError('VALIDATION', 'The request body must be JSON.');
        }
        body = parseOrThrow(spec.body, raw, 'request body');
      }
      const result = await fn({
        user,
        body: body as z.infer<B>,
        query: query as z.infer<Q>,
        params: params as z.infer<P>,
        req,
        ip: clientIp(req),
      });
      if (result instanceof Response) return result;
      return jsonResponse(result ?? { ok: true });
    } catch (err) {
      return errorResponse(err);
    }
  };
}
