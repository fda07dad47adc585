import { useEffect, useRef } from 'react';
import type { Api } from './api.ts';
import { BoardList } from './BoardList.tsx';
import { BoardView } from './BoardView.tsx';
import { Link } from './Link.tsx';
import { matchRoute, routePaths, usePathname } from './router.ts';
import { useTitle } from './useTitle.ts';

function NotFound() {
  useTitle('Page not found');
  return (
    <section className="empty-state">
      <h1 tabIndex={-1}>Page not found</h1>
      <p className="muted">Nothing lives at this address.</p>
      <Link className="button" to={routePaths.boards()}>
        See all boards
      </Link>
    </section>
  );
}

function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true">
      <rect x="3" y="16" width="7" height="13" rx="2" />
      <rect x="12.5" y="6" width="7" height="23" rx="2" />
      <rect x="22" y="12" width="7" height="17" rx="2" />
    </svg>
  );
}

/** The whole app: a header and the page the address asks for. */
export function App({ api }: { api: Api }) {
  const pathname = usePathname();
  const route = matchRoute(pathname);
  const main = useRef<HTMLElement>(null);
  const firstPage = useRef(true);

  // After moving to another page, focus its heading so screen readers start there.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each new page
  useEffect(() => {
    if (firstPage.current) {
      firstPage.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
  }, [pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link className="brand" to={routePaths.boards()}>
          <Logo />
          <span>Leaderboards</span>
        </Link>
      </header>
      <main id="main" ref={main}>
        {route.page === 'boards' && <BoardList api={api} />}
        {route.page === 'board' && (
          <BoardView key={route.boardId} boardId={route.boardId} api={api} />
        )}
        {route.page === 'not-found' && <NotFound />}
      </main>
    </>
  );
}
