import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisCluster, startRedisCluster } from '../../../local/redis.ts';
import { createRedisStore } from './connect.ts';
import { StoreUnavailableError } from './errors.ts';
import { boardKeys } from './keys.ts';
import type { RedisBoardStore } from './redis-store.ts';

/*
 * The store on a Redis Cluster of three masters with a replica each (local/redis.ts): each
 * board's keys in one slot, WAIT sent to the master of that slot, and a write refused with
 * StoreUnavailableError while that master is down, taken again once its replica took over.
 */

let cluster: RedisCluster;
let store: RedisBoardStore;
let serial = 0;

beforeAll(async () => {
  cluster = await startRedisCluster({ nodeTimeoutMs: 1_000 });
  store = await createRedisStore({
    url: cluster.url,
    newId: () => `c${serial++}`,
    limits: { maxBoards: 50, maxPlayersPerBoard: 1_000 },
    waitReplicas: 1,
    waitTimeoutMs: 2_000,
    seed: true,
  });
}, 120_000);

afterAll(async () => {
  await store?.close();
  await cluster?.stop();
});

describe('the Redis store on a Cluster', () => {
  it('keeps each board in one slot and waits for its master replica', {
    timeout: 60_000,
  }, async () => {
    expect((await store.boardView('demo', {})).playerCount).toBe(5);
    const boards = [];
    for (let i = 0; i < 6; i++) {
      boards.push(await store.createBoard({ name: `Board ${i}`, order: 'desc' }, new Date()));
    }
    const masters = new Set<number>();
    for (const board of boards) {
      const player = await store.addPlayer(board.id, 'Ada');
      await store.addScore(board.id, player.id, 3);
      const master = await cluster.masterOf(boardKeys(board.id).meta);
      masters.add(master.port);
      expect(await master.command('HGET', boardKeys(board.id).meta, 'version')).toBe('2');
    }
    // Six boards over three masters: more than one node took writes (and WAITs).
    expect(masters.size).toBeGreaterThan(1);
    expect((await store.listBoards()).length).toBe(7);
    expect(await store.counts()).toEqual({ boards: 7, players: 11 });
  });

  it('sends each WAIT to the master of the board slot, which ran the script', {
    timeout: 30_000,
  }, async () => {
    const board = await store.createBoard({ name: 'Waits', order: 'asc' }, new Date());
    const masters = await cluster.masters();
    await Promise.all(masters.map((node) => node.command('CONFIG', 'RESETSTAT')));
    const player = await store.addPlayer(board.id, 'Ken');
    for (let i = 0; i < 4; i++) await store.addScore(board.id, player.id, 1);
    const owner = await cluster.masterOf(boardKeys(board.id).meta);
    for (const node of masters) {
      const stats = String(await node.command('INFO', 'commandstats'));
      const calls = Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      expect([node.port, calls]).toEqual([node.port, node.port === owner.port ? 5 : 0]);
    }
  });

  it('refuses writes while a board master is down, then takes them on the new master', {
    timeout: 90_000,
  }, async () => {
    const board = await store.createBoard({ name: 'Failover', order: 'desc' }, new Date());
    const player = await store.addPlayer(board.id, 'Grace');
    const key = boardKeys(board.id).meta;
    const master = await cluster.masterOf(key);
    await master.kill();
    await expect(store.addScore(board.id, player.id, 1)).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await cluster.waitForFailover(key, master, 60_000);
    // The replica that took over has no replica of its own yet: a write lands there, but WAIT
    // cannot confirm it, so it is refused (503) rather than acknowledged.
    const unconfirmed = await retryWhileUnavailable(() => store.addScore(board.id, player.id, 1), {
      until: (error) => /not on 1 replicas/.test(error.message),
    });
    expect(unconfirmed).toBeInstanceOf(StoreUnavailableError);

    await master.restart();
    const ranked = await retryWhileUnavailable(() => store.addScore(board.id, player.id, 1));
    if (ranked instanceof Error) throw ranked;
    expect((await store.playerView(board.id, player.id)).score).toBe(ranked.score);
    // The restarted node rejoins as the new master's replica; every node learns it a moment later.
    await cluster.waitForOk({ replicasSynced: true, timeoutMs: 30_000 });
    const replica = await cluster.replicas();
    expect(replica.map((node) => node.port)).toContain(master.port);
  });
});

/**
 * Calls `call` until it resolves, or until it fails with a StoreUnavailableError that `until`
 * accepts (then gives that error); waits 200 ms between tries, 30 s at most.
 */
async function retryWhileUnavailable<T>(
  call: () => Promise<T>,
  options: { until?: (error: StoreUnavailableError) => boolean } = {},
): Promise<T | StoreUnavailableError> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const result = await call();
      if (options.until === undefined) return result;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      if (options.until?.(error) === true) return error;
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
