import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../local/redis.ts';
import { emptyDatabase } from '../domain/board.ts';
import { BoardError } from '../domain/errors.ts';
import { IDEMPOTENCY_TTL_MS } from '../domain/idempotency.ts';
import type { BoardStore } from './board-store.ts';
import { EmbeddedBoardStore } from './embedded.ts';
import type { IdempotentRequest } from './idempotency.ts';
import { RedisBoardStore } from './redis/redis-store.ts';
import { fileStore } from './store.ts';

/*
 * Idempotent writes through the store interface, the same tests on both stores: a retry answers
 * what the first did and changes nothing, another request under the key is refused, an answer
 * expires after a day, and a retry after a restart (the file reopened, a new Redis connection) is
 * still recognised.
 */

const limits = { maxBoards: 100, maxPlayersPerBoard: 1000 };
const start = Date.parse('2030-01-01T00:00:00Z');

interface Harness {
  store: BoardStore;
  /** The clock both the store and its reopened self read. */
  clock: { now: number };
  /** The store as a restarted origin finds it. */
  reopen(): Promise<BoardStore>;
}

function counter(prefix: string) {
  let n = 0;
  return () => `${prefix}${++n}`;
}

async function embedded(): Promise<Harness> {
  const path = join(await mkdtemp(join(tmpdir(), 'idempotency-')), 'data.json');
  const clock = { now: start };
  const newId = counter('e');
  const open = async () => {
    const file = await fileStore(path, emptyDatabase);
    return new EmbeddedBoardStore({ store: file, limits, newId, now: () => clock.now });
  };
  const first = await open();
  return {
    store: first,
    clock,
    reopen: async () => {
      await first.close();
      return open();
    },
  };
}

let redis: RedisServer;
const clients: Redis[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis.stop();
});

async function onRedis(): Promise<Harness> {
  const clock = { now: start };
  const newId = counter(`r${clients.length}x`);
  const open = () => {
    const client = new Redis(redis.url);
    clients.push(client);
    return new RedisBoardStore(client, { newId, limits, clock: () => clock.now });
  };
  return { store: open(), clock, reopen: async () => open() };
}

const request = (key: string, fingerprint = 'f1', status = 200): IdempotentRequest => ({
  scope: 'admin',
  key,
  fingerprint,
  status,
});

describe.each([
  ['embedded', embedded],
  ['redis', onRedis],
])('idempotent writes on the %s store', (_kind, harness) => {
  async function boardWithPlayer(store: BoardStore) {
    const board = await store.createBoard({ name: 'B', order: 'desc' }, new Date(start));
    const player = await store.addPlayer(board.id, 'Ada');
    return { boardId: board.id, playerId: player.id };
  }

  it('answers a retry with the first answer and changes nothing', async () => {
    const { store } = await harness();
    const { boardId, playerId } = await boardWithPlayer(store);
    const plusOne = () => store.addScore(boardId, playerId, 1);
    const first = await store.idempotent(request('k1'), plusOne);
    expect(first).toMatchObject({ replayed: false, result: { score: 1 } });
    const again = await store.idempotent(request('k1'), plusOne);
    expect(again.replayed).toBe(true);
    if (!again.replayed || first.replayed) return;
    expect(JSON.parse(again.body)).toEqual(first.result);
    expect(again.status).toBe(200);
    expect((await store.playerView(boardId, playerId)).score).toBe(1);
  });

  it('refuses the key with another request, and keeps scopes apart', async () => {
    const { store } = await harness();
    const { boardId, playerId } = await boardWithPlayer(store);
    await store.idempotent(request('k2', 'a'), () => store.addScore(boardId, playerId, 1));
    const refusal = await store
      .idempotent(request('k2', 'b'), () => store.addScore(boardId, playerId, 1))
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(BoardError);
    expect((refusal as BoardError).kind).toBe('idempotency_key_reused');
    const other = { ...request('k2', 'b'), scope: 'key:someone' };
    const fresh = await store.idempotent(other, () => store.addScore(boardId, playerId, 1));
    expect(fresh).toMatchObject({ replayed: false, result: { score: 2 } });
  });

  it('forgets an answer after a day', async () => {
    const { store, clock } = await harness();
    const { boardId, playerId } = await boardWithPlayer(store);
    await store.idempotent(request('k3'), () => store.addScore(boardId, playerId, 1));
    clock.now += IDEMPOTENCY_TTL_MS - 1;
    const replay = await store.idempotent(request('k3'), () =>
      store.addScore(boardId, playerId, 1),
    );
    expect(replay.replayed).toBe(true);
    clock.now += 1;
    const late = await store.idempotent(request('k3'), () => store.addScore(boardId, playerId, 1));
    expect(late).toMatchObject({ replayed: false, result: { score: 2 } });
  });

  it('recognises a retry after a restart', async () => {
    const h = await harness();
    const { boardId, playerId } = await boardWithPlayer(h.store);
    const entries = [
      { playerId, score: 1_000_000_000_000 - 1 },
      { externalKey: 'steam:9007199254740993', name: 'Big', score: -5 },
    ];
    const first = await h.store.idempotent(request('k4'), () =>
      h.store.submitScores(boardId, entries),
    );
    const created = await h.store.idempotent(request('k5', 'c', 201), () =>
      h.store.createBoard({ name: 'Made once', order: 'asc' }, new Date(start)),
    );
    const removed = await h.store.idempotent(request('k6', 'd', 204), () =>
      h.store.removePlayer(boardId, playerId),
    );
    const store = await h.reopen();
    const again = await store.idempotent(request('k4'), () => store.submitScores(boardId, entries));
    expect(again.replayed).toBe(true);
    if (again.replayed && !first.replayed) expect(JSON.parse(again.body)).toEqual(first.result);
    const createdAgain = await store.idempotent(request('k5', 'c', 201), () =>
      store.createBoard({ name: 'Made once', order: 'asc' }, new Date(start)),
    );
    expect(createdAgain).toMatchObject({ replayed: true, status: 201 });
    if (createdAgain.replayed && !created.replayed) {
      expect(JSON.parse(createdAgain.body)).toEqual(created.result);
    }
    const removedAgain = await store.idempotent(request('k6', 'd', 204), () =>
      store.removePlayer(boardId, playerId),
    );
    expect(removed.replayed).toBe(false);
    expect(removedAgain).toEqual({ replayed: true, status: 204, body: '' });
    const names = (await store.listBoards()).map((b) => b.name);
    expect(names.filter((name) => name === 'Made once')).toHaveLength(1);
  });

  it('keeps nothing for a refused write: its retry is tried again', async () => {
    const { store } = await harness();
    const { boardId } = await boardWithPlayer(store);
    const bad = () => store.addPlayer(boardId, 'Ada');
    await expect(store.idempotent(request('k7'), bad)).rejects.toThrow(/already on this board/);
    await store.removePlayer(boardId, (await store.boardView(boardId, {})).players[0]?.id ?? '');
    expect(await store.idempotent(request('k7'), bad)).toMatchObject({ replayed: false });
  });
});

describe('answers kept in the data file', () => {
  it('survive a fold into the data file and a restart, and expired ones are dropped at start', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'idempotency-fold-')), 'data.json');
    const clock = { now: start };
    const open = async () => {
      const file = await fileStore(path, emptyDatabase);
      const store = new EmbeddedBoardStore({
        store: file,
        limits,
        newId: counter('f'),
        now: () => clock.now,
      });
      return { file, store };
    };
    const first = await open();
    const board = await first.store.createBoard({ name: 'B', order: 'desc' }, new Date(start));
    const add = (store: BoardStore) => () => store.addPlayer(board.id, 'Quote "Q" \u00e9');
    const kept = await first.store.idempotent(request('fold-1', 'x', 201), add(first.store));
    await first.file.fold();
    await first.store.close();
    const second = await open();
    expect(second.file.data.idempotency).toBeDefined();
    const again = await second.store.idempotent(request('fold-1', 'x', 201), add(second.store));
    expect(again.replayed).toBe(true);
    if (again.replayed && !kept.replayed) expect(JSON.parse(again.body)).toEqual(kept.result);
    await second.store.close();
    clock.now += IDEMPOTENCY_TTL_MS;
    const third = await open();
    expect(Object.keys(third.file.data.idempotency ?? {})).toEqual([]);
  });
});
