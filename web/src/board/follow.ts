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
  const Source = options.EventSource ?? EventSource;
  const network = options.network ?? browserNetwork;
  const disposed = new AbortController();
  const mayResyncNow = resyncBudget();
  let feed = initialFeed;
  let source: EventSourceLike | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  // The stream is over for good: the board is gone, or there never was one.
  let ended = false;

  const change = (patch: Partial<BoardFeed>) => {
    if (disposed.signal.aborted) return;
    feed = { ...feed, ...patch };
    options.onChange(feed);
  };
  const struggling = (): Connection =>
    network.isOnline() && failures < offlineAfter ? 'reconnecting' : 'offline';
  const closeStream = () => {
    source?.close();
    source = undefined;
  };
  const openLater = (delayMs: number) => {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(open, delayMs);
  };
  const end = (patch: Partial<BoardFeed>) => {
    ended = true;
    closeStream();
    clearTimeout(retryTimer);
    change(patch);
  };

  // Applies an event; false when it cannot be applied to what we have and we must start over.
  const apply = (event: BoardEvent, origin: EventOrigin): boolean => {
    const applied = applyEvent(feed.state, event, origin);
    if (applied.outcome === 'resync') return false;
    if (applied.outcome === 'applied') change({ state: applied.state, updatedAt: Date.now() });
    return true;
  };

  const resync = () => {
    closeStream();
    if (mayResyncNow()) open();
    else openLater(1000 + Math.random() * 2000);
  };

  const onMessage = (message: MessageEvent<string>) => {
    const event = decodeEvent(message.type, message.data);
    if (event === undefined || !apply(event, 'stream')) return resync();
    if (event.type === 'deleted') end({ connection: 'offline' });
  };

  // The stream was refused or cut for good (an HTTP error, or an answer that is not a stream):
  // ask the JSON API what is going on, show what it has, and try the stream again later.
  const recover = async () => {
    change({ connection: struggling() });
    try {
      apply({ type: 'snapshot', board: await options.getBoard(boardId, disposed.signal) }, 'fetch');
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) end({ notFound: true });
    }
    if (!ended && !disposed.signal.aborted) openLater(backoffMs(failures));
  };

  const onError = (stream: EventSourceLike) => {
    failures++;
    if (stream.readyState === CLOSED) {
      source = undefined;
      void recover();
    } else {
      // The browser retries a dropped stream by itself.
      change({ connection: struggling() });
    }
  };

  function open() {
    if (ended) return;
    source?.close();
    const stream = new Source(apiPaths.board(boardId));
    source = stream;
    // Only the stream in use is heard: a replaced one may still deliver what it had queued.
    const mine =
      <T>(handle: (value: T) => void) =>
      (value: T) => {
        if (stream === source) handle(value);
      };
    for (const type of EVENT_TYPES) stream.addEventListener(type, mine(onMessage));
    // A stream that resumes (the browser sends Last-Event-ID) may open with nothing to catch up
    // on: being open is what makes it live.
    stream.addEventListener(
      'open',
      mine(() => {
        failures = 0;
        change({ connection: 'live', everLive: true });
      }),
    );
    stream.addEventListener(
      'error',
      mine(() => onError(stream)),
    );
  }

  const stopWatching = network.watch(
    () => {
      if (ended || feed.connection === 'live') return;
      clearTimeout(retryTimer);
      open();
    },
    () => change({ connection: 'offline' }),
  );
  open();

  return () => {
    disposed.abort();
    ended = true;
    closeStream();
    clearTimeout(retryTimer);
    stopWatching();
  };
}
