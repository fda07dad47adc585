import type { BoardView } from '../../../contract/board.ts';
import { type BoardEvent, decodeEvent, EVENT_TYPES } from '../../../contract/events.ts';
import { apiPaths } from '../../../contract/paths.ts';
import { ApiError } from '../api/client.ts';
import { applyEvent, type BoardState, type EventOrigin, loading } from './boardState.ts';

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

export interface FollowOptions {
  /** Fetches the board as JSON, when the stream is refused. */
  getBoard(boardId: string, signal: AbortSignal): Promise<BoardView>;
  /** Called with the whole feed each time any part of it changes. */
  onChange(feed: BoardFeed): void;
  /** The browser's `EventSource` unless given (tests give a fake). */
  EventSource?: new (
    url: string,
  ) => EventSourceLike;
  /** The browser's network state unless given. */
  network?: Network;
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

const CLOSED = 2;
// Failures in a row after which we stop saying "reconnecting" and admit being offline.
const offlineAfter = 3;
const maxBackoffMs = 30_000;
// Resyncs are cheap one at a time but must not become a loop against a struggling server.
const resyncWindowMs = 10_000;
const resyncsPerWindow = 3;

/** How long to wait before opening the stream again after `failures` failures in a row. */
function backoffMs(failures: number): number {
  const backoff = Math.min(maxBackoffMs, 1000 * 2 ** (failures - 1));
  return backoff / 2 + (Math.random() * backoff) / 2;
}

/** Counts resyncs: true while there were few enough lately to do one more right away. */
function resyncBudget(): () => boolean {
  let times: number[] = [];
  return () => {
    const now = Date.now();
    times = [...times.filter((at) => now - at < resyncWindowMs), now];
    return times.length <= resyncsPerWindow;
  };
}

/**
 * Follows one board live: its event stream (`EventSource` on the board's URL, which the GRIP
 * proxy holds open), the versioned state built from it, and the health of the connection.
 * When the stream cannot continue (an event skips versions, or the proxy answers with an error)
 * it reopens: every new stream starts with a full snapshot. Returns a function that stops it all;
 * `onChange` is not called after it.
 */
export function followBoard(boardId: string, options: FollowOptions): () => void {
  const follower = new Follower(boardId, options);
  return () => follower.dispose();
}

class Follower {
  private readonly Source: EventSourceClass;
  private readonly network: Network;
  private readonly disposed = new AbortController();
  private readonly stopWatching: () => void;
  private readonly mayResyncNow = resyncBudget();
  private feed = initialFeed;
  private source: EventSourceLike | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  // The stream is over for good: the board is gone, there never was one, or we were stopped.
  private ended = false;

  constructor(
    private readonly boardId: string,
    private readonly options: FollowOptions,
  ) {
    this.Source = options.EventSource ?? EventSource;
    this.network = options.network ?? browserNetwork;
    this.stopWatching = this.network.watch(
      () => this.onOnline(),
      () => this.change({ connection: 'offline' }),
    );
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

  private struggling(): Connection {
    return this.network.isOnline() && this.failures < offlineAfter ? 'reconnecting' : 'offline';
  }

  private open(): void {
    if (this.ended) return;
    this.source?.close();
    const stream = new this.Source(apiPaths.board(this.boardId));
    this.source = stream;
    // Only the stream in use is heard: a replaced one may still deliver what it had queued.
    const listen = (type: string, handle: (message: MessageEvent<string>) => void) =>
      stream.addEventListener(type, (message) => {
        if (stream === this.source) handle(message);
      });
    for (const type of EVENT_TYPES) listen(type, (message) => this.onMessage(message));
    listen('open', () => this.onOpen());
    listen('error', () => this.onError(stream));
  }

  private openLater(delayMs: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delayMs);
  }

  private closeStream(): void {
    this.source?.close();
    this.source = undefined;
  }

  private end(): void {
    this.ended = true;
    this.closeStream();
    clearTimeout(this.retryTimer);
  }

  // A stream that resumes (the browser sends Last-Event-ID) may open with nothing to catch up on:
  // being open is what makes it live.
  private onOpen(): void {
    this.failures = 0;
    this.change({ connection: 'live', everLive: true });
  }

  private onMessage(message: MessageEvent<string>): void {
    const event = decodeEvent(message.type, message.data);
    if (event === undefined || !this.apply(event, 'stream')) this.resync();
    else if (event.type === 'deleted') {
      this.end();
      this.change({ connection: 'offline' });
    }
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
    clearTimeout(this.retryTimer);
    this.open();
  }

  // Applies an event; false when it cannot apply to what we have and we must start over.
  private apply(event: BoardEvent, origin: EventOrigin): boolean {
    const applied = applyEvent(this.feed.state, event, origin);
    if (applied.outcome === 'resync') return false;
    if (applied.outcome === 'applied') this.change({ state: applied.state, updatedAt: Date.now() });
    return true;
  }

  private resync(): void {
    this.closeStream();
    if (this.mayResyncNow()) this.open();
    else this.openLater(1000 + Math.random() * 2000);
  }

  // The stream was refused or cut for good (an HTTP error, or an answer that is not a stream):
  // ask the JSON API what is going on, show what it has, and try the stream again later.
  private async recover(): Promise<void> {
    this.change({ connection: this.struggling() });
    try {
      const board = await this.options.getBoard(this.boardId, this.disposed.signal);
      this.apply({ type: 'snapshot', board }, 'fetch');
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.end();
        this.change({ notFound: true });
      }
    }
    if (!this.ended) this.openLater(backoffMs(this.failures));
  }
}
