import { useSyncExternalStore } from 'react';
import { ID_PATTERN } from '../../shared/board.ts';

/** The app's own pages. The API lives under `/boards/`, so no page path starts with it. */
export type Route = { page: 'boards' } | { page: 'board'; boardId: string } | { page: 'not-found' };

/** Paths of the app's pages, the inverse of `matchRoute`. */
export const routePaths = {
  boards: () => '/',
  board: (boardId: string) => `/b/${encodeURIComponent(boardId)}`,
};

/** The page a path shows. */
export function matchRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { page: 'boards' };
  const match = /^\/b\/([^/]+)\/?$/.exec(pathname);
  if (match?.[1] !== undefined) {
    let boardId: string;
    try {
      boardId = decodeURIComponent(match[1]);
    } catch {
      return { page: 'not-found' };
    }
    if (ID_PATTERN.test(boardId)) return { page: 'board', boardId };
  }
  return { page: 'not-found' };
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

/** The current path, kept in step with the browser's history. */
export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

/** Shows another page of the app without reloading it. */
export function navigate(path: string): void {
  if (path === window.location.pathname) return;
  window.history.pushState(null, '', path);
  window.scrollTo(0, 0);
  window.dispatchEvent(new Event(navigateEvent));
}
