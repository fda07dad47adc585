import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * The API suites that hold on every store. The unit project runs them on the embedded store; the
 * redis and cluster projects run them again on one Redis node and on a six-node Redis Cluster
 * (each suite starts its origins with `storeUnderTest()`, origin/test-origin.ts).
 */
const STORE_SUITES = [
  'origin/security.test.ts',
  'origin/grip.test.ts',
  'origin/metrics.test.ts',
  'origin/rate-limit.test.ts',
  'origin/backup-client.test.ts',
  'origin/http/admin.test.ts',
  'origin/http/export.test.ts',
  'origin/http/health.test.ts',
  'origin/http/import.test.ts',
  'origin/http/keys.test.ts',
  'origin/http/scores.test.ts',
  'origin/http/seasons.test.ts',
  'origin/http/idempotent-after.test.ts',
];

/** The store suites on Redis: started once per run (test/stores/redis-setup.ts), wiped by each origin. */
function storeProject(store: 'redis' | 'cluster'): TestProjectInlineConfiguration {
  return {
    test: {
      name: store,
      include: STORE_SUITES,
      globalSetup: ['test/stores/redis-setup.ts'],
      provide: { testStore: store },
      // One file at a time: every test origin wipes the project's Redis.
      fileParallelism: false,
      testTimeout: 60_000,
      hookTimeout: 120_000,
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{contract,origin,web,edge,local}/**/*.test.{ts,tsx}'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          // Each file starts real processes (origin, Pushpin, Chromium, Viceroy) on free ports;
          // one file at a time keeps a 2-core machine honest.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      storeProject('redis'),
      storeProject('cluster'),
    ],
  },
});
