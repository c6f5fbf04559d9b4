// The first gate: signed-out requests get 401 JSON on /api and a redirect to sign-in on pages; other sites may not
// send mutating requests. Role checks happen in route() and the console layout, against the database.
// Every answer gets the security headers here, with a Content-Security-Policy whose script nonce is new each request
// (Next reads it from the request's CSP header and puts it on its own scripts; pages are rendered per request).
import { NextResponse, type NextRequest } from 'next/server';
import { getToken } from 'next-auth/jwt';

const publicApi = ['/api/auth/', '/api/health'];
const unsafe = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function json(status: number, code: string, message: string, hint: string) {
  return NextResponse.json({ error: { code, message, hint } }, { status });
}

function crossOrigin(req: NextRequest): boolean {
  if (req.headers.get('sec-fetch-site') === 'cross-site') return true;
  const origin = req.headers.get('origin');
  if (!origin) return false;
  const allowed = new Set([req.nextUrl.origin]);
  if (process.env.NEXTAUTH_URL) allowed.add(new URL(process.env.NEXTAUTH_URL).origin);
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host');
  if (host) allowed.add(`${req.headers.get('x-forwarded-proto') ?? req.nextUrl.protocol.replace(':', '')}://${host}`);
  return !allowed.has(origin);
}

/** The policy for one answer: scripts only with its nonce ('strict-dynamic' lets Next's loader add its chunks). */
export function contentSecurityPolicy(nonce: string): string {
  const https = process.env.NEXTAUTH_URL?.startsWith('https://') ?? false;
  // OIDC sign-in leaves for the identity provider; nothing else leaves this origin.
  const idp = process.env.OIDC_ISSUER ? ` ${new URL(process.env.OIDC_ISSUER).origin}` : '';
  return [
    "default-src 'self'",
    // React in development evaluates code for its error overlay; production never does.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${process.env.NODE_ENV === 'development' ? " 'unsafe-eval'" : ''}`,
    // Inline style attributes (progress bars, charts) are data-driven; a nonce cannot cover attributes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    `form-action 'self'${idp}`,
    "frame-ancestors 'none'",
    ...(https ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
}

function withHeaders(res: NextResponse, csp: string): NextResponse {
  res.headers.set('Content-Security-Policy', csp);
  res.headers.set('X-Frame-Options', 'DENY');
  res.headers.set('X-Content-Type-Options', 'nosniff');
  res.headers.set('Referrer-Policy', 'same-origin');
  return res;
}

export async function proxy(req: NextRequest) {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64');
  const csp = contentSecurityPolicy(nonce);
  const requestHeaders = new Headers(req.headers);
  requestHeaders.set('content-security-policy', csp);
  const pass = () => withHeaders(NextResponse.next({ request: { headers: requestHeaders } }), csp);

  const { pathname } = req.nextUrl;
  const isApi = pathname.startsWith('/api/') || pathname === '/api';
  if (isApi && unsafe.has(req.method) && crossOrigin(req)) {
    return withHeaders(json(403, 'CROSS_ORIGIN', 'This request came from another site and was refused.', 'Use the console itself; requests from other sites are refused.'), csp);
  }
  if (publicApi.some((p) => pathname === p || pathname.startsWith(p))) return pass();
  if (pathname === '/login') return pass();
  const token = await getToken({ req, secret: process.env.NEXTAUTH_SECRET });
  if (token?.sub) return pass();
  if (isApi) return withHeaders(json(401, 'UNAUTHENTICATED', 'You are not signed in.', 'Sign in and try again.'), csp);
  const login = new URL('/login', req.url);
  if (pathname !== '/') login.searchParams.set('callbackUrl', pathname + req.nextUrl.search);
  return withHeaders(NextResponse.redirect(login), csp);
}

export const config = {
  // Everything but Next's own assets and public/ (signed-out browsers and crawlers fetch icons and robots.txt;
  // next.config.ts gives all of these nosniff and a referrer policy).
  matcher: ['/((?!_next/static|_next/image|favicon.ico|favicon.svg|icon.svg|apple-touch-icon.png|robots.txt).*)'],
};
