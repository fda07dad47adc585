import { type RefObject, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { RankedPlayer } from '../../../contract/board.ts';
import type { Row } from './rows.ts';

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
 * The top players that fit in a list box without scrolling (big screen, embed): a ref for the box
 * and the rows to draw in it.
 */
export function useFittedTop(players: readonly RankedPlayer[] | undefined, fallback: number) {
  const listBox = useRef<HTMLDivElement>(null);
  const fits = useFittedCount(listBox, (players?.length ?? 0) > 0, fallback);
  const rows = useMemo<Row[]>(
    () => (players ?? []).slice(0, fits).map((player) => ({ kind: 'player', player })),
    [players, fits],
  );
  return { listBox, rows, fits };
}
