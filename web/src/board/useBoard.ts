import { useCallback, useEffect, useRef, useState } from 'react';
import type { Api } from '../api/client.ts';
import {
  type BoardFeed,
  type Following,
  type FollowWindow,
  followBoard,
  initialFeed,
} from './follow.ts';

// Bursts of events become one render, not one each.
const renderEveryMs = 16;

/** A board followed live, and the way for the view that shows it to say which rows it shows. */
export interface LiveBoard {
  feed: BoardFeed;
  /** Follows these rows from now on (see `useWindow`). */
  follow(window: FollowWindow): void;
}

/**
 * A board followed live (see `followBoard`), as state for the components that show it. The view
 * says which rows it shows with `useWindow`; its first window is the one the stream opens on.
 */
export function useBoard(boardId: string, api: Api): LiveBoard {
  const [feed, setFeed] = useState(initialFeed);
  const shown = useRef<FollowWindow | undefined>(undefined);
  const following = useRef<Following | undefined>(undefined);

  // A child's effects run before its parent's: the view's first window is known by the time the
  // stream opens below.
  const follow = useCallback((next: FollowWindow) => {
    shown.current = next;
    following.current?.setWindow(next);
  }, []);

  useEffect(() => {
    let latest = initialFeed;
    let timer: number | undefined;
    setFeed(initialFeed);
    const board = followBoard(boardId, {
      getBoard: (id, query, signal) => api.getBoard(id, query, signal),
      window: shown.current,
      onChange: (next) => {
        latest = next;
        timer ??= window.setTimeout(() => {
          timer = undefined;
          setFeed(latest);
        }, renderEveryMs);
      },
    });
    following.current = board;
    return () => {
      following.current = undefined;
      board.stop();
      window.clearTimeout(timer);
    };
  }, [boardId, api]);

  return { feed, follow };
}

/** Has the live board follow `window` while the calling view shows it. */
export function useWindow(board: LiveBoard, rows: FollowWindow): void {
  const { follow } = board;
  const { from, limit, around } = rows;
  useEffect(() => follow({ from, limit, around }), [follow, from, limit, around]);
}
