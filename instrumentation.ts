// Runs once when the console server starts: a bad environment stops it here with one line per problem.
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { getEnv } = await import('./lib/env');
  getEnv();
  // Route handlers get no socket: stamp each request with its peer address (lib/auth/client-address.ts).
  const { installPeerStamp } = await import('./lib/auth/client-address');
  installPeerStamp();
}
