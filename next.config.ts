// Next.js configuration: a standalone server the demo starts with `next start`.
import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // pg-boss, pg and argon2 are Node libraries with native or dynamic parts: load them from node_modules.
  serverExternalPackages: ['pg-boss', 'pg', '@node-rs/argon2', '@prisma/adapter-pg'],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
