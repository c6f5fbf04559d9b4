// The first gate: signed-out requests get 401 JSON on /api and a redirect to sign-in on pages; other sites may not
// send mutating requests. Role checks happen in route() and the console layout, against the database.
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

export async function proxy(req: NextRequest) {
  const { pathname } = req.nextUrl;
  const isApi = pathname.startsWith('/api/') || pathname === '/api';
  if (isApi && unsafe.has(req.method) && crossOrigin(req)) {
    return json(403, 'CROSS_ORIGIN', 'This request came from another site and was refused.', 'Use the console itself; requests from other sites are refused.');
  }
  if (publicApi.some((p) => pathname === p || pathname.startsWith(p))) return NextResponse.next();
  if (pathname === '/login') return NextResponse.next();
  const token = await getToken({ req, secret: process.env.NEXTAUTH_SECRET });
  if (token?.sub) return NextResponse.next();
  if (isApi) return json(401, 'UNAUTHENTICATED', 'You are not signed in.', 'Sign in and try again.');
  const login = new URL('/login', req.url);
  if (pathname !== '/') login.searchParams.set('callbackUrl', pathname + req.nextUrl.search);
  return NextResponse.redirect(login);
}

export const config = {
  // Everything but Next's own assets and public/ (icons and robots.txt are for signed-out browsers and crawlers too).
  matcher: ['/((?!_next/static|_next/image|favicon.ico|favicon.svg|icon.svg|apple-touch-icon.png|robots.txt).*)'],
};
