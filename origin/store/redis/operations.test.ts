import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { boardChannel, pageChannel } from '../../../contract/events.ts';
import { type RedisServer, startRedis } from '../../../local/redis.ts';
import * as domain from '../../domain/board.ts';
import { BoardError } from '../../domain/errors.ts';
import { createRedisStore } from './connect.ts';
import { StoreUnavailableError } from './errors.ts';
import { boardKeys, REGISTRY_KEY } from './keys.ts';
import { RedisBoardStore } from './redis-store.ts';

let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});

afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

beforeEach(async () => {
  await client.flushall();
});

const now = new Date('2024-05-01T12:00:00.000Z');
const limits = { maxBoards: 5, maxPlayersPerBoard: 5_000 };

/** Ids p0, p1, ... in order, the same sequence for every store made with the same prefix. */
function counter(prefix = 'p') {
  let next = 0;
  return () => `${prefix}${next++}`;
}

function newStore(options: Partial<ConstructorParameters<typeof RedisBoardStore>[1]> = {}) {
  return new RedisBoardStore(client, { newId: counter(), limits, ...options });
}

async function logEntries(boardId: string): Promise<Array<Record<string, string>>> {
  const entries = await client.xrange(boardKeys(boardId).log, '-', '+');
  return entries.map(([, fields]) => {
    const out: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) out[fields[i] ?? ''] = fields[i + 1] ?? '';
    return out;
  });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BoardError) return `${error.kind}: ${error.message}`;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('stream snapshots and held channels', () => {
  it('reads meta, pages and each channel last id at one version; base is set once', async () => {
    const store = newStore({ newId: counter('b') });
    const board = await store.createBoard({ name: 'Snap', order: 'desc' }, now);
    const db = domain.emptyDatabase();
    domain.createBoard(db, { name: 'Snap', order: 'desc' }, limits, () => board.id, now);
    const ids = counter();
    const playerIds = counter();
    const store2 = new RedisBoardStore(client, { newId: playerIds, limits });
    for (let i = 0; i < 60; i++) {
      const id = ids();
      domain.addPlayer(db, board.id, `N${i}`, limits, () => id);
      await store2.addPlayer(board.id, `N${i}`);
      domain.addScore(db, board.id, id, i % 7);
      await store2.addScore(board.id, id, i % 7);
    }
    const record = domain.getBoard(db, board.id);

    const snapshot = await store.streamSnapshot(board.id, [0, 2, 3]);
    expect(snapshot?.meta).toEqual(domain.boardMeta(record));
    expect(snapshot?.pages).toEqual(
      new Map([
        [0, domain.pageRows(record, 0)],
        [2, domain.pageRows(record, 2)],
        [3, []],
      ]),
    );
    const base = record.version;
    expect(snapshot?.held).toEqual([
      { channel: boardChannel(board.id), prevId: base },
      { channel: pageChannel(board.id, 0), prevId: base },
      { channel: pageChannel(board.id, 2), prevId: base },
      { channel: pageChannel(board.id, 3), prevId: base },
    ]);

    // The publisher records what it sent; base stays what it was first.
    await client.hset(boardKeys(board.id).pub, pageChannel(board.id, 0), '130');
    await store.addScore(board.id, 'p3', 1);
    expect(await store.heldChannels(board.id, [0, 1])).toEqual([
      { channel: boardChannel(board.id), prevId: base },
      { channel: pageChannel(board.id, 0), prevId: 130 },
      { channel: pageChannel(board.id, 1), prevId: base },
    ]);
    const pages = await store.pages(board.id, [1]);
    expect(pages?.meta.version).toBe(base + 1);
    expect(pages?.pages.get(1)).toHaveLength(25);

    expect(await store.streamSnapshot('gone', [0])).toBeUndefined();
    expect(await store.pages('gone', [0])).toBeUndefined();
    expect(await refusal(store.heldChannels('gone', [0]))).toBe('board_not_found: board not found');
  });
});

describe('searching by name prefix', () => {
  it('finds names in any case, by folded name then id, ranked, at most limit', async () => {
    const store = newStore();
    const { id } = await store.createBoard({ name: 'Names', order: 'asc' }, now);
    for (const name of ['Anna', 'bob', 'Émile', 'annabel', 'ANNE', 'émilie', 'Zed']) {
      await store.addPlayer(id, name);
    }
    await store.addScore(id, 'p1', -5);
    const found = await store.searchPlayers(id, 'aNn', 10);
    expect(found.map((p) => [p.name, p.rank])).toEqual([
      ['Anna', 1],
      ['annabel', 2],
      ['ANNE', 2],
    ]);
    expect((await store.searchPlayers(id, 'ann', 2)).map((p) => p.name)).toEqual([
      'Anna',
      'annabel',
    ]);
    expect((await store.searchPlayers(id, 'ÉMI', 5)).map((p) => p.name)).toEqual([
      'Émile',
      'émilie',
    ]);
    expect(await store.searchPlayers(id, 'x', 5)).toEqual([]);
    expect(await refusal(store.searchPlayers('gone', 'a', 5))).toBe(
      'board_not_found: board not found',
    );
  });
});

describe('importing players', () => {
  it('adds 1,000 rows as one version, one log entry, ranked as the domain ranks them', async () => {
    const store = newStore({ newId: counter() });
    const db = domain.emptyDatabase();
    const { id } = await store.createBoard({ name: 'Import', order: 'desc' }, now);
    domain.createBoard(db, { name: 'Import', order: 'desc' }, limits, () => id, now);
    const rows = Array.from({ length: 1_000 }, (_, i) => ({
      name: `Player ${i}`,
      ...(i % 3 === 0 ? {} : { score: (i * 7919) % 50 }),
    }));
    expect(await store.checkImport(id, rows, false)).toEqual([]);
    expect(await store.importPlayers(id, rows, false)).toEqual({ added: 1_000, skipped: 0 });
    const ids = counter();
    ids(); // p0 is the board's
    domain.importPlayers(db, id, rows, limits, ids);
    expect(await store.boardView(id, {})).toEqual(domain.boardView(domain.getBoard(db, id)));
    expect(await logEntries(id)).toEqual([{ v: '1', moved: '', meta: '1', bulk: 'import' }]);

    const again = [
      { name: 'PLAYER 1' },
      { name: 'New one' },
      { name: 'new ONE' },
      { name: 'Player 2' },
    ];
    expect(await store.checkImport(id, again, false)).toEqual(
      domain.checkImport(db, id, again, limits, false),
    );
    expect(await store.checkImport(id, again, true)).toEqual(
      domain.checkImport(db, id, again, limits, true),
    );
    const tooMany = Array.from({ length: 4_001 }, (_, i) => ({ name: `More ${i}` }));
    expect(await store.checkImport(id, tooMany, true)).toEqual([
      { row: 4_000, message: 'the board would hold 5001 players; at most 5000' },
    ]);
    expect(await refusal(store.importPlayers(id, tooMany, true))).toBe(
      'limit_reached: at most 5000 players per board',
    );
    expect(await store.importPlayers(id, [{ name: 'player 5' }], true)).toEqual({
      added: 0,
      skipped: 1,
    });
    expect((await store.boardView(id, { limit: 0 })).version).toBe(1);
  });
});

describe('long windows', () => {
  it('reads a whole board in pieces, ranked as one', async () => {
    const store = newStore({ viewChunk: 7 });
    const db = domain.emptyDatabase();
    const { id } = await store.createBoard({ name: 'Long', order: 'desc' }, now);
    domain.createBoard(db, { name: 'Long', order: 'desc' }, limits, () => id, now);
    const rows = Array.from({ length: 40 }, (_, i) => ({ name: `R${i}`, score: i % 4 }));
    await store.importPlayers(id, rows, false);
    const ids = counter();
    ids();
    domain.importPlayers(db, id, rows, limits, ids);
    const board = domain.getBoard(db, id);
    expect(await store.boardView(id, {})).toEqual(domain.boardView(board, {}));
    expect(await store.boardView(id, { from: 5, limit: 30 })).toEqual(
      domain.boardView(board, { from: 5, limit: 30 }),
    );
    expect(await store.boardView(id, { from: 38 })).toEqual(domain.boardView(board, { from: 38 }));
    const dumped = await store.dump();
    expect(dumped.boards[id]?.players).toHaveLength(40);
  });

  it('never mixes versions in one read while changes land between its pieces', async () => {
    const store = newStore({ viewChunk: 5 });
    const { id } = await store.createBoard({ name: 'Busy', order: 'desc' }, now);
    await store.importPlayers(
      id,
      Array.from({ length: 30 }, (_, i) => ({ name: `B${i}` })),
      false,
    );
    // Every +1 moves the version and the sum of scores by one: a read made of pieces from two
    // versions would break sum - version = -1.
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i++) await store.addScore(id, `p${1 + (i % 30)}`, 1);
    })();
    for (let i = 0; i < 40; i++) {
      const view = await store.boardView(id, {});
      expect(view.players).toHaveLength(30);
      expect(view.players.reduce((sum, p) => sum + p.score, 0) - view.version).toBe(-1);
    }
    writing = false;
    await writes;
  });
});

describe('numbers at their limits', () => {
  it('keeps ±10^12 scores and versions near 2^53 exact', async () => {
    const store = newStore();
    const { id } = await store.createBoard({ name: 'Big', order: 'desc' }, now);
    await store.addPlayer(id, 'Max');
    await store.addPlayer(id, 'Min');
    await store.updatePlayer(id, 'p1', { score: 1_000_000_000_000 });
    await store.updatePlayer(id, 'p2', { score: -999_999_999_999 });
    expect(await refusal(store.addScore(id, 'p1', 1))).toBe(
      'score_out_of_range: a score must stay within ±1000000000000',
    );
    expect((await store.addScore(id, 'p2', -1)).score).toBe(-1_000_000_000_000);
    await client.hset(boardKeys(id).meta, 'version', String(2 ** 53 - 10));
    const player = await store.addScore(id, 'p1', -1);
    expect(player).toEqual({
      id: 'p1',
      name: 'Max',
      score: 999_999_999_999,
      scoredAt: 2 ** 53 - 9,
      rank: 1,
    });
    expect((await store.boardView(id, {})).players).toEqual([
      player,
      { id: 'p2', name: 'Min', score: -1_000_000_000_000, scoredAt: 5, rank: 2 },
    ]);
    expect((await logEntries(id)).at(-1)).toEqual({
      v: String(2 ** 53 - 9),
      moved: '0-0',
      meta: '0',
    });
  });
});

describe('boards', () => {
  it('refuses a board past the limit, as the domain words it', async () => {
    const store = newStore({ limits: { maxBoards: 2, maxPlayersPerBoard: 10 } });
    await store.createBoard({ name: 'One', order: 'desc' }, now);
    await store.createBoard({ name: 'Two', order: 'asc' }, now);
    expect(await refusal(store.createBoard({ name: 'Three', order: 'asc' }, now))).toBe(
      'limit_reached: at most 2 boards; delete one first',
    );
    expect(await store.counts()).toEqual({ boards: 2, players: 0 });
  });

  it('lists boards in the order they were created, and a restore in its own order', async () => {
    const ids = ['zz', 'mm', 'aa'];
    const store = newStore({ newId: () => ids.shift() ?? 'none' });
    for (const name of ['First', 'Second', 'Third']) {
      await store.createBoard({ name, order: 'desc' }, now);
    }
    expect((await store.listBoards()).map((b) => b.id)).toEqual(['zz', 'mm', 'aa']);
    const { boards } = await store.dump();
    const at3 = (id: string): domain.BoardRecord => {
      const board = boards[id];
      if (board === undefined) throw new Error(`no board ${id} in the dump`);
      return { ...board, version: 3 };
    };
    await store.restore({ boards: { aa: at3('aa'), zz: at3('zz') } });
    expect((await store.listBoards()).map((b) => b.id)).toEqual(['aa', 'zz']);
  });

  it('deletes every key but the log, pub and lease, which expire; the id is not reused', async () => {
    const store = newStore({ newId: () => 'same' });
    await store.createBoard({ name: 'Gone', order: 'desc' }, now);
    const keys = boardKeys('same');
    await client.set(keys.lease, 'publisher-1', 'PX', 5_000);
    await client.hset(keys.pub, 'base', '0');
    await store.deleteBoard('same');
    expect(await client.exists(keys.meta, keys.rank, keys.players, keys.names, keys.byname)).toBe(
      0,
    );
    expect(await client.ttl(keys.log)).toBeGreaterThan(86_000);
    expect(await client.ttl(keys.pub)).toBeGreaterThan(86_000);
    expect(await client.pttl(keys.lease)).toBeLessThanOrEqual(5_000);
    expect((await logEntries('same')).at(-1)).toEqual({
      v: '1',
      moved: '',
      meta: '1',
      deleted: '1',
    });
    expect(await client.zrange(REGISTRY_KEY, 0, '-1')).toEqual([]);
    expect(await refusal(store.createBoard({ name: 'Again', order: 'desc' }, now))).toBe(
      'id_exhausted: could not find a free id; try again',
    );
    expect(await refusal(store.deleteBoard('same'))).toBe('board_not_found: board not found');
  });

  it('dumps every board and restores them: versions kept, absent boards deleted', async () => {
    const store = newStore();
    const a = await store.createBoard({ name: 'A', order: 'desc' }, now);
    const b = await store.createBoard({ name: 'B', order: 'asc' }, now);
    await store.addPlayer(a.id, 'Ada');
    await store.addPlayer(a.id, 'Grace');
    await store.addScore(a.id, 'p2', 3);
    const dumped = await store.dump();
    expect(Object.keys(dumped.boards)).toEqual([a.id, b.id]);
    expect(dumped.boards[a.id]?.players).toEqual([
      { id: 'p2', name: 'Ada', score: 3, scoredAt: 3 },
      { id: 'p3', name: 'Grace', score: 0, scoredAt: 2 },
    ]);

    await store.addScore(a.id, 'p3', 10);
    const restored = { ...(dumped.boards[a.id] as domain.BoardRecord), version: 9 };
    await store.restore({ boards: { [a.id]: restored } });
    expect(await store.dump()).toEqual({ boards: { [a.id]: restored } });
    expect(await store.versions()).toEqual(new Map([[a.id, 9]]));
    expect(await store.searchPlayers(a.id, 'gr', 5)).toEqual([
      { id: 'p3', name: 'Grace', score: 0, scoredAt: 2, rank: 2 },
    ]);
    expect((await logEntries(a.id)).at(-1)).toEqual({
      v: '9',
      moved: '',
      meta: '1',
      bulk: 'restore',
    });
    expect((await logEntries(b.id)).at(-1)).toEqual({ v: '1', moved: '', meta: '1', deleted: '1' });

    // A restore never takes a board's version back.
    await store.restore({ boards: { [a.id]: { ...restored, version: 2, players: [] } } });
    expect((await store.boardView(a.id, {})).version).toBe(10);
    expect(await store.listBoards()).toEqual([
      { id: a.id, name: 'A', order: 'desc', operator: 'incr', playerCount: 0 },
    ]);
  });
});

describe('seeding', () => {
  it('creates the demo board once when several origins start at once', async () => {
    const stores = await Promise.all(
      [1, 2, 3].map((n) =>
        createRedisStore({ url: redis.url, newId: counter(`s${n}-`), limits, seed: true }),
      ),
    );
    const view = await stores[0]?.boardView('demo', {});
    expect(view?.name).toBe('Demo board');
    expect(view?.version).toBe(5);
    expect(view?.players.map((p) => p.name).sort()).toEqual(
      ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken'].sort(),
    );
    expect(await stores[0]?.listBoards()).toHaveLength(1);
    await Promise.all(stores.map((store) => store.close()));
  });
});

describe('durability', () => {
  it('refuses a write no replica confirmed (StoreUnavailableError); it is on the master', async () => {
    const store = newStore({ waitReplicas: 1, waitTimeoutMs: 50 });
    await expect(store.createBoard({ name: 'W', order: 'desc' }, now)).rejects.toThrow(
      new StoreUnavailableError('the change is not on 1 replicas (0 acknowledged within 50 ms)'),
    );
    expect(await store.listBoards()).toHaveLength(1);
  });

  it('still reads while Redis refuses writes (too few replicas); writes are unavailable', async () => {
    const store = newStore();
    const board = await store.createBoard({ name: 'Ro', order: 'desc' }, now);
    await store.addPlayer(board.id, 'Ada');
    await client.config('SET', 'min-replicas-to-write', '1');
    try {
      await expect(store.addScore(board.id, 'p1', 1)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect((await store.boardView(board.id, {})).players).toHaveLength(1);
      expect((await store.playerView(board.id, 'p1')).score).toBe(0);
      expect(await store.searchPlayers(board.id, 'a', 5)).toHaveLength(1);
      expect(await store.positionOf(board.id, 'p1')).toBe(0);
      await store.requirePlayer(board.id, 'p1');
    } finally {
      await client.config('SET', 'min-replicas-to-write', '0');
    }
  });

  it('resolves once a replica has the write', { timeout: 30_000 }, async () => {
    const replica = await startRedis({ name: 'replica' });
    try {
      await replica.command('REPLICAOF', '127.0.0.1', String(redis.port));
      const store = newStore({ waitReplicas: 1, waitTimeoutMs: 5_000 });
      const board = await store.createBoard({ name: 'R', order: 'desc' }, now);
      await store.addPlayer(board.id, 'Ada');
      expect(await replica.command('HGET', boardKeys(board.id).meta, 'version')).toBe('1');
    } finally {
      await replica.stop();
    }
  });
});

describe('Redis going away', () => {
  it('fails fast with StoreUnavailableError while it is down, and recovers by itself', async () => {
    const own = await startRedis({ name: 'outage' });
    const store = await createRedisStore({ url: own.url, newId: counter(), limits });
    try {
      const board = await store.createBoard({ name: 'Outage', order: 'desc' }, now);
      await store.addPlayer(board.id, 'Ada');
      await own.kill();
      await until(() => !store.health().ok);
      expect(store.health()).toEqual({
        ok: false,
        reason: expect.stringMatching(/^Redis connection is /),
      });
      const started = Date.now();
      await expect(store.addScore(board.id, 'p1', 1)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.boardView(board.id, {})).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(500);

      await own.restart();
      await until(() => store.health().ok, 10_000);
      expect((await store.addScore(board.id, 'p1', 1)).score).toBe(1);
    } finally {
      await store.close();
      await own.stop();
    }
  });
});

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
