/**
 * How a live board is watched through windows. A board of any size is cut into pages of
 * `PAGE_SIZE` positions in display order (page 0 holds the leaders). Each page is a GRIP channel
 * of its own, and a stream subscribes to the few pages its window covers plus the board's own
 * channel. Every message then has a size that does not depend on the board: a page is at most
 * `PAGE_SIZE` rows.
 */

/** Positions per page. 25 rows of the longest names and scores fit well inside 10 KB. */
export const PAGE_SIZE = 25;

/** Most rows a stream's main window may hold (`limit`): four pages. */
export const MAX_WINDOW_ROWS = 100;

/** Rows followed on either side of a player (`around`): the player's page and at most one more. */
export const AROUND_RADIUS = 12;

/** Most pages one stream subscribes to: the main window's and the around window's. */
export const MAX_STREAM_PAGES = MAX_WINDOW_ROWS / PAGE_SIZE + 2;

/**
 * Fanout's cap on one published message, and ours on a stream's opening body: the Fastly CLI's
 * local Pushpin sets `push_in_http_max_body_size=65536` to match it.
 */
export const MAX_MESSAGE_BYTES = 65_536;

/** The page that holds a 0-based position. */
export function pageOf(position: number): number {
  return Math.floor(position / PAGE_SIZE);
}

/** The pages that cover positions [start, start + count), in order. */
export function pagesCovering(start: number, count: number): number[] {
  if (count <= 0) return [];
  const first = pageOf(Math.max(0, start));
  const last = pageOf(Math.max(0, start + count - 1));
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** A stream's main window: `limit` rows from position `from` (a page boundary; 0 is the top). */
export interface MainWindow {
  from: number;
  limit: number;
}

/**
 * The pages a stream follows: its main window's, and those around a player's position when it
 * follows one (`aroundPosition`), without repeats, in order.
 */
export function streamPages(main: MainWindow, aroundPosition?: number): number[] {
  const pages = new Set(pagesCovering(main.from, main.limit));
  if (aroundPosition !== undefined) {
    for (const page of pagesCovering(aroundPosition - AROUND_RADIUS, 2 * AROUND_RADIUS + 1)) {
      if (pages.size < MAX_STREAM_PAGES || pages.has(page)) pages.add(page);
    }
  }
  return [...pages].sort((a, b) => a - b).slice(0, MAX_STREAM_PAGES);
}
