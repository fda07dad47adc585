import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedisCluster,
  type RedisServer,
  startRedis,
  startRedisCluster,
} from '../local/redis.ts';

// local/redis.ts against Debian's redis-server: a private server keeps what it acknowledged
// through a crash, and a private cluster fails over when a master is killed.

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
