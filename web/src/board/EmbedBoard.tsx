import { routePaths } from '../app/router.ts';
import { useTitle } from '../ui/useTitle.ts';
import { boardOf } from './boardState.ts';
import { ConnectionStatus } from './ConnectionStatus.tsx';
import { PlayerList } from './PlayerList.tsx';
import { shortLink } from './phrases.ts';
import type { LiveBoard } from './useBoard.ts';
import { useFittedTop } from './useFittedCount.ts';
import { useRankAnnouncements } from './useRankAnnouncements.ts';
import './EmbedBoard.css';

/**
 * The board for an `<iframe>` (`?embed=1`): a stream overlay or a widget on another page. No
 * chrome and no buttons, a transparent background, and as many of the top players as the frame
 * is tall. Another site may frame it only when the server's `FRAME_ANCESTORS` names that site.
 */
export function EmbedBoard({ boardId, live }: { boardId: string; live: LiveBoard }) {
  const { feed } = live;
  const board = boardOf(feed.state);
  const { listBox, rows, players } = useFittedTop(live, 5);
  const announcement = useRankAnnouncements(players);
  useTitle(board?.name ?? (feed.notFound ? 'Board not found' : undefined));

  const url = `${window.location.origin}${routePaths.board(boardId)}`;

  return (
    <section className="embed" aria-busy={board === undefined}>
      <header className="embed-header">
        <h1>{board?.name ?? (feed.notFound ? 'Board not found' : 'Loading…')}</h1>
        <ConnectionStatus feed={feed} compact />
      </header>
      <div className="embed-list" ref={listBox}>
        {feed.state.phase === 'deleted' && <p role="alert">This board was deleted.</p>}
        {board !== undefined && rows.length > 0 && (
          <PlayerList rows={rows} label={`Top ${rows.length} of ${board.name}`} />
        )}
      </div>
      {!feed.notFound && (
        <p className="embed-footer">
          <a href={url} target="_blank" rel="noopener">
            Vote at {shortLink(url)}
          </a>
        </p>
      )}
      <div className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </div>
    </section>
  );
}
