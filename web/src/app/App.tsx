import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { AdminSignIn } from '../admin/AdminSignIn.tsx';
import { useAdminToken } from '../admin/adminToken.ts';
import type { Api } from '../api/client.ts';
import { BoardView } from '../board/BoardView.tsx';
import { BoardList } from '../boards/BoardList.tsx';
import { PastSeasons } from '../seasons/PastSeasons.tsx';
import { Link } from '../ui/Link.tsx';
import { useTitle } from '../ui/useTitle.ts';
import { AppHeader } from './AppHeader.tsx';
import { matchRoute, routePaths, themeOf, useLocation } from './router.ts';

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

/** The whole app: a header and the page the address asks for. */
export function App({ api }: { api: Api }) {
  const { pathname, search } = useLocation();
  const route = matchRoute(pathname, search);
  const main = useRef<HTMLElement>(null);
  const firstPage = useRef(true);
  const [token, enterAdmin, leaveAdmin] = useAdminToken();
  const admin = useMemo(() => (token === undefined ? undefined : api.admin(token)), [api, token]);
  const [signingIn, setSigningIn] = useState(false);
  // The big screen and the embed are the board alone: no header, no admin tools.
  const display = route.page === 'board' ? route.display : 'page';
  const theme = themeOf(search);

  // The stylesheet keys the chrome-less modes and a forced colour scheme off the root element;
  // set before the first paint, so a big screen never flashes at page size.
  useLayoutEffect(() => {
    const root = document.documentElement;
    root.dataset.view = display;
    if (theme === undefined) delete root.dataset.theme;
    else root.dataset.theme = theme;
  }, [display, theme]);

  // After moving to another page, focus its heading so screen readers start there.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each new page
  useEffect(() => {
    if (firstPage.current) {
      firstPage.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
  }, [pathname, display]);

  const chrome = display === 'page';

  // One tree for every display, so that switching a board to the big screen and back keeps its
  // live stream: the header comes and goes, the board stays where it is.
  return (
    <>
      {chrome && (
        <a className="skip-link" href="#main">
          Skip to content
        </a>
      )}
      {chrome && (
        <AppHeader
          admin={admin !== undefined}
          onEnterAdmin={() => setSigningIn(true)}
          onLeaveAdmin={leaveAdmin}
        />
      )}
      <main id="main" ref={main} className={chrome ? undefined : 'chromeless'}>
        {route.page === 'boards' && <BoardList api={api} admin={admin} />}
        {route.page === 'board' && (
          <BoardView
            key={route.boardId}
            boardId={route.boardId}
            display={display}
            api={api}
            admin={chrome ? admin : undefined}
          />
        )}
        {route.page === 'seasons' && (
          <PastSeasons api={api} boardId={route.boardId} season={route.season} />
        )}
        {route.page === 'not-found' && <NotFound />}
      </main>
      <AdminSignIn
        api={api}
        open={signingIn}
        onClose={() => setSigningIn(false)}
        onSignedIn={enterAdmin}
      />
    </>
  );
}
