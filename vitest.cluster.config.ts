import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the tests that need the scripted Temporal cluster (PostgreSQL, four
 * service processes, mTLS). Not part of `npm test`: they kill the cluster's processes, so their
 * files run one after another, on a cluster that test/cluster/global-setup.ts brings up.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/cluster/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 1_200_000,
    globalSetup: ['test/cluster/global-setup.ts'],
  },
});
