import { type RefObject, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { MAX_WINDOW_ROWS } from '../../../contract/windows.ts';
import { topRows } from './boardState.ts';
import { fittedWindow } from './rankingView.ts';
import type { Row } from './rows.ts';
import { type LiveBoard, useWindow } from './useBoard.ts';

/**
 * How many rows of a list fit in `container` without scrolling: the container's height over one
 * row's height plus the list's gap. It is measured again whenever the container changes size
 * (a window resized, full screen entered) and when `ready` turns true (the first rows to measure).
 * The rows must all be as tall as the first (fixed-height rows, one line of text each).
 */
export function useFittedCount(
  container: RefObject<HTMLElement | null>,
  ready: boolean,
  fallback: number,
): number {
  const [count, setCount] = useState(fallback);

  useLayoutEffect(() => {
    const root = container.current;
    if (root === null || !ready) return;
    const measure = () => {
      const row = root.querySelector<HTMLElement>('[data-testid="player-row"]');
      const list = row?.parentElement;
      if (row === null || list === null || list === undefined) return;
      // offsetHeight ignores transforms, so a row caught mid-slide measures the same.
      const rowHeight = row.offsetHeight;
      if (rowHeight === 0) return;
      const gap = Number.parseFloat(getComputedStyle(list).rowGap) || 0;
      const style = getComputedStyle(root);
      const height =
        root.clientHeight -
        (Number.parseFloat(style.paddingTop) || 0) -
        (Number.parseFloat(style.paddingBottom) || 0);
      setCount(Math.max(1, Math.floor((height + gap) / (rowHeight + gap))));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(root);
    return () => observer.disconnect();
  }, [container, ready]);

  return count;
}

/**
 * The top players that fit in a list box without scrolling (big screen, embed): a ref for the box,
 * the rows to draw in it, and the players they show. The board follows as many pages as needed.
 */
export function useFittedTop(live: LiveBoard, fallback: number) {
  const listBox = useRef<HTMLDivElement>(null);
  const { state } = live.feed;
  const held = useMemo(() => topRows(state, MAX_WINDOW_ROWS), [state]);
  const fits = useFittedCount(listBox, held.length > 0, fallback);
  useWindow(live, fittedWindow(fits));
  const players = useMemo(() => held.slice(0, fits), [held, fits]);
  const rows = useMemo<Row[]>(
    () => players.map((player) => ({ kind: 'player', player })),
    [players],
  );
  return { listBox, rows, players, fits };
}
