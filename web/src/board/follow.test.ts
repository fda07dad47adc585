import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BoardView, PlayerState } from '../../../contract/board.ts';
import { type BoardEvent, encodeSse } from '../../../contract/events.ts';
import { rankPlayers } from '../../../contract/ranking.ts';
import { ApiError } from '../api/client.ts';
import { type BoardFeed, type EventSourceLike, followBoard, type Network } from './follow.ts';

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

  /** Delivers an event framed as the origin frames it. */
  send(event: BoardEvent): void {
    const frame = encodeSse(event);
    this.deliver(event.type, /^data: (.+)$/m.exec(frame)?.[1] ?? '');
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

function player(id: string, score: number, scoredAt = 0): PlayerState {
  return { id, name: id.toUpperCase(), score, scoredAt };
}

function board(version: number, players: PlayerState[]): BoardView {
  return {
    id: 'demo',
    name: 'Demo',
    order: 'desc',
    version,
    playerCount: players.length,
    players: rankPlayers(players, 'desc'),
  };
}

const snapshot = (version: number, players: PlayerState[] = []): BoardEvent => ({
  type: 'snapshot',
  board: board(version, players),
});

function follow(getBoard: (boardId: string) => Promise<BoardView> = () => new Promise(() => {})) {
  const feeds: BoardFeed[] = [];
  const network = new FakeNetwork();
  const stop = followBoard('demo 1', {
    getBoard,
    onChange: (feed) => feeds.push(feed),
    EventSource: FakeStream,
    network,
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
  const scores = () => {
    const { state } = latest();
    return state.phase === 'ready' ? state.board.players.map((p) => [p.id, p.score]) : state.phase;
  };
  return { feeds, latest, stream, scores, network, stop };
}

beforeEach(() => {
  FakeStream.opened = [];
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('followBoard', () => {
  it('opens the board’s stream, is live once it opens, and shows the snapshot', () => {
    const { stream, latest, scores } = follow();
    expect(stream().url).toBe('/boards/demo%201/');
    stream().open();
    expect(latest()).toMatchObject({ connection: 'live', everLive: true });
    stream().send(snapshot(3, [player('a', 5)]));
    expect(scores()).toEqual([['a', 5]]);
    expect(latest().updatedAt).toBe(Date.now());
  });

  it('applies updates in order and ignores duplicates', () => {
    const { stream, feeds, scores } = follow();
    stream().open();
    stream().send(snapshot(3, [player('a', 5), player('b', 4)]));
    stream().send({
      type: 'update',
      since: 3,
      version: 4,
      players: [player('b', 9, 4)],
      removed: [],
    });
    const seen = feeds.length;
    stream().send({
      type: 'update',
      since: 3,
      version: 4,
      players: [player('b', 9, 4)],
      removed: [],
    });
    expect(scores()).toEqual([
      ['b', 9],
      ['a', 5],
    ]);
    expect(feeds).toHaveLength(seen);
  });

  it('opens a new stream when an update skips versions, and hears only the new one', () => {
    const { stream, scores } = follow();
    const first = stream();
    first.open();
    first.send(snapshot(3, [player('a', 5)]));
    first.send({ type: 'update', since: 5, version: 6, players: [player('a', 1, 6)], removed: [] });
    expect(first.closed).toBe(true);
    expect(FakeStream.opened).toHaveLength(2);
    first.send(snapshot(9, [player('old', 1)]));
    expect(scores()).toEqual([['a', 5]]);
    stream().send(snapshot(6, [player('a', 1)]));
    expect(scores()).toEqual([['a', 1]]);
  });

  it('opens a new stream on an event it cannot read', () => {
    const { stream } = follow();
    stream().open();
    stream().deliver('update', '{"version":1}');
    expect(FakeStream.opened).toHaveLength(2);
  });

  it('waits before resyncing again when it has resynced three times in ten seconds', () => {
    const { stream } = follow();
    for (let i = 0; i < 4; i++) stream().deliver('update', 'not json');
    expect(FakeStream.opened).toHaveLength(4);
    vi.advanceTimersByTime(3000);
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

  it('fetches the board when the stream is refused, shows it, and opens the stream later', async () => {
    const { stream, scores, latest } = follow(async () => board(7, [player('a', 2)]));
    stream().fail({ closed: true });
    expect(latest().connection).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(0);
    expect(scores()).toEqual([['a', 2]]);
    expect(FakeStream.opened).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeStream.opened).toHaveLength(2);
  });

  it('keeps a newer board than the one it fetched', async () => {
    let answer: (board: BoardView) => void = () => {};
    const { stream, scores } = follow(() => new Promise((resolve) => (answer = resolve)));
    stream().send(snapshot(8, [player('a', 3)]));
    stream().fail({ closed: true });
    answer(board(7, [player('a', 2)]));
    await vi.advanceTimersByTimeAsync(0);
    expect(scores()).toEqual([['a', 3]]);
  });

  it('stops, saying not found, when the API has no such board', async () => {
    const { stream, latest } = follow(async () => {
      throw new ApiError(404, 'not_found', 'no board');
    });
    stream().fail({ closed: true });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(latest().notFound).toBe(true);
    expect(FakeStream.opened).toHaveLength(1);
  });

  it('tries the stream again after any other failure of the fetch', async () => {
    const { stream } = follow(async () => {
      throw new ApiError(0, 'network', 'unreachable');
    });
    stream().fail({ closed: true });
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeStream.opened).toHaveLength(2);
  });

  it('ends the board on deleted: offline, stream closed, never reopened', async () => {
    const { stream, latest, network } = follow();
    stream().open();
    stream().send(snapshot(3, [player('a', 5)]));
    stream().send({ type: 'deleted', version: 4 });
    expect(latest()).toMatchObject({ connection: 'offline', state: { phase: 'deleted' } });
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
    const { stream, feeds, stop } = follow(async () => board(1, []));
    stream().open();
    stream().fail({ closed: true });
    stop();
    const seen = feeds.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeStream.opened).toHaveLength(1);
    expect(feeds).toHaveLength(seen);
  });
});
