import type { TestProject } from 'vitest/node';
import { startRedis, startRedisCluster } from '../../local/redis.ts';

/**
 * Global setup of a store project (vitest.config.ts): starts the Redis its suites run on, one
 * private node or a six-node Cluster, provides its URL to them, and stops it after the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const store = project.getProvidedContext().testStore;
  if (store !== 'redis' && store !== 'cluster') {
    throw new Error(
      `test/stores/redis-setup.ts serves the redis and cluster projects, not ${store}`,
    );
  }
  const redis = store === 'cluster' ? await startRedisCluster() : await startRedis();
  project.provide('redisUrl', redis.url);
  return async () => {
    await redis.stop();
  };
}
