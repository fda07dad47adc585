import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BoardView, PlayerState, RankedPlayer } from '../../../contract/board.ts';
import { type BoardEvent, encodeSse } from '../../../contract/events.ts';
import { rankPlayers } from '../../../contract/ranking.ts';
import { PAGE_SIZE } from '../../../contract/windows.ts';
import { ApiError, type BoardWindowQuery } from '../api/client.ts';
import { positionOf, rowsIn, topRows } from './boardState.ts';
import {
  type BoardFeed,
  type EventSourceLike,
  type FollowWindow,
  followBoard,
  type Network,
} from './follow.ts';

/** An EventSource the test drives: it opens, delivers events, fails, as told. */
class FakeStream implements EventSourceLike {
  static opened: FakeStream[] = [];
  readyState = 0;
  closed = false;
  private readonly listeners = new Map<string, ((message: MessageEvent<string>) => void)[]>();

  constructor(readonly url: string) {
    FakeStream.opened.push(this);
  }

  addEventListener(type: string, listener: (message: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.readyState = 2;
    this.closed = true;
  }

  private dispatch(type: string, data = ''): void {
    for (const listener of this.listeners.get(type) ?? []) {
      listener(new MessageEvent(type, { data }));
    }
  }

  open(): void {
    this.readyState = 1;
    this.dispatch('open');
  }

  /** Delivers events framed as the origin frames them. */
  send(...events: BoardEvent[]): void {
    for (const event of events) {
      const frame = encodeSse(event);
      this.deliver(event.type, /^data: (.+)$/m.exec(frame)?.[1] ?? '');
    }
  }

  deliver(type: string, data: string): void {
    this.dispatch(type, data);
  }

  /** A dropped stream the browser retries (`closed: false`), or one it gave up on. */
  fail({ closed }: { closed: boolean }): void {
    this.readyState = closed ? 2 : 0;
    this.dispatch('error');
  }
}

class FakeNetwork implements Network {
  online = true;
  private listeners: { onOnline: () => void; onOffline: () => void } | undefined;
  isOnline = () => this.online;
  watch(onOnline: () => void, onOffline: () => void): () => void {
    this.listeners = { onOnline, onOffline };
    return () => {
      this.listeners = undefined;
    };
  }
  set(online: boolean): void {
    this.online = online;
    if (online) this.listeners?.onOnline();
    else this.listeners?.onOffline();
  }
  get watched(): boolean {
    return this.listeners !== undefined;
  }
}

/** `count` players p0, p1...: p<i> at position i unless `scoreOf` says otherwise. */
function ranking(count: number, scoreOf = (i: number) => count - i): RankedPlayer[] {
  return rankPlayers(
    Array.from(
      { length: count },
      (_, i): PlayerState => ({ id: `p${i}`, name: `P${i}`, score: scoreOf(i), scoredAt: 0 }),
    ),
    'desc',
  );
}

const meta = (version: number, playerCount: number) => ({
  id: 'demo',
  name: 'Demo',
  order: 'desc' as const,
  operator: 'incr' as const,
  version,
  playerCount,
});

const boardEvent = (version: number, playerCount: number): BoardEvent => ({
  type: 'board',
  board: meta(version, playerCount),
});

function page(version: number, number: number, players: readonly RankedPlayer[]): BoardEvent {
  const start = number * PAGE_SIZE;
  return { type: 'page', version, page: number, players: players.slice(start, start + PAGE_SIZE) };
}

/** What a stream on `pages` opens with: the meta, then each page. */
function opening(version: number, players: readonly RankedPlayer[], pages: number[]) {
  return [boardEvent(version, players.length), ...pages.map((n) => page(version, n, players))];
}

/** The JSON window the origin answers for a query, from a whole ranking. */
function windowOf(version: number, players: RankedPlayer[], query: BoardWindowQuery): BoardView {
  const limit = query.limit ?? 100;
  let offset = query.from ?? 0;
  if (query.around !== undefined) {
    const position = players.findIndex((p) => p.id === query.around);
    if (position < 0) throw new ApiError(404, 'not_found', 'player not found');
    offset = Math.max(0, Math.min(position - Math.floor((limit - 1) / 2), players.length - limit));
  }
  return {
    ...meta(version, players.length),
    offset,
    players: players.slice(offset, offset + limit),
  };
}

type GetBoard = (query: BoardWindowQuery) => Promise<BoardView>;

function follow(
  options: { getBoard?: GetBoard; window?: FollowWindow; random?: () => number } = {},
) {
  const feeds: BoardFeed[] = [];
  const queries: BoardWindowQuery[] = [];
  const network = new FakeNetwork();
  const getBoard = options.getBoard ?? (() => new Promise<BoardView>(() => {}));
  const following = followBoard('demo 1', {
    getBoard: (boardId, query) => {
      expect(boardId).toBe('demo 1');
      queries.push(query);
      return getBoard(query);
    },
    onChange: (feed) => feeds.push(feed),
    EventSource: FakeStream,
    network,
    random: options.random ?? (() => 0.5),
    window: options.window,
  });
  const latest = (): BoardFeed => {
    const feed = feeds.at(-1);
    if (feed === undefined) throw new Error('no feed yet');
    return feed;
  };
  const stream = (): FakeStream => {
    const last = FakeStream.opened.at(-1);
    if (last === undefined) throw new Error('no stream opened');
    return last;
  };
  const scores = (from = 0, count = 100) =>
    rowsIn(latest().state, from, count).map((p) => [p.id, p.score]);
  const stop = () => following.stop();
  return { feeds, queries, latest, stream, scores, network, stop, following };
}

beforeEach(() => {
  FakeStream.opened = [];
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

const ten = ranking(10);

describe('followBoard', () => {
  it('opens the stream on the top 100, is live once it opens, and shows its pages', () => {
    const { stream, latest, scores } = follow();
    expect(stream().url).toBe('/boards/demo%201/?limit=100');
    stream().open();
    expect(latest()).toMatchObject({ connection: 'live', everLive: true });
    stream().send(...opening(3, ten, [0, 1, 2, 3]));
    expect(scores()).toEqual(ten.map((p) => [p.id, p.score]));
    expect(latest().state.phase).toBe('ready');
    expect(latest().updatedAt).toBe(Date.now());
  });

  it('opens the stream on the window it is given: rows from a page, and around a player', () => {
    const { stream } = follow({ window: { from: 100, limit: 25, around: 'p 7' } });
    expect(stream().url).toBe('/boards/demo%201/?limit=25&from=100&around=p+7');
  });

  it('applies newer pages and ignores duplicates', () => {
    const { stream, feeds, scores } = follow();
    stream().open();
    stream().send(...opening(3, ten, [0]));
    const climbed = ranking(10, (i) => (i === 9 ? 50 : 10 - i));
    stream().send(page(4, 0, climbed));
    const seen = feeds.length;
    stream().send(page(4, 0, climbed), page(3, 0, ten));
    expect(scores()[0]).toEqual(['p9', 50]);
    expect(feeds).toHaveLength(seen);
  });

  it('opens a new stream on an event it cannot read, and hears only the new one', () => {
    const { stream, scores } = follow();
    const first = stream();
    first.open();
    first.send(...opening(3, ten, [0]));
    first.deliver('page', '{"version":1}');
    expect(first.closed).toBe(true);
    expect(FakeStream.opened).toHaveLength(2);
    first.send(page(9, 0, ranking(3)));
    expect(scores()).toHaveLength(10);
  });

  it('waits before reopening again when it has reopened three times in ten seconds', () => {
    const { stream } = follow({ random: () => 0 });
    for (let i = 0; i < 4; i++) stream().deliver('page', 'not json');
    expect(FakeStream.opened).toHaveLength(4);
    vi.advanceTimersByTime(999);
    expect(FakeStream.opened).toHaveLength(4);
    vi.advanceTimersByTime(1);
    expect(FakeStream.opened).toHaveLength(5);
  });

  it('says reconnecting while the browser retries a dropped stream, offline after three tries', () => {
    const { stream, latest } = follow();
    stream().open();
    stream().fail({ closed: false });
    expect(latest()).toMatchObject({ connection: 'reconnecting', everLive: true });
    stream().fail({ closed: false });
    stream().fail({ closed: false });
    expect(latest().connection).toBe('offline');
    stream().open();
    expect(latest().connection).toBe('live');
    expect(FakeStream.opened).toHaveLength(1);
  });

  it('fetches its windows when the stream is refused, shows them, and opens the stream later', async () => {
    const players = ranking(300);
    const { stream, scores, latest, queries } = follow({
      getBoard: async (query) => windowOf(7, players, query),
      window: { from: 0, limit: 100, around: 'p200' },
    });
    stream().fail({ closed: true });
    expect(latest().connection).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(0);
    expect(queries).toEqual([
      { limit: 100, from: 0, v: undefined },
      { around: 'p200', limit: 25, v: undefined },
    ]);
    expect(scores()).toEqual(players.slice(0, 100).map((p) => [p.id, p.score]));
    expect(positionOf(latest().state, 'p200')).toBe(200);
    expect(FakeStream.opened).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeStream.opened).toHaveLength(2);
  });

  it('keeps newer rows than the ones it fetched', async () => {
    let answer: (board: BoardView) => void = () => {};
    const { stream, scores } = follow({
      getBoard: () => new Promise((resolve) => (answer = resolve)),
    });
    const newer = ranking(10, (i) => 100 + i);
    stream().send(...opening(8, newer, [0]));
    stream().fail({ closed: true });
    answer(windowOf(7, ten, {}));
    await vi.advanceTimersByTimeAsync(0);
    expect(scores()).toEqual(newer.map((p) => [p.id, p.score]));
  });

  it('stops, saying not found, when the API has no such board', async () => {
    const { stream, latest } = follow({
      getBoard: async () => {
        throw new ApiError(404, 'not_found', 'board not found');
      },
    });
    stream().fail({ closed: true });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(latest().notFound).toBe(true);
    expect(FakeStream.opened).toHaveLength(1);
  });

  it('tries the stream again after any other failure of the fetch', async () => {
    const { stream } = follow({
      getBoard: async () => {
        throw new ApiError(0, 'network', 'unreachable');
      },
    });
    stream().fail({ closed: true });
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeStream.opened).toHaveLength(2);
  });

  it('ends the board on deleted: offline, stream closed, never reopened', async () => {
    const { stream, latest, network } = follow();
    stream().open();
    stream().send(...opening(3, ten, [0]));
    stream().send({ type: 'deleted', version: 4 });
    expect(latest()).toMatchObject({ connection: 'offline', state: { phase: 'deleted' } });
    expect(topRows(latest().state, 100)).toHaveLength(10);
    expect(stream().closed).toBe(true);
    network.set(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeStream.opened).toHaveLength(1);
  });

  it('says offline when the device is, and reopens the stream when it is back', () => {
    const { stream, latest, network } = follow();
    stream().open();
    network.set(false);
    expect(latest().connection).toBe('offline');
    stream().fail({ closed: true });
    network.set(true);
    expect(FakeStream.opened).toHaveLength(2);
  });

  it('closes the stream when stopped', () => {
    const { stream, network, stop } = follow();
    stream().open();
    stop();
    expect(stream().closed).toBe(true);
    expect(network.watched).toBe(false);
  });

  it('neither reopens nor calls back once stopped, even with a fetch under way', async () => {
    const { stream, feeds, stop } = follow({ getBoard: async () => windowOf(1, [], {}) });
    stream().open();
    stream().fail({ closed: true });
    stop();
    const seen = feeds.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeStream.opened).toHaveLength(1);
    expect(feeds).toHaveLength(seen);
  });
});

describe('followBoard on reload', () => {
  const players = ranking(300);
  const reset = ranking(300, () => 0);

  it('waits its share of the spread, then fetches its windows for that version', async () => {
    const { stream, queries, scores, latest } = follow({
      getBoard: async (query) => windowOf(12, reset, query),
      window: { from: 0, limit: 100, around: 'p200' },
      random: () => 0.25,
    });
    stream().open();
    stream().send(...opening(10, players, [0, 1, 2, 3, 7, 8]));
    stream().send({ type: 'reload', version: 11, reason: 'reset', spreadMs: 4000 });
    await vi.advanceTimersByTimeAsync(999);
    expect(queries).toEqual([]);
    // A second reload while it waits: one fetch, for the later version.
    stream().send({ type: 'reload', version: 12, reason: 'reset', spreadMs: 4000 });
    await vi.advanceTimersByTimeAsync(1);
    expect(queries).toEqual([
      { limit: 100, from: 0, v: 12 },
      { around: 'p200', limit: 25, v: 12 },
    ]);
    expect(scores().every(([, score]) => score === 0)).toBe(true);
    expect(rowsIn(latest().state, 190, 20).every((p) => p.score === 0)).toBe(true);
    expect(FakeStream.opened).toHaveLength(1);
  });

  it('waits nothing when the spread is 0, and skips a player no longer on the board', async () => {
    const { stream, queries, scores } = follow({
      getBoard: async (query) => windowOf(4, ten, query),
      window: { from: 0, limit: 100, around: 'gone' },
    });
    stream().open();
    stream().send(
      ...opening(
        3,
        ranking(10, () => 5),
        [0],
      ),
    );
    stream().send({ type: 'reload', version: 4, reason: 'import', spreadMs: 0 });
    await vi.advanceTimersByTimeAsync(0);
    expect(queries).toHaveLength(2);
    expect(scores()).toEqual(ten.map((p) => [p.id, p.score]));
  });

  it('opens the stream again when the reload fails', async () => {
    const { stream } = follow({
      getBoard: async () => {
        throw new ApiError(503, 'unavailable', 'busy');
      },
    });
    stream().open();
    stream().send({ type: 'reload', version: 4, reason: 'reset', spreadMs: 1000 });
    await vi.advanceTimersByTimeAsync(500);
    expect(FakeStream.opened).toHaveLength(2);
  });

  it('drops a reload it waits for when the stream opens again: the opening has it all', async () => {
    const { stream, queries, following } = follow({
      getBoard: async (query) => windowOf(4, ten, query),
    });
    stream().open();
    stream().send({ type: 'reload', version: 4, reason: 'reset', spreadMs: 1000 });
    following.setWindow({ from: 25, limit: 25 });
    await vi.advanceTimersByTimeAsync(5000);
    expect(queries).toEqual([]);
  });
});

describe('followBoard’s window', () => {
  const players = ranking(1000, (i) => 2 * (1000 - i));
  /** The board after p150 climbs to `position` (scores are whole numbers: it slips in between). */
  const climbed = (position: number) =>
    ranking(1000, (i) => (i === 150 ? 2 * (1000 - position) + 1 : 2 * (1000 - i)));

  it('opens the stream again on a new window, keeping the rows it still covers', () => {
    const { stream, latest, following } = follow();
    stream().open();
    stream().send(...opening(5, players, [0, 1, 2, 3]));
    following.setWindow({ from: 0, limit: 100 });
    expect(FakeStream.opened).toHaveLength(1);
    following.setWindow({ from: 50, limit: 25, around: 'p900' });
    expect(stream().url).toBe('/boards/demo%201/?limit=25&from=50&around=p900');
    expect(FakeStream.opened[0]?.closed).toBe(true);
    expect([...latest().state.rows.keys()].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 25 }, (_, i) => 50 + i),
    );
    expect(latest().connection).toBe('live');
  });

  it('keeps following a player that moves inside the pages the stream covers', async () => {
    const { stream, latest } = follow({ window: { from: 0, limit: 100, around: 'p150' } });
    stream().open();
    // Around position 150 the stream follows pages 5 and 6; they may come apart.
    stream().send(...opening(5, players, [0, 1, 2, 3, 5]));
    await vi.advanceTimersByTimeAsync(100);
    stream().send(page(5, 6, players));
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeStream.opened).toHaveLength(1);
    // p150 climbs to 140: the rows shown around it (135 to 145) are still on page 5.
    const moved = climbed(140);
    stream().send(page(6, 5, moved), page(6, 6, moved));
    expect(positionOf(latest().state, 'p150')).toBe(140);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeStream.opened).toHaveLength(1);
  });

  it('opens again around the player when it leaves the pages the stream covers', async () => {
    const { stream, latest } = follow({ window: { from: 0, limit: 100, around: 'p150' } });
    stream().open();
    stream().send(...opening(5, players, [0, 1, 2, 3, 5, 6]));
    await vi.advanceTimersByTimeAsync(1000);
    // p150 climbs to 110, on page 4, which this stream does not follow: it is gone from page 5.
    const moved = climbed(110);
    stream().send(page(6, 5, moved), page(6, 6, moved));
    expect(positionOf(latest().state, 'p150')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeStream.opened).toHaveLength(2);
    expect(FakeStream.opened[0]?.closed).toBe(true);
    expect(stream().url).toBe('/boards/demo%201/?limit=100&around=p150');
    // The rows it no longer follows are gone; the top stays on screen while the stream opens.
    expect(Math.max(...latest().state.rows.keys())).toBe(99);
    stream().send(...opening(6, moved, [0, 1, 2, 3, 4]));
    await vi.advanceTimersByTimeAsync(1000);
    expect(positionOf(latest().state, 'p150')).toBe(110);
    expect(FakeStream.opened).toHaveLength(2);
  });

  it('opens again when the rows shown around the player reach a page it does not follow', async () => {
    const { stream } = follow({ window: { from: 0, limit: 100, around: 'p150' } });
    stream().open();
    stream().send(...opening(5, players, [0, 1, 2, 3, 5, 6]));
    await vi.advanceTimersByTimeAsync(1000);
    // At 127 the player is still on page 5, but the rows shown from 122 are on page 4.
    const moved = climbed(127);
    stream().send(page(6, 5, moved), page(6, 6, moved));
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeStream.opened).toHaveLength(2);
  });

  it('opens again when a reload puts the player somewhere the stream does not follow', async () => {
    const reset = ranking(1000, (i) => (i === 150 ? 5000 : 0));
    const { stream, latest } = follow({
      getBoard: async (query) => windowOf(9, reset, query),
      window: { from: 0, limit: 100, around: 'p150' },
    });
    stream().open();
    stream().send(...opening(5, players, [0, 1, 2, 3, 5, 6]));
    stream().send({ type: 'reload', version: 9, reason: 'reset', spreadMs: 0 });
    await vi.advanceTimersByTimeAsync(0);
    expect(positionOf(latest().state, 'p150')).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    // Now at the top, its rows are on page 0, which the stream follows: no need to move.
    expect(FakeStream.opened).toHaveLength(1);
  });

  it('never moves for a player that is not on the board', async () => {
    const { stream } = follow({ window: { from: 0, limit: 100, around: 'nobody' } });
    stream().open();
    stream().send(...opening(5, players, [0, 1, 2, 3]));
    stream().send(
      page(
        6,
        0,
        ranking(1000, (i) => i),
      ),
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeStream.opened).toHaveLength(1);
  });
});
