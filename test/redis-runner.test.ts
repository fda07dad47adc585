import { existsSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiPaths } from '../contract/paths.ts';
import {
  type RedisCluster,
  type RedisServer,
  startRedis,
  startRedisCluster,
} from '../local/redis.ts';
import { startStack } from '../local/stack.ts';
import { type Stack, startTestStack } from './harness/stack.ts';

// local/redis.ts against Debian's redis-server: a private server keeps what it acknowledged
// through a crash, and a private cluster fails over when a master is killed. Then local/stack.ts
// with Redis and several origins behind Pushpin: what each origin is given and how Pushpin
// reaches them, whatever the origin does with REDIS_URL.

describe('a private redis-server', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('listens on its own loopback port, in its own dir', () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(existsSync(redis.configFile)).toBe(true);
    expect(redis.running()).toBe(true);
  });

  it('keeps an acknowledged write through kill -9 (appendfsync always)', async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await client.connect();
      expect(await client.set('{board:a}:crash', 'kept')).toBe('OK');
    } finally {
      client.disconnect();
    }
    const exit = await redis.kill();
    expect(exit.signal).toBe('SIGKILL');
    expect(redis.running()).toBe(false);

    await redis.restart();
    expect(redis.running()).toBe(true);
    expect(await redis.command('GET', '{board:a}:crash')).toBe('kept');
  });

  it('keeps it through a graceful restart too', async () => {
    await redis.command('SET', 'graceful', '1');
    await redis.restart();
    expect(await redis.command('GET', 'graceful')).toBe('1');
  });

  it('removes its temporary dir when stopped', async () => {
    const other = await startRedis();
    expect(existsSync(other.dir)).toBe(true);
    await other.stop();
    expect(other.running()).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
    await expect(other.restart()).rejects.toThrow(/stopped for good/);
  });
});

describe('a private Redis Cluster', () => {
  let cluster: RedisCluster;
  let startMs = 0;

  beforeAll(async () => {
    const started = Date.now();
    cluster = await startRedisCluster({ nodeTimeoutMs: 2_000 });
    startMs = Date.now() - started;
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('has three masters with a replica each, every slot served', async () => {
    expect(cluster.nodes).toHaveLength(6);
    expect(cluster.url.split(',')).toEqual(cluster.urls);
    const masters = await cluster.masters();
    const replicas = await cluster.replicas();
    expect(masters).toHaveLength(3);
    expect(replicas).toHaveLength(3);
    expect(new Set([...masters, ...replicas]).size).toBe(6);
    const view = await cluster.topology();
    const masterIds = new Set(view.filter((n) => n.role === 'master').map((n) => n.id));
    for (const replica of view.filter((n) => n.role === 'replica')) {
      expect(masterIds.has(replica.masterId ?? '')).toBe(true);
    }
    const served = view.flatMap((n) => n.slots).reduce((sum, [from, to]) => sum + to - from + 1, 0);
    expect(served).toBe(16_384);
    console.log(`Redis Cluster of 6 started and in sync in ${startMs} ms`);
  });

  it("puts each board's keys in one slot, and boards on different masters", async () => {
    expect(await cluster.keySlot('{board:a}')).toBe(await cluster.keySlot('{board:a}:players'));
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const masters = await Promise.all(ids.map((id) => cluster.masterOf(`{board:${id}}`)));
    expect(new Set(masters).size).toBeGreaterThan(1);
  });

  it('fails over to the replica when a master is killed, with what was replicated', async () => {
    const key = '{board:a}';
    const master = await cluster.masterOf(key);
    expect(await master.command('SET', `${key}:kept`, 'yes')).toBe('OK');
    // Replication is asynchronous: WAIT until the replica has it, as the store may for a write.
    expect(await master.command('WAIT', '1', '5000')).toBe(1);

    await master.kill();
    const killedAt = Date.now();
    const next = await cluster.waitForFailover(key, master, 30_000);
    const failoverMs = Date.now() - killedAt;
    console.log(`Redis Cluster failover of ${key}: ${failoverMs} ms (cluster-node-timeout 2000)`);

    expect(next).not.toBe(master);
    expect(await cluster.masterOf(key)).toBe(next);
    expect(await next.command('GET', `${key}:kept`)).toBe('yes');
    expect(await cluster.masters()).toHaveLength(3);
  });

  it('takes the killed master back as a replica when it restarts', async () => {
    const dead = cluster.nodes.find((node) => !node.running());
    if (dead === undefined) throw new Error('no node was killed');
    await dead.restart();
    await cluster.waitForOk({ replicasSynced: true, timeoutMs: 30_000 });
    expect(await cluster.replicas()).toContain(dead);
  });
});

// The origin's environment as the kernel holds it (Linux): what `REDIS_URL` it was given.
function environOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return new Map(
    entries
      .filter((e) => e.includes('='))
      .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
}

async function healthThroughPushpin(stack: Stack, route?: string): Promise<number> {
  const response = await fetch(new URL(apiPaths.health(), stack.urls.pushpin), {
    headers: route === undefined ? {} : { 'Pushpin-Route': route },
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  return response.status;
}

const linux = existsSync('/proc/self/environ');

describe('a stack with a private Redis and two origins', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startTestStack({ redis: true, origins: 2 });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('runs both origins on their own ports, sharing one Redis', () => {
    expect(stack.origins).toHaveLength(2);
    expect(stack.urls.origins).toEqual(stack.origins.map((origin) => origin.url));
    expect(stack.urls.origin).toBe(stack.urls.origins[0]);
    expect(stack.ports.origins).toEqual([stack.ports.origin, stack.origins[1]?.port]);
    expect(stack.redis?.kind).toBe('server');
    expect(stack.urls.redis).toBe(stack.redis?.url);
    expect(stack.services()).toContain(stack.redis);
  });

  it.runIf(linux)('gives each origin REDIS_URL and a port of its own', () => {
    for (const origin of stack.origins) {
      const env = environOf(origin.service()?.pid ?? -1);
      expect(env.get('REDIS_URL')).toBe(stack.urls.redis);
      expect(env.get('PORT')).toBe(String(origin.port));
    }
  });

  it('reaches each origin through Pushpin, by its own route', async () => {
    expect(await healthThroughPushpin(stack)).toBe(200);
    expect(await healthThroughPushpin(stack, 'origin-0')).toBe(200);
    expect(await healthThroughPushpin(stack, 'origin-1')).toBe(200);
  });

  it('keeps answering through Pushpin when the first origin is killed, and takes it back', async () => {
    const [first, second] = stack.origins;
    if (first === undefined || second === undefined) throw new Error('two origins expected');
    await first.kill();
    expect(first.running()).toBe(false);
    expect(first.service()?.exit()?.signal).toBe('SIGKILL');
    // The connection to the first is refused: Pushpin tries the next target at once.
    expect(await healthThroughPushpin(stack)).toBe(200);
    expect(await healthThroughPushpin(stack, 'origin-0')).toBe(502);

    await first.restart();
    expect(first.running()).toBe(true);
    expect(await healthThroughPushpin(stack, 'origin-0')).toBe(200);

    await second.kill();
    expect(await healthThroughPushpin(stack)).toBe(200);
    await expect(second.start()).resolves.toBeUndefined();
    await expect(second.start()).rejects.toThrow(/origin-1 is still running/);
  });

  it('survives a Redis crash: same URL after restart', async () => {
    const redis = stack.redis;
    if (redis?.kind !== 'server') throw new Error('a private redis-server expected');
    await redis.command('SET', 'stack:key', 'kept');
    await redis.kill();
    await redis.restart();
    expect(await redis.command('GET', 'stack:key')).toBe('kept');
  });
});

describe('a stack with a private Redis Cluster', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startTestStack({ redis: { cluster: true } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it("gives the origin the cluster's six seed URLs", () => {
    if (stack.redis?.kind !== 'cluster') throw new Error('a private cluster expected');
    expect(stack.urls.redis?.split(',')).toEqual(stack.redis.urls);
    expect(stack.urls.redis?.split(',')).toHaveLength(6);
    if (linux) {
      const env = environOf(stack.origin()?.pid ?? -1);
      expect(env.get('REDIS_URL')).toBe(stack.urls.redis);
    }
  });

  it('stops every node with the stack', async () => {
    if (stack.redis?.kind !== 'cluster') throw new Error('a private cluster expected');
    const nodes = stack.redis.nodes;
    expect(nodes.every((node) => node.running())).toBe(true);
    await stack.stop();
    expect(nodes.some((node) => node.running())).toBe(false);
  });
});

describe('a stack without Redis', () => {
  it('refuses several origins: each would keep boards of its own', async () => {
    await expect(startStack({ origins: 2 })).rejects.toThrow(/2 origins need redis/);
    await expect(startStack({ origins: 0 })).rejects.toThrow(/whole number from 1/);
  });

  it.runIf(linux)('does not pass on a REDIS_URL of this process to the origin', async () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = 'redis://127.0.0.1:1';
    let stack: Stack | undefined;
    try {
      stack = await startTestStack();
      expect(stack.urls.redis).toBeUndefined();
      expect(environOf(stack.origin()?.pid ?? -1).has('REDIS_URL')).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
      await stack?.stop();
    }
  });
});
