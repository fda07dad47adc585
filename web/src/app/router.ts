import { useSyncExternalStore } from 'react';
import { ID_PATTERN } from '../../../contract/board.ts';

/**
 * How a board is shown: the everyday `page`, `tv` for a projector or a big screen across a room,
 * `embed` for an `<iframe>` (a stream overlay, another site).
 */
export type BoardDisplay = 'page' | 'tv' | 'embed';

/** A colour scheme the address asks for, over the system's (a projector wants dark). */
export type Theme = 'light' | 'dark';

/** The app's own pages. The API lives under `/boards/`, so no page path starts with it. */
export type Route =
  | { page: 'boards' }
  | { page: 'board'; boardId: string; display: BoardDisplay }
  /** A board's past seasons; `season` is the one shown, else the newest. */
  | { page: 'seasons'; boardId: string; season?: number | undefined }
  | { page: 'not-found' };

/** Paths of the app's pages, the inverse of `matchRoute`. */
export const routePaths = {
  boards: () => '/',
  board: (boardId: string, display: BoardDisplay = 'page') => {
    const path = `/b/${encodeURIComponent(boardId)}`;
    if (display === 'tv') return `${path}?view=tv`;
    if (display === 'embed') return `${path}?embed=1`;
    return path;
  },
  seasons: (boardId: string, season?: number) =>
    `/b/${encodeURIComponent(boardId)}/seasons${season === undefined ? '' : `/${season}`}`,
};

/** The page an address shows (`search` is the query string, with or without its `?`). */
export function matchRoute(pathname: string, search = ''): Route {
  if (pathname === '/' || pathname === '') return { page: 'boards' };
  const seasons = /^\/b\/([^/]+)\/seasons(?:\/([1-9]\d{0,8}))?\/?$/.exec(pathname);
  if (seasons?.[1] !== undefined) {
    const boardId = decoded(seasons[1]);
    if (boardId === undefined || !ID_PATTERN.test(boardId)) return { page: 'not-found' };
    const season = seasons[2] === undefined ? undefined : Number(seasons[2]);
    return { page: 'seasons', boardId, season };
  }
  const match = /^\/b\/([^/]+)\/?$/.exec(pathname);
  if (match?.[1] !== undefined) {
    let boardId: string;
    try {
      boardId = decodeURIComponent(match[1]);
    } catch {
      return { page: 'not-found' };
    }
    if (ID_PATTERN.test(boardId)) return { page: 'board', boardId, display: displayOf(search) };
  }
  return { page: 'not-found' };
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function displayOf(search: string): BoardDisplay {
  const params = new URLSearchParams(search);
  const embed = params.get('embed');
  if (embed !== null && embed !== '0' && embed !== 'false') return 'embed';
  if (params.get('view') === 'tv') return 'tv';
  return 'page';
}

/** The colour scheme `?theme=light|dark` asks for, if any. */
export function themeOf(search: string): Theme | undefined {
  const theme = new URLSearchParams(search).get('theme');
  return theme === 'light' || theme === 'dark' ? theme : undefined;
}

// pushState fires no event of its own: navigate() announces itself with this one.
const navigateEvent = 'app:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(navigateEvent, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(navigateEvent, onChange);
  };
}

/** The current path and query string (`/b/demo?view=tv`), kept in step with the history. */
export function useLocation(): { pathname: string; search: string } {
  const href = useSyncExternalStore(
    subscribe,
    () => `${window.location.pathname}${window.location.search}`,
  );
  const at = href.indexOf('?');
  return at < 0
    ? { pathname: href, search: '' }
    : { pathname: href.slice(0, at), search: href.slice(at) };
}

/** Shows another page of the app without reloading it. */
export function navigate(path: string): void {
  if (path === `${window.location.pathname}${window.location.search}`) return;
  window.history.pushState(null, '', path);
  window.scrollTo(0, 0);
  window.dispatchEvent(new Event(navigateEvent));
}
