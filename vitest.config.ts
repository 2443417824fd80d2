import { defineConfig } from 'vitest/config';

// Four suites with different costs: pure unit tests, the seeded simulator, real
// processes over ZeroMQ, and a real Chromium against `ivy-cluster serve`. A fifth,
// `packaged`, drives the packaged Electron app (npm run test:packaged; not in npm test).
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'] } },
      { test: { name: 'sim', include: ['test/sim/**/*.test.ts'], testTimeout: 600_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'packaged',
          include: ['test/packaged/**/*.test.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
