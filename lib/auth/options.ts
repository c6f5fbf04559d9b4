// next-auth options: email and password (argon2, throttled in the database), and OIDC when configured.
import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { getDb } from '../db';
import { getEnv, type Env } from '../env';
import { isDatabaseUnavailable } from '../errors';
import { clientAddress, trustedProxies } from './client-address';
import { verifyPassword } from './password';
import { releaseAttempt, reserveAttempt } from './throttle';

export const genericSignInError = 'Email or password is incorrect.';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const databaseDownSignInError =
  'Lifeboat cannot reach its own database, so nobody can sign in right now. Check that its PostgreSQL is running, then try again.';

/** Checks email and password; throws a message next-auth shows on the sign-in page (never a driver's error text). */
export async function authorizeCredentials(
  email: string,
  password: string,
  ip: string | null,
): Promise<{ id: string; email: string; name: string }> {
  try {
    return await checkCredentials(email, password, ip);
  } catch (err) {
    if (err instanceof SignInRefused) throw new Error(err.message);
    if (isDatabaseUnavailable(err)) throw new Error(databaseDownSignInError);
    console.error('[lifeboat] sign-in failed with an unexpected error:', err);
    throw new Error('Sign-in failed because of a server error. Try again; if it persists, an admin can find details in the server log.');
  }
}

/** A refusal whose message is meant for the person signing in. */
class SignInRefused extends Error {}

async function checkCredentials(
  email: string,
  password: string,
  ip: string | null,
): Promise<{ id: string; email: string; name: string }> {
  const db = getDb();
  const normalized = email.trim().toLowerCase();
  // Counted before the check, so parallel guesses cannot all slip under the lock.
  const throttle = await reserveAttempt(db, normalized, ip);
  if (throttle.lockedUntil) {
    const minutes = Math.max(1, Math.ceil((throttle.lockedUntil.getTime() - Date.now()) / 60_000));
    throw new SignInRefused(`Too many failed sign-ins. Sign-in is locked for ${minutes} more minute${minutes === 1 ? '' : 's'}.`);
  }
  if (throttle.delayMs) await sleep(throttle.delayMs);
  const user = await db.user.findUnique({ where: { email: normalized } });
  const ok = await verifyPassword(user?.passwordHash, password);
  // A failure stays counted: it was counted before the check.
  if (!user || !ok || user.disabled) throw new SignInRefused(genericSignInError);
  await releaseAttempt(db, normalized, ip);
  await db.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
  return { id: user.id, email: user.email, name: user.name };
}

export function buildAuthOptions(env: Env = getEnv()): NextAuthOptions {
  const providers: NextAuthOptions['providers'] = [
    CredentialsProvider({
      id: 'credentials',
      name: 'Email and password',
      credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
      async authorize(credentials, req) {
        if (!credentials?.email || !credentials.password) throw new Error(genericSignInError);
        // No account name or password holds a NUL byte, and PostgreSQL text could not even look one up.
        if (credentials.email.includes('\u0000') || credentials.password.includes('\u0000')) throw new Error(genericSignInError);
        // next-auth passes the request's headers as a plain object (lowercase names).
        const headers = (req?.headers ?? {}) as Record<string, unknown>;
        const ip = clientAddress((name) => {
          const v = headers[name];
          return typeof v === 'string' ? v : null;
        }, trustedProxies(env.LIFEBOAT_TRUSTED_PROXIES));
        return authorizeCredentials(credentials.email, credentials.password, ip);
      },
    }),
  ];
  if (env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET) {
    providers.push({
      id: 'oidc',
      name: env.OIDC_NAME,
      type: 'oauth',
      wellKnown: `${env.OIDC_ISSUER.replace(/\/$/, '')}/.well-known/openid-configuration`,
      clientId: env.OIDC_CLIENT_ID,
      clientSecret: env.OIDC_CLIENT_SECRET,
      authorization: { params: { scope: 'openid email profile' } },
      idToken: true,
      checks: ['pkce', 'state'],
      profile(profile: { sub: string; email?: string; name?: string }) {
        return { id: profile.sub, email: profile.email ?? '', name: profile.name ?? profile.email ?? profile.sub };
      },
    });
  }
  return {
    secret: env.NEXTAUTH_SECRET,
    // Secure (and __Secure- prefixed) cookies whenever people open the console over https.
    useSecureCookies: env.NEXTAUTH_URL.startsWith('https://'),
    session: { strategy: 'jwt', maxAge: 12 * 60 * 60 },
    pages: { signIn: '/login', error: '/login' },
    providers,
    callbacks: {
      // OIDC sign-in only for people an admin has created (matched by email), never self-registration.
      async signIn({ user, account }) {
        if (account?.provider !== 'oidc') return true;
        const email = user.email?.trim().toLowerCase();
        if (!email) return '/login?error=OidcNoEmail';
        const known = await getDb().user.findUnique({ where: { email } });
        if (!known || known.disabled) return '/login?error=OidcUnknownUser';
        return true;
      },
      // The token carries only the user id; role and disabled state are read from the database each request.
      async jwt({ token, user, account }) {
        if (user) {
          // When this session signed in (iat is renewed with every refresh): a later password change ends it.
          token.authAt = Date.now();
          if (account?.provider === 'oidc') {
            const known = await getDb().user.findUnique({ where: { email: user.email!.trim().toLowerCase() } });
            token.sub = known?.id;
          } else {
            token.sub = user.id;
          }
        }
        return token;
      },
      async session({ session, token }) {
        return { ...session, userId: token.sub, authAt: token.authAt };
      },
    },
  };
}

let cached: NextAuthOptions | undefined;
export function getAuthOptions(): NextAuthOptions {
  cached ??= buildAuthOptions();
  return cached;
}
