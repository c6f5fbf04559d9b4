// Test projects: unit (no services), integration (real PostgreSQL clusters), e2e (the built console, a worker, Chromium).
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const alias = { '@': fileURLToPath(new URL('./', import.meta.url)) };

export default defineConfig({
  resolve: { alias },
  test: {
    maxWorkers: 2,
    projects: [
      { resolve: { alias }, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      {
        resolve: { alias },
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/e2e-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 120_000,
          // One browser journey at a time: 2 cores also run the web server, the worker and PostgreSQL.
          fileParallelism: false,
        },
      },
    ],
  },
});
