// The root layout: fonts from the system (no network at build), global styles, client providers.
import type { Metadata } from 'next';
import { connection } from 'next/server';
import './globals.css';
import { Providers } from './providers';

export const metadata: Metadata = {
  title: { default: 'Lifeboat', template: '%s · Lifeboat' },
  description: 'Backups, restores and the evidence that your PostgreSQL databases are recoverable.',
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Rendered per request, so Next can put proxy.ts's per-request CSP nonce on its scripts (a page built ahead
  // of time would carry none, and the browser would refuse to run it).
  await connection();
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
