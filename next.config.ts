// Next.js configuration: a standalone server the demo starts with `next start`.
import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // pg-boss, pg and argon2 are Node libraries with native or dynamic parts: load them from node_modules.
  serverExternalPackages: ['pg-boss', 'pg', '@node-rs/argon2', '@prisma/adapter-pg'],
  poweredByHeader: false,
  typedRoutes: false,
  // forbidden() renders app/forbidden.tsx with a real 403 status for pages a role may not see.
  experimental: { authInterrupts: true },
  // Pages and the API get these and the Content-Security-Policy from proxy.ts; its matcher skips Next's assets.
  async headers() {
    const headers = [
      { key: 'X-Content-Type-Options', value: 'nosniff' },
      { key: 'Referrer-Policy', value: 'same-origin' },
    ];
    return [
      { source: '/_next/static/:path*', headers },
      { source: '/_next/image', headers },
      { source: '/favicon.ico', headers },
      { source: '/icon.svg', headers },
      { source: '/favicon.svg', headers },
      { source: '/apple-touch-icon.png', headers },
      { source: '/robots.txt', headers },
    ];
  },
};

export default nextConfig;
