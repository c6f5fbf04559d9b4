// Next.js configuration: a standalone server the demo starts with `next start`.
import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // pg-boss, pg and argon2 are Node libraries with native or dynamic parts: load them from node_modules.
  serverExternalPackages: ['pg-boss', 'pg', '@node-rs/argon2', '@prisma/adapter-pg'],
  poweredByHeader: false,
  typedRoutes: false,
  // forbidden() renders app/forbidden.tsx with a real 403 status for pages a role may not see.
  experimental: { authInterrupts: true },
};

export default nextConfig;
