import type { BoardView } from '../../../contract/board.ts';
import { type BoardEvent, decodeEvent, type ReloadEvent } from '../../../contract/events.ts';
import { DEFAULT_LIMIT } from '../../../contract/requests.ts';
import {
  AROUND_RADIUS,
  type MainWindow,
  pageOf,
  pagesCovering,
  streamPages,
} from '../../../contract/windows.ts';
import { ApiError, type BoardWindowQuery, boardPath } from '../api/client.ts';
import {
  type Applied,
  applyEvent,
  applyWindow,
  type BoardState,
  loading,
  playerCountOf,
  positionOf,
  retainRows,
} from './boardState.ts';

/** How the browser is hearing from the board: `live` while its event stream is open. */
export type Connection = 'live' | 'reconnecting' | 'offline';

/** A board as the page shows it, and how fresh it is. */
export interface BoardFeed {
  state: BoardState;
  connection: Connection;
  /** Whether a stream was ever live, to tell a first "connecting" from a "reconnecting". */
  everLive: boolean;
  /** When the board last changed in this browser (ms since the epoch). */
  updatedAt: number | undefined;
  /** The API says there is no such board. */
  notFound: boolean;
}

/** The feed before anything is heard from the board. */
export const initialFeed: BoardFeed = {
  state: loading,
  connection: 'reconnecting',
  everLive: false,
  updatedAt: undefined,
  notFound: false,
};

/**
 * The rows a browser follows live: `limit` rows from position `from` (a page boundary), and the
 * rows around one player (`around`) wherever it ranks.
 */
export interface FollowWindow extends MainWindow {
  around?: string | undefined;
}

/** The leaders: what a board shows unless told otherwise. */
export const topWindow: FollowWindow = { from: 0, limit: DEFAULT_LIMIT };

/**
 * Rows shown on either side of the player a window follows. The stream follows more than that
 * (`AROUND_RADIUS`), and is re-centred on the player before these leave what it follows.
 */
export const AROUND_SHOWN = 5;

/** The part of `EventSource` that following a board uses. */
export interface EventSourceLike {
  /** `EventSource.CLOSED` (2) once the browser gave up on the stream and will not retry it. */
  readonly readyState: number;
  addEventListener(type: string, listener: (message: MessageEvent<string>) => void): void;
  close(): void;
}

export type EventSourceClass = new (url: string) => EventSourceLike;

/** Whether the device has a network, and word when that changes (`navigator.onLine` and events). */
export interface Network {
  isOnline(): boolean;
  /** Calls back when the device goes online or offline; returns a function that stops that. */
  watch(onOnline: () => void, onOffline: () => void): () => void;
}

/** Runs `run` after `ms`; returns a function that cancels it. */
export type Schedule = (run: () => void, ms: number) => () => void;

export interface FollowOptions {
  /** Fetches a window of the board as JSON: after a `reload`, or when the stream is refused. */
  getBoard(boardId: string, window: BoardWindowQuery, signal: AbortSignal): Promise<BoardView>;
  /** Called with the whole feed each time any part of it changes. */
  onChange(feed: BoardFeed): void;
  /** The rows to follow first (the top 100 unless given); `setWindow` changes them. */
  window?: FollowWindow | undefined;
  /** The browser's `EventSource` unless given (tests give a fake). */
  EventSource?: EventSourceClass;
  /** The browser's network state unless given. */
  network?: Network;
  /** `Math.random` unless given: spreads reloads and retries. */
  random?: () => number;
  /** `setTimeout` unless given. */
  schedule?: Schedule;
}

/** A board being followed. */
export interface Following {
  /** Follows other rows: the stream is opened again on them, and what it no longer covers goes. */
  setWindow(window: FollowWindow): void;
  /** Stops it all; `onChange` is not called after. */
  stop(): void;
}

const browserNetwork: Network = {
  isOnline: () => navigator.onLine,
  watch(onOnline, onOffline) {
    window.addEventListener('online', onOnline);
    window.addEventListener('offline', onOffline);
    return () => {
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', onOffline);
    };
  },
};

const browserSchedule: Schedule = (run, ms) => {
  const timer = setTimeout(run, ms);
  return () => clearTimeout(timer);
};

const eventTypes: readonly BoardEvent['type'][] = ['board', 'page', 'reload', 'deleted'];
const CLOSED = 2;
// Failures in a row after which we stop saying "reconnecting" and admit being offline.
const offlineAfter = 3;
const maxBackoffMs = 30_000;
// Reopening is cheap one at a time but must not become a loop against a struggling server.
const resyncWindowMs = 10_000;
const resyncsPerWindow = 3;
// A stream's opening pages arrive as separate events: where the followed player stands is judged
// once they are all in.
const settleMs = 250;

/** Counts reopenings: true while there were few enough lately to do one more right away. */
function resyncBudget(): () => boolean {
  let times: number[] = [];
  return () => {
    const now = Date.now();
    times = [...times.filter((at) => now - at < resyncWindowMs), now];
    return times.length <= resyncsPerWindow;
  };
}

function sameWindow(a: FollowWindow, b: FollowWindow): boolean {
  return a.from === b.from && a.limit === b.limit && a.around === b.around;
}

/**
 * Follows a window of one board live: its event stream (`EventSource` on the board's URL with
 * the window's query, which the GRIP proxy holds open on the window's pages), the state built
 * from it, and the health of the connection. On `reload` it waits a random part of the spread
 * the board asks for, then fetches its windows as JSON. When the player it follows leaves the
 * pages the stream covers, it opens the stream again, centred on where the player is now.
 */
export function followBoard(boardId: string, options: FollowOptions): Following {
  const follower = new Follower(boardId, options);
  return {
    setWindow: (window) => follower.setWindow(window),
    stop: () => follower.dispose(),
  };
}

class Follower {
  private readonly Source: EventSourceClass;
  private readonly network: Network;
  private readonly random: () => number;
  private readonly schedule: Schedule;
  private readonly disposed = new AbortController();
  private readonly stopWatching: () => void;
  private readonly mayResyncNow = resyncBudget();
  private window: FollowWindow;
  private feed = initialFeed;
  private source: EventSourceLike | undefined;
  // The pages the current stream has told: the ones it follows, once its opening is in.
  private received = new Set<number>();
  // Whether the followed player was seen since the stream opened: if it then goes, it moved away.
  private aroundSeen = false;
  private readonly retry: TimerSlot;
  private readonly reload: TimerSlot;
  private readonly check: TimerSlot;
  private reloadVersion: number | undefined;
  private fetching: AbortController | undefined;
  private failures = 0;
  // The stream is over for good: the board is gone, there never was one, or we were stopped.
  private ended = false;

  constructor(
    private readonly boardId: string,
    private readonly options: FollowOptions,
  ) {
    this.Source = options.EventSource ?? EventSource;
    this.network = options.network ?? browserNetwork;
    this.random = options.random ?? Math.random;
    this.schedule = options.schedule ?? browserSchedule;
    this.retry = new TimerSlot(this.schedule);
    this.reload = new TimerSlot(this.schedule);
    this.check = new TimerSlot(this.schedule);
    this.window = options.window ?? topWindow;
    this.stopWatching = this.network.watch(
      () => this.onOnline(),
      () => this.change({ connection: 'offline' }),
    );
    this.open();
  }

  setWindow(window: FollowWindow): void {
    if (sameWindow(window, this.window)) return;
    this.window = window;
    if (this.ended) return;
    this.prune();
    this.open();
  }

  dispose(): void {
    this.disposed.abort();
    this.end();
    this.stopWatching();
  }

  private change(patch: Partial<BoardFeed>): void {
    if (this.disposed.signal.aborted) return;
    this.feed = { ...this.feed, ...patch };
    this.options.onChange(this.feed);
  }

  private take(applied: Applied): void {
    if (applied.outcome === 'applied') this.change({ state: applied.state, updatedAt: Date.now() });
  }

  private struggling(): Connection {
    return this.network.isOnline() && this.failures < offlineAfter ? 'reconnecting' : 'offline';
  }

  private open(): void {
    if (this.ended) return;
    this.closeStream();
    // A new stream opens with the whole window: nothing fetched or scheduled before is needed.
    this.cancelTimers();
    this.fetching?.abort();
    this.received = new Set();
    this.aroundSeen = false;
    const { from, limit, around } = this.window;
    const stream = new this.Source(boardPath(this.boardId, { limit, from, around }));
    this.source = stream;
    // Only the stream in use is heard: a replaced one may still deliver what it had queued.
    const listen = (type: string, handle: (message: MessageEvent<string>) => void) =>
      stream.addEventListener(type, (message) => {
        if (stream === this.source) handle(message);
      });
    for (const type of eventTypes) listen(type, (message) => this.onMessage(message));
    listen('open', () => this.onOpen());
    listen('error', () => this.onError(stream));
  }

  private openLater(delayMs: number): void {
    this.retry.set(() => this.open(), delayMs);
  }

  private closeStream(): void {
    this.source?.close();
    this.source = undefined;
  }

  private cancelTimers(): void {
    for (const slot of [this.retry, this.reload, this.check]) slot.clear();
    this.reloadVersion = undefined;
  }

  private end(): void {
    this.ended = true;
    this.closeStream();
    this.cancelTimers();
    this.fetching?.abort();
  }

  // A stream that resumes (the browser sends Last-Event-ID) may open with nothing to catch up on:
  // being open is what makes it live.
  private onOpen(): void {
    this.failures = 0;
    this.change({ connection: 'live', everLive: true });
  }

  private onMessage(message: MessageEvent<string>): void {
    const event = decodeEvent(message.type, message.data);
    if (event === undefined) {
      this.resync();
      return;
    }
    if (event.type === 'page') this.received.add(event.page);
    const applied = applyEvent(this.feed.state, event);
    this.take(applied);
    if (event.type === 'reload' && applied.outcome === 'reload') this.reloadLater(event);
    else if (event.type === 'deleted' && applied.outcome === 'applied') {
      this.end();
      this.change({ connection: 'offline' });
    } else if (event.type === 'page') this.checkCentreSoon();
  }

  private onError(stream: EventSourceLike): void {
    this.failures++;
    if (stream.readyState === CLOSED) {
      this.source = undefined;
      void this.recover();
    } else {
      // The browser retries a dropped stream by itself.
      this.change({ connection: this.struggling() });
    }
  }

  private onOnline(): void {
    if (this.ended || this.feed.connection === 'live') return;
    this.open();
  }

  // A crowd told to reload at once would arrive in the same second: each waits its own while.
  private reloadLater(event: ReloadEvent): void {
    this.reloadVersion = Math.max(this.reloadVersion ?? 0, event.version);
    if (this.reload.pending) return;
    this.reload.set(() => {
      const version = this.reloadVersion;
      this.reloadVersion = undefined;
      void this.fetchWindows(version).then((result) => {
        if (result === 'failed') this.resync();
      });
    }, this.random() * event.spreadMs);
  }

  /**
   * Fetches the window's rows as JSON (for version `v`, after a reload) and applies them: the main
   * window, and the rows around the followed player when there is one (a player no longer on the
   * board is skipped).
   */
  private async fetchWindows(
    v: number | undefined,
  ): Promise<'done' | 'failed' | 'gone' | 'aborted'> {
    this.fetching?.abort();
    const fetching = new AbortController();
    this.fetching = fetching;
    const { signal } = fetching;
    const { from, limit, around } = this.window;
    const { getBoard } = this.options;
    const main = getBoard(this.boardId, { limit, from, v }, signal);
    const near =
      around === undefined
        ? undefined
        : getBoard(this.boardId, { around, limit: 2 * AROUND_RADIUS + 1, v }, signal).catch(
            () => undefined,
          );
    try {
      const views = [await main, await near];
      if (signal.aborted) return 'aborted';
      for (const view of views) {
        if (view !== undefined) this.take(applyWindow(this.feed.state, view));
      }
      this.checkCentreSoon();
      return 'done';
    } catch (error) {
      if (signal.aborted) return 'aborted';
      if (error instanceof ApiError && error.status === 404) {
        this.end();
        this.change({ notFound: true });
        return 'gone';
      }
      return 'failed';
    }
  }

  private checkCentreSoon(): void {
    this.check.set(() => this.checkCentre(), settleMs);
  }

  // The stream follows the pages around where the player stood when it opened. Once the rows
  // shown around the player reach a page it does not follow, or the player is gone from what it
  // follows, it opens again around where the player is now.
  private checkCentre(): void {
    const { around } = this.window;
    if (around === undefined || this.source === undefined) return;
    const { state } = this.feed;
    const position = positionOf(state, around);
    if (position === undefined) {
      if (this.aroundSeen) this.recentre();
      return;
    }
    this.aroundSeen = true;
    const size = 2 * AROUND_SHOWN + 1;
    const total = Math.max(playerCountOf(state), position + 1);
    const first = Math.max(0, Math.min(position - AROUND_SHOWN, total - size));
    const shown = pagesCovering(first, Math.min(size, total - first));
    if (shown.some((page) => !this.received.has(page))) this.recentre();
  }

  private recentre(): void {
    this.prune();
    this.resync();
  }

  // Drops the rows the stream will no longer follow: the window's pages and those around where
  // its player is now stay, so what is on screen does not blink while the stream opens again.
  private prune(): void {
    const { state } = this.feed;
    const { around } = this.window;
    const position = around === undefined ? undefined : positionOf(state, around);
    const pages = new Set(streamPages(this.window, position));
    const kept = retainRows(state, (at) => pages.has(pageOf(at)));
    if (kept !== state) this.change({ state: kept });
  }

  private resync(): void {
    this.closeStream();
    if (this.mayResyncNow()) this.open();
    else this.openLater(1000 + this.random() * 2000);
  }

  /** How long to wait before opening the stream again after `failures` failures in a row. */
  private backoffMs(): number {
    const backoff = Math.min(maxBackoffMs, 1000 * 2 ** (this.failures - 1));
    return backoff / 2 + (this.random() * backoff) / 2;
  }

  // The stream was refused or cut for good (an HTTP error, or an answer that is not a stream):
  // ask the JSON API what is going on, show what it has, and try the stream again later.
  private async recover(): Promise<void> {
    this.change({ connection: this.struggling() });
    const result = await this.fetchWindows(undefined);
    if (!this.ended && result !== 'aborted') this.openLater(this.backoffMs());
  }
}

/** One pending timer: setting it again replaces what was pending. */
class TimerSlot {
  private cancel: (() => void) | undefined;

  constructor(private readonly schedule: Schedule) {}

  get pending(): boolean {
    return this.cancel !== undefined;
  }

  set(run: () => void, ms: number): void {
    this.clear();
    this.cancel = this.schedule(() => {
      this.cancel = undefined;
      run();
    }, ms);
  }

  clear(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}
