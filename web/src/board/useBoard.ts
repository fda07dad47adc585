import { useEffect, useState } from 'react';
import type { Api } from '../api/client.ts';
import { type BoardFeed, followBoard, initialFeed } from './follow.ts';

// Bursts of events become one render, not one each.
const renderEveryMs = 16;

/** A board followed live (see `followBoard`), as state for the components that show it. */
export function useBoard(boardId: string, api: Api): BoardFeed {
  const [feed, setFeed] = useState(initialFeed);
  useEffect(() => {
    let latest = initialFeed;
    let timer: number | undefined;
    setFeed(initialFeed);
    const stop = followBoard(boardId, {
      getBoard: (id, signal) => api.getBoard(id, signal),
      onChange: (next) => {
        latest = next;
        timer ??= window.setTimeout(() => {
          timer = undefined;
          setFeed(latest);
        }, renderEveryMs);
      },
    });
    return () => {
      stop();
      window.clearTimeout(timer);
    };
  }, [boardId, api]);
  return feed;
}
