import { PublishException } from '@fanoutio/grip';
import { describe, expect, it } from 'vitest';
import type { RankedPlayer } from '../contract/board.ts';
import { MAX_MESSAGE_BYTES, PAGE_SIZE } from '../contract/windows.ts';
import { Broadcaster, type PublishFn, type PublishReport } from './broadcaster.ts';
import type { BoardChange, Database } from './domain/board.ts';
import {
  addPlayer,
  addScore,
  boardView,
  createBoard,
  deleteBoard,
  emptyDatabase,
  getBoard,
  pagesOf,
  removePlayer,
  resetBoard,
  updatePlayer,
} from './domain/board.ts';
import { isPublishRefusal } from './grip.ts';

/** Reads pages from a database in memory, as the embedded store does. */
const readFrom = (db: () => Database) => async (boardId: string, pages: readonly number[]) => {
  const board = db().boards[boardId];
  return board === undefined ? undefined : pagesOf(board, pages);
};

interface Sent {
  channel: string;
  event: string;
  data: { version: number; page?: number; players?: RankedPlayer[]; reason?: string };
  id: string;
  prevId: string | undefined;
  bytes: number;
}

interface SetupOptions {
  players?: number;
  intervalMs?: number;
  pagesPerFlush?: number;
  publish?: PublishFn;
}

/** A board, a Broadcaster with a hand-driven clock and timer queue, and what it published. */
function setup(options: SetupOptions = {}) {
  const db: Database = emptyDatabase();
  const limits = { maxBoards: 10, maxPlayersPerBoard: 100_000 };
  createBoard(db, { name: 'B', order: 'desc' }, limits, () => 'b', new Date(0));
  let n = 0;
  const ids = Array.from(
    { length: options.players ?? 3 },
    (_, i) => addPlayer(db, 'b', `player ${i}`, limits, () => `p${++n}`).player.id,
  );
  let now = 1_000;
  const timers: { at: number; run: () => void }[] = [];
  const sent: Sent[] = [];
  const reports: PublishReport[] = [];
  const refusals: string[] = [];
  let commits = 0;
  const record: PublishFn = async (channel, content, id, prevId) => {
    const event = /^event: (\w+)$/m.exec(content)?.[1] ?? '';
    const data = JSON.parse(/^data: (.*)$/m.exec(content)?.[1] ?? 'null');
    sent.push({ channel, event, data, id, prevId, bytes: Buffer.byteLength(content) });
  };
  const broadcaster = new Broadcaster({
    read: readFrom(() => db),
    commit: async () => {
      commits++;
    },
    publish: options.publish ?? record,
    publishIntervalMs: options.intervalMs ?? 50,
    pagesPerFlush: options.pagesPerFlush ?? 16,
    reloadSpreadMs: 5_000,
    now: () => now,
    schedule: (run, ms) => timers.push({ at: now + ms, run }),
    isRefusal: isPublishRefusal,
    onRefused: (_error, _board, channel) => refusals.push(channel),
    onPublish: (report) => reports.push(report),
  });
  const apply = (change: BoardChange) => broadcaster.record(change);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  const advance = async (ms: number) => {
    now += ms;
    const due = timers.filter((t) => t.at <= now);
    timers.splice(0, timers.length, ...timers.filter((t) => t.at > now));
    for (const timer of due) timer.run();
    await settle();
  };
  /** Runs the clock until nothing waits any more (bounded). */
  const finish = async () => {
    await advance(0);
    for (let i = 0; i < 1_000 && timers.length > 0; i++) await advance(50);
    await settle();
  };
  const id = (i: number) => ids[i] as string;
  return {
    db,
    ids,
    id,
    broadcaster,
    sent,
    reports,
    refusals,
    apply,
    advance,
    settle,
    finish,
    record,
    commits: () => commits,
  };
}

/** What each channel shows after the published messages, as a viewer subscribed to all would see it. */
function pagesSeen(sent: Sent[]): Map<number, RankedPlayer[]> {
  const pages = new Map<number, RankedPlayer[]>();
  for (const message of sent) {
    if (message.event === 'page')
      pages.set(message.data.page as number, message.data.players ?? []);
  }
  return pages;
}

/** The board's rows page by page, as the origin has them now. */
function pagesNow(db: Database, count: number): Map<number, RankedPlayer[]> {
  const board = getBoard(db, 'b');
  const pages = new Map<number, RankedPlayer[]>();
  for (let page = 0; page < count; page++) {
    pages.set(page, boardView(board, { from: page * PAGE_SIZE, limit: PAGE_SIZE }).players);
  }
  return pages;
}

/** Checks that each channel's messages form one chain: every prev-id is the id before it. */
function expectChains(sent: Sent[]): void {
  const last = new Map<string, string>();
  for (const message of sent) {
    const before = last.get(message.channel);
    if (before !== undefined) expect(message.prevId).toBe(before);
    expect(Number(message.id)).toBeGreaterThan(Number(message.prevId));
    last.set(message.channel, message.id);
  }
}

describe('publishing pages', () => {
  it('publishes the first change on an idle board at once, after it is committed', async () => {
    const t = setup();
    t.apply(addScore(t.db, 'b', t.id(2), 1).change);
    await t.settle();
    expect(t.commits()).toBe(1);
    expect(t.sent).toEqual([
      expect.objectContaining({ channel: 'board-b.p0', event: 'page', id: '4', prevId: '3' }),
    ]);
    expect(t.sent[0]?.data.players?.map((p) => [p.name, p.rank])).toEqual([
      ['player 2', 1],
      ['player 0', 2],
      ['player 1', 2],
    ]);
  });

  it('merges a burst into one message per changed page, carrying the board as it is when sent', async () => {
    const t = setup();
    for (let i = 0; i < 101; i++) t.apply(addScore(t.db, 'b', t.id(i % 3), 1).change);
    await t.finish();
    // The first round reads the board after the whole burst: the next has nothing newer to send.
    expect(t.sent.map((s) => [s.channel, s.id])).toEqual([['board-b.p0', '104']]);
    for (let i = 0; i < 10; i++) t.apply(addScore(t.db, 'b', t.id(i % 3), 1).change);
    await t.advance(0);
    for (let i = 0; i < 10; i++) t.apply(addScore(t.db, 'b', t.id(i % 3), 1).change);
    await t.finish();
    // Both later bursts fall inside one interval: one more message.
    expect(t.sent.map((s) => s.id)).toEqual(['104', '124']);
    expectChains(t.sent);
    expect(pagesSeen(t.sent)).toEqual(pagesNow(t.db, 1));
  });

  it('publishes only the pages a move passes through, and the board meta when its size changes', async () => {
    const t = setup({ players: 200 });
    await t.finish();
    t.sent.length = 0;
    // Player 150 jumps from the bottom half to the top: pages 0..6 shift, page 7 does not.
    t.apply(updatePlayer(t.db, 'b', t.id(150), { score: 99 }).change);
    await t.finish();
    expect(t.sent.map((s) => s.channel).sort()).toEqual(
      [0, 1, 2, 3, 4, 5, 6].map((p) => `board-b.p${p}`).sort(),
    );
    t.sent.length = 0;
    t.apply(removePlayer(t.db, 'b', t.id(0)));
    await t.finish();
    expect(t.sent.find((s) => s.channel === 'board-b')).toMatchObject({
      event: 'board',
      data: { playerCount: 199 },
    });
    expect(pagesSeen(t.sent).get(7)).toHaveLength(24);
  });

  it('sends at most pagesPerFlush pages per interval, the top first, and every page in the end', async () => {
    const t = setup({ players: 2_000, pagesPerFlush: 5 });
    await t.finish();
    t.sent.length = 0;
    // The last player jumps to the top: all 80 pages change.
    t.apply(updatePlayer(t.db, 'b', t.id(1_999), { score: 5 }).change);
    await t.advance(0);
    expect(t.sent.map((s) => s.data.page)).toEqual([0, 1, 2, 3, 4]);
    await t.finish();
    expect(t.sent).toHaveLength(80);
    expect(new Set(t.sent.map((s) => s.channel)).size).toBe(80);
    expect(pagesSeen(t.sent)).toEqual(pagesNow(t.db, 80));
  });

  it('keeps every message under the 64 KiB cap, with the longest names there are', async () => {
    const t = setup();
    const limits = { maxBoards: 10, maxPlayersPerBoard: 1_000 };
    const widest = '𝕎'.repeat(63);
    for (let i = 0; i < 60; i++) {
      addPlayer(
        t.db,
        'b',
        `${widest}${String.fromCodePoint(0x1d400 + i)}`,
        limits,
        () => `x${'y'.repeat(28)}${String(i).padStart(3, '0')}`,
      );
    }
    for (const player of getBoard(t.db, 'b').players.slice(0, 60)) {
      t.apply(updatePlayer(t.db, 'b', player.id, { score: -999_999_999_999 }).change);
    }
    await t.finish();
    expect(Math.max(...t.sent.map((s) => s.bytes))).toBeLessThan(MAX_MESSAGE_BYTES / 4);
  });

  it('announces a reset as one small reload, not as pages', async () => {
    const t = setup({ players: 500 });
    for (let i = 0; i < 50; i++) t.apply(addScore(t.db, 'b', t.id(i), 1).change);
    t.apply(resetBoard(t.db, 'b'));
    await t.finish();
    const after = t.sent.slice(t.sent.findIndex((s) => s.event === 'reload'));
    expect(after).toEqual([
      expect.objectContaining({
        channel: 'board-b',
        event: 'reload',
        data: { version: 551, reason: 'reset', spreadMs: 5_000 },
      }),
    ]);
    expect(after[0]?.bytes).toBeLessThan(200);
  });

  it('announces a deleted board on its channel, chained after the last message there', async () => {
    const t = setup();
    t.apply(removePlayer(t.db, 'b', t.id(0)));
    await t.finish();
    t.apply(deleteBoard(t.db, 'b'));
    await t.finish();
    const onBoard = t.sent.filter((s) => s.channel === 'board-b');
    expect(onBoard.map((s) => s.event)).toEqual(['board', 'deleted']);
    expectChains(t.sent);
  });
});

describe('a takeover (adopt)', () => {
  it('goes on from the ids it is given, the first message of each channel without a prev-id', async () => {
    const t = setup({ players: 30 });
    t.broadcaster.adopt('b', 10, new Map([['board-b.p0', 25]]));
    t.apply(addScore(t.db, 'b', t.id(29), 5).change);
    await t.finish();
    t.apply(addScore(t.db, 'b', t.id(28), 9).change);
    await t.finish();
    const p0 = t.sent.filter((s) => s.channel === 'board-b.p0');
    const p1 = t.sent.filter((s) => s.channel === 'board-b.p1');
    expect(p0.map((s) => [s.id, s.prevId])).toEqual([
      ['31', undefined],
      ['32', '31'],
    ]);
    expect(p1.map((s) => [s.id, s.prevId])).toEqual([
      ['31', undefined],
      ['32', '31'],
    ]);
  });
});

describe('held channels', () => {
  it('are the board channel and the pages, each after the last id published there', async () => {
    const t = setup({ players: 60 });
    const board = getBoard(t.db, 'b');
    expect(t.broadcaster.heldChannels('b', board.version, [0, 2])).toEqual([
      { channel: 'board-b', prevId: 60 },
      { channel: 'board-b.p0', prevId: 60 },
      { channel: 'board-b.p2', prevId: 60 },
    ]);
    t.apply(addScore(t.db, 'b', t.id(59), 1).change);
    await t.finish();
    expect(t.broadcaster.heldChannels('b', board.version, [0, 2])).toEqual([
      { channel: 'board-b', prevId: 60 },
      { channel: 'board-b.p0', prevId: 61 },
      { channel: 'board-b.p2', prevId: 61 },
    ]);
  });
});

describe('a failed publish', () => {
  it('is sent again later with the same prev-id, carrying the page as it is by then', async () => {
    let fail = true;
    const t = setup({
      publish: async (...args) => {
        if (fail) throw new PublishException('down', { statusCode: 503 });
        await t.record(...args);
      },
    });
    t.apply(addScore(t.db, 'b', t.id(0), 1).change);
    await t.settle();
    expect(t.broadcaster.publishHealth().failingBoards).toBe(1);
    t.apply(addScore(t.db, 'b', t.id(0), 1).change);
    fail = false;
    await t.finish();
    expect(t.sent).toEqual([
      expect.objectContaining({ channel: 'board-b.p0', id: '5', prevId: '3' }),
    ]);
    expect(t.broadcaster.publishHealth().failingBoards).toBe(0);
    expect(t.reports.map((r) => r.ok)).toEqual([false, true]);
  });

  it('refused for its content (a 4xx) is never sent again: viewers are told to reload, once', async () => {
    const t = setup({
      publish: async (...args) => {
        if (args[0] !== 'board-b') throw new PublishException('too large', { statusCode: 413 });
        await t.record(...args);
      },
    });
    t.apply(addScore(t.db, 'b', t.id(0), 1).change);
    await t.finish();
    t.apply(addScore(t.db, 'b', t.id(1), 1).change);
    await t.finish();
    expect(t.sent.map((s) => [s.channel, s.event, s.data.reason])).toEqual([
      ['board-b', 'reload', 'repair'],
      ['board-b', 'reload', 'repair'],
    ]);
    expect(t.refusals).toEqual(['board-b.p0']);
    expect(t.reports.filter((r) => !r.ok)).toHaveLength(2);
  });

  it('that never answers counts as failed after the timeout, so the board goes on', async () => {
    let calls = 0;
    const b = new Broadcaster({
      read: readFrom(() => {
        const db = emptyDatabase();
        createBoard(
          db,
          { name: 'B', order: 'desc' },
          { maxBoards: 1, maxPlayersPerBoard: 9 },
          () => 'b',
          new Date(0),
        );
        getBoard(db, 'b').version = 1;
        return db;
      }),
      commit: async () => {},
      publish: () => {
        calls++;
        return new Promise(() => {});
      },
      publishIntervalMs: 0,
      pagesPerFlush: 4,
      reloadSpreadMs: 0,
      publishTimeoutMs: 20,
      retryDelayMs: 10_000,
    });
    const change: BoardChange = {
      boardId: 'b',
      version: 1,
      changed: [],
      removed: [],
      deleted: false,
      moved: [[0, 0]],
      meta: true,
    };
    b.record(change);
    await b.drain();
    expect(calls).toBe(2);
    expect(b.publishHealth().failingBoards).toBe(1);
  });
});

describe('stopping', () => {
  it('drain publishes what waits for its interval and resolves once it is sent', async () => {
    const t = setup();
    t.apply(addScore(t.db, 'b', t.id(0), 1).change);
    t.apply(addScore(t.db, 'b', t.id(0), 1).change);
    await t.broadcaster.drain();
    expect(t.sent.map((s) => s.id)).toEqual(['5']);
    t.apply(addScore(t.db, 'b', t.id(0), 1).change);
    await t.broadcaster.drain();
    expect(t.sent.map((s) => s.id)).toEqual(['5', '6']);
  });
});
