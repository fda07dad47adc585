import { useEffect } from 'react';
import { navigate, routePaths } from '../app/router.ts';
import { Link } from '../ui/Link.tsx';
import { QrCode } from '../ui/QrCode.tsx';
import { useTitle } from '../ui/useTitle.ts';
import { boardOf } from './boardState.ts';
import { ConnectionStatus } from './ConnectionStatus.tsx';
import { exitFullscreen, toggleFullscreen } from './fullscreen.ts';
import { PlayerList } from './PlayerList.tsx';
import { orderText, playersText, shortLink } from './phrases.ts';
import type { LiveBoard } from './useBoard.ts';
import { useFittedTop } from './useFittedCount.ts';
import { useIdle } from './useIdle.ts';
import { useRankAnnouncements } from './useRankAnnouncements.ts';
import './BigScreen.css';
import { SeasonCountdown } from '../seasons/SeasonCountdown.tsx';

// F toggles full screen. Browsers usually keep Escape for leaving full screen; when it reaches the
// page, it steps out one level: out of full screen, or else out of the big screen.
function useBigScreenKeys(pagePath: string): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === 'f' || event.key === 'F') toggleFullscreen();
      if (event.key !== 'Escape') return;
      if (document.fullscreenElement !== null) exitFullscreen();
      else navigate(pagePath);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [pagePath]);
}

/** A QR code and a short link, so the room can join from their phones. */
function JoinCard({ url }: { url: string }) {
  return (
    <aside className="tv-join" aria-labelledby="tv-join-title">
      <QrCode text={url} label={`QR code for ${url}`} />
      <div className="tv-join-text">
        <p className="tv-join-title" id="tv-join-title">
          Scan to vote
        </p>
        <p className="tv-join-how">and tap +1 for your favourite</p>
        <p className="tv-join-link">{shortLink(url)}</p>
      </div>
    </aside>
  );
}

/**
 * The board on a projector or a TV (`?view=tv`): large type, no buttons, as many of the top
 * players as the screen is tall, and a QR code with a short link so the room can join from their
 * phones. A bar to leave it appears while the mouse moves or the keyboard is used; F or a
 * double-click toggles full screen.
 */
export function BigScreen({ boardId, live }: { boardId: string; live: LiveBoard }) {
  const { feed } = live;
  const board = boardOf(feed.state);
  const { listBox, rows, players, fits } = useFittedTop(live, 10);
  const announcement = useRankAnnouncements(players);
  const idle = useIdle(3000);
  useTitle(board?.name ?? (feed.notFound ? 'Board not found' : undefined));

  const pagePath = routePaths.board(boardId);
  useBigScreenKeys(pagePath);

  const url = `${window.location.origin}${pagePath}`;
  const count = board?.playerCount ?? 0;
  const hidden = count - rows.length;

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a shortcut; the keyboard's is F
    <section
      className="tv"
      data-idle={idle}
      aria-busy={board === undefined}
      onDoubleClick={toggleFullscreen}
    >
      <nav className="tv-bar" aria-label="Big screen">
        <Link className="tv-leave" to={pagePath} onClick={exitFullscreen}>
          <span aria-hidden="true">←</span> Leave big screen
        </Link>
        <span className="tv-hint" aria-hidden="true">
          F or double-click: full screen
        </span>
      </nav>
      <header className="tv-header">
        <div className="tv-title">
          <h1 tabIndex={-1}>
            {board?.name ?? (feed.notFound ? 'Board not found' : 'Loading board…')}
          </h1>
          {board !== undefined && (
            <p className="tv-meta">
              {playersText(count)} · {orderText(board.order)}
              {hidden > 0 && ` · top ${rows.length} shown`}
            </p>
          )}
          {board?.season !== undefined && (
            <SeasonCountdown boardId={boardId} season={board.season} className="tv-meta" />
          )}
        </div>
        <ConnectionStatus feed={feed} compact />
      </header>
      <div className="tv-main">
        <div className="tv-list" ref={listBox}>
          {feed.state.phase === 'deleted' && (
            <p className="tv-empty" role="alert">
              This board was deleted.
            </p>
          )}
          {feed.state.phase === 'ready' && count === 0 && (
            <p className="tv-empty">No players yet. Scan the code to join.</p>
          )}
          {board !== undefined && rows.length > 0 && (
            <PlayerList
              rows={rows}
              label={`Top ${rows.length} of ${board.name}`}
              className={rows.length === fits ? 'full' : undefined}
            />
          )}
        </div>
        {!feed.notFound && <JoinCard url={url} />}
      </div>
      <div className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </div>
    </section>
  );
}
