import { useEffect, useState } from 'react';
import { decodeEvent } from '../../../contract/events.ts';
import { apiPaths } from '../../../contract/paths.ts';
import { type Api, ApiError } from '../api/client.ts';
import { applyEvent, type BoardState, loading } from './boardState.ts';

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

const initialFeed: BoardFeed = {
  state: loading,
  connection: 'reconnecting',
  everLive: false,
  updatedAt: undefined,
  notFound: false,
};

const eventTypes = ['snapshot', 'update', 'deleted'] as const;
// Failures in a row after which we stop saying "reconnecting" and admit being offline.
const offlineAfter = 3;
const maxBackoffMs = 30_000;
// Resyncs are cheap one at a time but must not become a loop against a struggling server.
const resyncWindowMs = 10_000;
const resyncsPerWindow = 3;

/**
 * Follows one board live: its event stream (`EventSource` on the board's URL, which the GRIP
 * proxy holds open), the versioned state built from it, and the health of the connection.
 * When the stream cannot continue (an event skips versions, or the proxy answers with an error)
 * it reopens: every new stream starts with a full snapshot.
 */
export function useBoard(boardId: string, api: Api): BoardFeed {
  const [feed, setFeed] = useState<BoardFeed>(initialFeed);

  useEffect(() => {
    let current: BoardFeed = initialFeed;
    let source: EventSource | undefined;
    let retryTimer: number | undefined;
    let renderTimer: number | undefined;
    let failures = 0;
    let resyncs: number[] = [];
    let stopped = false;
    const controller = new AbortController();

    // Bursts of events become one render, not one each.
    const change = (patch: Partial<BoardFeed>) => {
      current = { ...current, ...patch };
      renderTimer ??= window.setTimeout(() => {
        renderTimer = undefined;
        setFeed(current);
      }, 16);
    };

    const struggling = (): Connection =>
      navigator.onLine && failures < offlineAfter ? 'reconnecting' : 'offline';

    const retryLater = (delayMs: number) => {
      window.clearTimeout(retryTimer);
      retryTimer = window.setTimeout(open, delayMs);
    };

    const stop = () => {
      stopped = true;
      source?.close();
      source = undefined;
      window.clearTimeout(retryTimer);
    };

    const resync = () => {
      const now = Date.now();
      resyncs = [...resyncs.filter((at) => now - at < resyncWindowMs), now];
      source?.close();
      source = undefined;
      if (resyncs.length > resyncsPerWindow) retryLater(1000 + Math.random() * 2000);
      else open();
    };

    const onEvent = (message: MessageEvent<string>) => {
      if (message.target !== source) return;
      const event = decodeEvent(message.type, message.data);
      if (event === undefined) return resync();
      const applied = applyEvent(current.state, event);
      if (applied.outcome === 'resync') return resync();
      const patch: Partial<BoardFeed> = {};
      if (applied.outcome === 'applied') {
        patch.state = applied.state;
        patch.updatedAt = Date.now();
      }
      if (event.type === 'deleted') {
        stop();
        patch.connection = 'offline';
      }
      change(patch);
    };

    // The stream was refused or cut for good (an HTTP error, or an answer that is not a stream):
    // ask the JSON API what is going on, show what it has, and try the stream again later.
    const recover = async () => {
      change({ connection: struggling() });
      try {
        const board = await api.getBoard(boardId, controller.signal);
        const applied = applyEvent(current.state, { type: 'snapshot', board }, 'fetch');
        if (applied.outcome === 'applied') change({ state: applied.state, updatedAt: Date.now() });
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) {
          stop();
          change({ notFound: true });
          return;
        }
      }
      if (stopped) return;
      const backoff = Math.min(maxBackoffMs, 1000 * 2 ** (failures - 1));
      retryLater(backoff / 2 + (Math.random() * backoff) / 2);
    };

    function open() {
      if (stopped) return;
      source?.close();
      const stream = new EventSource(apiPaths.board(boardId));
      source = stream;
      for (const type of eventTypes) stream.addEventListener(type, onEvent);
      // A stream that resumes (the browser sends Last-Event-ID) may open with nothing to catch up
      // on: being open is what makes it live.
      stream.onopen = () => {
        if (stream !== source) return;
        failures = 0;
        change({ connection: 'live', everLive: true });
      };
      stream.onerror = () => {
        if (stream !== source) return;
        failures++;
        if (stream.readyState === EventSource.CLOSED) {
          source = undefined;
          void recover();
        } else {
          // The browser retries a dropped stream by itself.
          change({ connection: struggling() });
        }
      };
    }

    const onOffline = () => change({ connection: 'offline' });
    const onOnline = () => {
      if (!stopped && current.connection !== 'live') {
        window.clearTimeout(retryTimer);
        open();
      }
    };

    setFeed(initialFeed);
    open();
    window.addEventListener('offline', onOffline);
    window.addEventListener('online', onOnline);
    return () => {
      stop();
      controller.abort();
      window.clearTimeout(renderTimer);
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
    };
  }, [boardId, api]);

  return feed;
}
