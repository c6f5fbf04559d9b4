// Sign-in page: email and password, and single sign-on when OIDC is configured.
import { redirect } from 'next/navigation';
import { getSessionUser } from '@/lib/auth/session';
import { getEnv } from '@/lib/env';
import { LoginForm } from './login-form';
import { DatabaseDown } from '@/components/shell/database-down';
import { isDatabaseUnavailable } from '@/lib/errors';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Sign in' };

const oidcErrors: Record<string, string> = {
  OidcUnknownUser: 'Your single sign-on account has no Lifeboat user. Ask an admin to create one with your email.',
  OidcNoEmail: 'Your identity provider did not send an email address, which Lifeboat needs to find your user.',
};

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const params = await searchParams;
  let signedIn;
  try {
    signedIn = await getSessionUser();
  } catch (err) {
    if (isDatabaseUnavailable(err)) return <DatabaseDown />;
    throw err;
  }
  if (signedIn) redirect(safeCallback(params.callbackUrl));
  const env = getEnv();
  const sso = env.OIDC_ISSUER ? env.OIDC_NAME : null;
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <Logo />
          <h1 className="mt-3 text-2xl font-semibold">Sign in to Lifeboat</h1>
          <p className="mt-1 text-sm text-slate-600">Backups, restores and the proof they work.</p>
        </div>
        <LoginForm callbackUrl={safeCallback(params.callbackUrl)} sso={sso} initialError={params.error ? oidcErrors[params.error] ?? null : null} />
      </div>
    </main>
  );
}

/** Only paths inside the console: a sign-in link must not send anyone elsewhere. */
function safeCallback(url: string | undefined): string {
  return url && url.startsWith('/') && !url.startsWith('//') ? url : '/';
}

function Logo() {
  return (
    <svg viewBox="0 0 32 32" className="mx-auto h-10 w-10" aria-hidden>
      <circle cx="16" cy="16" r="13" fill="none" stroke="#0369a1" strokeWidth="5" />
      <circle cx="16" cy="16" r="13" fill="none" stroke="#e11d48" strokeWidth="5" strokeDasharray="10.2 10.2" />
    </svg>
  );
}
