import { useState } from 'react';
import type { BoardMeta } from '../../../contract/events.ts';
import { operatorLabel } from '../../../contract/operators.ts';
import { navigate, routePaths } from '../app/router.ts';
import { SeasonCountdown } from '../seasons/SeasonCountdown.tsx';
import { Link } from '../ui/Link.tsx';
import { ConnectionStatus } from './ConnectionStatus.tsx';
import type { BoardFeed } from './follow.ts';
import { enterFullscreen } from './fullscreen.ts';
import { orderText, playersText } from './phrases.ts';
import { ShareDialog } from './ShareDialog.tsx';
import './BoardHeader.css';

interface BoardHeaderProps {
  boardId: string;
  /** Undefined while the board loads. */
  board: BoardMeta | undefined;
  feed: BoardFeed;
}

/** The top of a board's page: its name, how live it is, the big screen, and sharing. */
export function BoardHeader({ boardId, board, feed }: BoardHeaderProps) {
  const [sharing, setSharing] = useState(false);
  const { origin } = window.location;
  return (
    <header className="board-header">
      <Link className="back" to={routePaths.boards()}>
        <span aria-hidden="true">←</span> All boards
      </Link>
      <div className="board-title">
        <h1 tabIndex={-1}>{board?.name ?? 'Loading board…'}</h1>
        {board !== undefined && (
          <p className="muted">
            {playersText(board.playerCount)} · {orderText(board.order)} · Scores:{' '}
            {operatorLabel(board.operator, board.order)}
          </p>
        )}
        {board?.season !== undefined && (
          <SeasonCountdown boardId={boardId} season={board.season} withLink />
        )}
      </div>
      <div className="board-actions">
        <ConnectionStatus feed={feed} />
        <button
          type="button"
          className="button quiet"
          onClick={() => {
            // Full screen needs this click's user activation: ask before the page changes.
            enterFullscreen();
            navigate(routePaths.board(boardId, 'tv'));
          }}
        >
          Big screen
        </button>
        <button type="button" className="button quiet" onClick={() => setSharing(true)}>
          Share
        </button>
      </div>
      <ShareDialog
        url={`${origin}${routePaths.board(boardId)}`}
        embedUrl={`${origin}${routePaths.board(boardId, 'embed')}`}
        boardName={board?.name ?? boardId}
        open={sharing}
        onClose={() => setSharing(false)}
      />
    </header>
  );
}
