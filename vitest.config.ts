import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The Temporal worker is a native addon: worker threads crash it, forked processes do not.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // The cluster tests kill a real Temporal cluster's processes: `npm run test:cluster` runs them.
    exclude: ['**/node_modules/**', 'test/cluster/**'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    globalSetup: ['test/global-setup.ts'],
  },
});
