// next-auth's own endpoints (sign-in, sign-out, session, OIDC callback); options are built at first use, after env checks.
import NextAuth from 'next-auth';
import { getAuthOptions } from '@/lib/auth/options';

type Ctx = { params: Promise<{ nextauth: string[] }> };

async function handler(req: Request, ctx: Ctx): Promise<Response> {
  return NextAuth(getAuthOptions())(req, ctx);
}

export { handler as GET, handler as POST };
