import type { Adapter } from 'lowdb';
import { describe, expect, it } from 'vitest';
import { embeddedBackend } from '../backend.ts';
import { Broadcaster } from '../broadcaster.ts';
import { type Database, seedDatabase } from '../domain/board.ts';
import { BoardError } from '../domain/errors.ts';
import { EmbeddedBoardStore } from '../store/embedded.ts';
import { StoreUnavailableError } from '../store/errors.ts';
import { memoryStore, Store } from '../store/store.ts';
import { BoardService } from './boards.ts';

interface Published {
  channel: string;
  event: string;
  id: string;
  prevId: string | undefined;
}

/** A service on a memory store (seeded demo board, players p1 to p5) and what it published. */
async function setup(store?: Store) {
  let next = 0;
  const newId = () => `p${++next}`;
  const seeded = store ?? (await memoryStore(() => seedDatabase(newId, new Date(0))));
  const published: Published[] = [];
  const limits = { maxBoards: 2, maxPlayersPerBoard: 6 };
  const backend = embeddedBackend(seeded, { limits, newId: () => `n${++next}` });
  const broadcaster = new Broadcaster({
    read: (boardId, pages) => backend.store.pages(boardId, pages),
    commit: () => seeded.commit(),
    publish: async (channel, content, id, prevId) => {
      published.push({ channel, event: /^event: (\w+)$/m.exec(content)?.[1] ?? '', id, prevId });
    },
    publishIntervalMs: 0,
    pagesPerFlush: 16,
    reloadSpreadMs: 1_000,
    // A change whose commit failed is not published: nothing to report here.
    onError: () => {},
  });
  backend.connect(broadcaster);
  const service = new BoardService({
    store: backend.store,
    publishing: broadcaster,
    limits,
    now: () => new Date(0),
  });
  return { service, store: seeded, published, drain: () => broadcaster.drain() };
}

const refusal = async (work: Promise<unknown>) => {
  const error = await work.then(
    () => undefined,
    (error: unknown) => error,
  );
  return error instanceof BoardError ? error.kind : error;
};

describe('a change', () => {
  it('answers once it is committed, and is published after', async () => {
    const t = await setup();
    const player = await t.service.addScore('demo', 'p2', 3);
    expect(player).toMatchObject({ id: 'p2', score: 3, rank: 1 });
    await t.drain();
    expect(t.published).toEqual([
      { channel: 'board-demo.p0', event: 'page', id: '6', prevId: '5' },
    ]);
    expect((await t.service.viewPlayer('demo', 'p2')).score).toBe(3);
  });

  it('the domain refuses passes through as a BoardError, and changes and publishes nothing', async () => {
    const t = await setup();
    const before = JSON.stringify(t.store.data);
    expect(await refusal(t.service.addScore('demo', 'nope', 1))).toBe('player_not_found');
    expect(await refusal(t.service.addPlayer('demo', 'ada'))).toBe('name_taken');
    expect(await refusal(t.service.updatePlayer('nope', 'p1', { score: 1 }))).toBe(
      'board_not_found',
    );
    await t.drain();
    expect(JSON.stringify(t.store.data)).toBe(before);
    expect(t.published).toEqual([]);
  });

  it('covers the board and player life cycle', async () => {
    const t = await setup();
    const board = await t.service.createBoard({ name: 'Second', order: 'asc' });
    expect(board).toMatchObject({ name: 'Second', order: 'asc', version: 0, players: [] });
    const zed = await t.service.addPlayer(board.id, 'Zed');
    await t.service.updatePlayer(board.id, zed.id, { name: 'Zoe', score: 4 });
    expect(await t.service.viewPlayer(board.id, zed.id)).toMatchObject({ name: 'Zoe', score: 4 });
    expect((await t.service.resetBoard(board.id)).players.map((p) => p.score)).toEqual([0]);
    // Each round reads the board when it runs: drained here, so every step is published.
    await t.drain();
    await t.service.removePlayer(board.id, zed.id);
    await t.drain();
    expect((await t.service.viewBoard(board.id)).playerCount).toBe(0);
    expect((await t.service.listBoards()).map((b) => b.name)).toEqual(['Demo board', 'Second']);
    expect(await refusal(t.service.createBoard({ name: 'Third', order: 'desc' }))).toBe(
      'limit_reached',
    );
    await t.service.deleteBoard(board.id);
    expect(await t.service.streamStart(board.id, top)).toBeUndefined();
    await t.drain();
    expect(t.published.map((p) => `${p.channel} ${p.event}`)).toEqual([
      'board-n6 board',
      'board-n6.p0 page',
      'board-n6.p0 page',
      'board-n6 reload',
      'board-n6 board',
      'board-n6.p0 page',
      'board-n6 deleted',
    ]);
  });
});

const top = { from: 0, limit: 100 };

describe('streams', () => {
  it('open with the board and every page of the window', async () => {
    const t = await setup();
    const start = await t.service.streamStart('demo', top);
    expect(start).toMatchObject({ boardId: 'demo', pages: [0, 1, 2, 3] });
    expect(start?.events.map((e) => e.type)).toEqual(['board', 'page', 'page', 'page', 'page']);
    expect(start?.channels[0]).toEqual({ channel: 'board-demo', prevId: 5 });
  });

  it('follow the pages around a player, wherever it is', async () => {
    const t = await setup();
    const start = await t.service.streamStart('demo', { from: 0, limit: 25, around: 'p5' });
    expect(start?.pages).toEqual([0]);
    expect(
      (await t.service.streamStart('demo', { from: 0, limit: 25, around: 'gone' }))?.pages,
    ).toEqual([0]);
  });

  it('recover only the pages whose channel moved on, or everything when the board channel did', async () => {
    const t = await setup();
    await t.service.addScore('demo', 'p1', 1);
    await t.drain();
    const current = new Map([
      ['board-demo', 5],
      ['board-demo.p0', 6],
      ['board-demo.p1', 5],
    ]);
    expect((await t.service.streamRecovery('demo', [0, 1], current))?.events).toEqual([]);
    const behind = new Map([...current, ['board-demo.p0', 5]]);
    expect(
      (await t.service.streamRecovery('demo', [0, 1], behind))?.events.map((e) => e.type),
    ).toEqual(['page']);
    const lost = new Map([...current, ['board-demo', 4]]);
    expect((await t.service.streamRecovery('demo', [0, 1], lost))?.events).toHaveLength(3);
  });

  it('are undefined for a board that does not exist, prototype names included', async () => {
    const t = await setup();
    expect(await t.service.streamStart('__proto__', top)).toBeUndefined();
    expect(await t.service.streamRecovery('__proto__', [0], new Map())).toBeUndefined();
  });
});

describe('after a failed write', () => {
  it('refuses every change before applying it, and says so', async () => {
    let fail = false;
    let n = 0;
    const adapter: Adapter<Database> = {
      read: async () => seedDatabase(() => `p${++n}`, new Date(0)),
      write: async () => {
        if (fail) throw new Error('disk full');
      },
    };
    const t = await setup(await Store.open(adapter, () => ({ boards: {} })));
    fail = true;
    await expect(t.service.resetBoard('demo')).rejects.toThrow('disk full');
    const before = JSON.stringify(t.store.data);
    await expect(t.service.addScore('demo', 'p1', 1)).rejects.toMatchObject({
      name: 'StoreUnavailableError',
      code: 'storage_failed',
    });
    expect(() => t.service.assertAvailable()).toThrow(StoreUnavailableError);
    expect(JSON.stringify(t.store.data)).toBe(before);
  });
});

describe('readiness', () => {
  /** A service over a store and a broadcaster that only say how they are. */
  const withHealth = (failed: boolean, failingBoards: number) =>
    new BoardService({
      store: new EmbeddedBoardStore({
        store: {
          data: { boards: {} },
          failed,
          touch: () => {},
          keepAnswer: () => {},
          commit: async () => {},
          replaceAll: () => {},
          settle: async () => {},
        },
        limits: { maxBoards: 1, maxPlayersPerBoard: 1 },
        newId: () => 'x',
      }),
      publishing: {
        publishHealth: () => ({
          failingBoards,
          failingSince: failingBoards === 0 ? undefined : Date.UTC(2026, 0, 1),
        }),
      },
      limits: { maxBoards: 1, maxPlayersPerBoard: 1 },
      now: () => new Date(0),
    }).readiness();

  it('is ready when the store writes and no publish is failing', () => {
    expect(withHealth(false, 0)).toEqual({
      ready: true,
      checks: { store: { ok: true }, publish: { ok: true, failingBoards: 0 } },
    });
  });

  it.each([
    [true, 0, /^the data file cannot be written/],
    [
      false,
      2,
      /^publishing to the GRIP proxy fails for 2 board\(s\) since 2026-01-01T00:00:00\.000Z$/,
    ],
    [true, 1, /data file cannot be written.*; publishing .* fails for 1/],
  ])(
    'is not ready with store failed=%s and %i failing boards, saying why',
    (failed, boards, why) => {
      const readiness = withHealth(failed, boards);
      expect(readiness).toMatchObject({
        ready: false,
        checks: { store: { ok: !failed }, publish: { ok: boards === 0, failingBoards: boards } },
        error: { code: 'not_ready', message: expect.stringMatching(why) },
      });
    },
  );
});
