import { useCallback, useDeferredValue, useEffect, useMemo, useState } from 'react';
import type { RankedPlayer } from '../../../contract/board.ts';
import { BoardAdmin } from '../admin/BoardAdmin.tsx';
import { PlayerEditor } from '../admin/PlayerEditor.tsx';
import { type AdminApi, type Api, ApiError } from '../api/client.ts';
import { type BoardDisplay, navigate, routePaths } from '../app/router.ts';
import { Link } from '../ui/Link.tsx';
import { SearchField } from '../ui/SearchField.tsx';
import { useTitle } from '../ui/useTitle.ts';
import { BigScreen } from './BigScreen.tsx';
import { ConnectionStatus } from './ConnectionStatus.tsx';
import { EmbedBoard } from './EmbedBoard.tsx';
import type { BoardFeed } from './follow.ts';
import { enterFullscreen } from './fullscreen.ts';
import { useLastVote } from './lastVote.ts';
import { PlayerList } from './PlayerList.tsx';
import { orderText, playersText } from './phrases.ts';
import { type Row, searchPlayers, visibleRows } from './rows.ts';
import { ShareDialog } from './ShareDialog.tsx';
import { useBoard } from './useBoard.ts';
import { useRankAnnouncements } from './useRankAnnouncements.ts';

// Boards may hold thousands of players; the page draws the top, and a window around your pick.
const topRows = 100;
const aroundRows = 11;
const searchRows = 100;
const defaultRetrySeconds = 3;

interface Notice {
  id: number;
  text: string;
}

function useNotice(): [Notice | undefined, (text: string) => void] {
  const [notice, setNotice] = useState<Notice>();
  useEffect(() => {
    if (notice === undefined) return;
    const timer = window.setTimeout(() => setNotice(undefined), 5000);
    return () => window.clearTimeout(timer);
  }, [notice]);
  const show = useCallback((text: string) => setNotice({ id: Date.now(), text }), []);
  return [notice, show];
}

// Whether votes are paused, and a way to pause them, after the server said "too many" (HTTP 429).
function usePause(): [boolean, (seconds: number) => void] {
  const [until, setUntil] = useState(0);
  useEffect(() => {
    if (until === 0) return;
    const timer = window.setTimeout(() => setUntil(0), Math.max(0, until - Date.now()));
    return () => window.clearTimeout(timer);
  }, [until]);
  const pause = useCallback((seconds: number) => setUntil(Date.now() + seconds * 1000), []);
  return [until !== 0, pause];
}

interface BoardViewProps {
  boardId: string;
  display: BoardDisplay;
  api: Api;
  /** The admin calls, in admin mode. */
  admin: AdminApi | undefined;
}

/**
 * One board, followed live, shown as the address asks: the page (`/b/<id>`), the big screen
 * (`?view=tv`) or the embed (`?embed=1`). Switching between them keeps the live stream.
 */
export function BoardView({ boardId, display, api, admin }: BoardViewProps) {
  const feed = useBoard(boardId, api);
  if (display === 'tv') return <BigScreen boardId={boardId} feed={feed} />;
  if (display === 'embed') return <EmbedBoard boardId={boardId} feed={feed} />;
  return <BoardPage boardId={boardId} feed={feed} api={api} admin={admin} />;
}

interface BoardPageProps {
  boardId: string;
  feed: BoardFeed;
  api: Api;
  admin: AdminApi | undefined;
}

/** The page of one board: live ranks, +1 buttons, search, sharing, and admin tools. */
function BoardPage({ boardId, feed, api, admin }: BoardPageProps) {
  const [pickId, rememberPick] = useLastVote(boardId);
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query);
  const [notice, showNotice] = useNotice();
  const [paused, pause] = usePause();
  const [sharing, setSharing] = useState(false);
  const [editingId, setEditingId] = useState<string>();

  const board = feed.state.phase === 'loading' ? undefined : feed.state.board;
  const players = board?.players;
  const announcement = useRankAnnouncements(players, pickId);
  useTitle(board?.name ?? (feed.notFound ? 'Board not found' : undefined));

  const search = useMemo(
    () =>
      deferredQuery.trim() === ''
        ? undefined
        : searchPlayers(players ?? [], deferredQuery, searchRows),
    [players, deferredQuery],
  );
  const rows = useMemo<Row[]>(
    () =>
      search !== undefined
        ? search.matches.map((player) => ({ kind: 'player', player }))
        : visibleRows(players ?? [], { top: topRows, around: aroundRows, focusId: pickId }),
    [players, search, pickId],
  );

  const vote = useCallback(
    async (player: RankedPlayer) => {
      if (feed.state.phase === 'deleted') {
        showNotice('This board was deleted: votes no longer count.');
        return;
      }
      if (paused) {
        showNotice('Votes are paused for a moment. Try again in a few seconds.');
        return;
      }
      rememberPick(player.id);
      try {
        await api.addPoint(boardId, player.id);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.status === 429) {
          const seconds = Math.max(1, Math.ceil(error.retryAfter ?? defaultRetrySeconds));
          pause(seconds);
          showNotice(`Easy there! Too many votes at once. Try again in ${seconds} s.`);
        } else if (error.status === 404) {
          showNotice(`${player.name} is no longer on this board.`);
        } else {
          showNotice(`Your vote for ${player.name} did not count: ${error.message}`);
        }
      }
    },
    [api, boardId, feed.state.phase, paused, pause, rememberPick, showNotice],
  );

  const editPlayer = useCallback((player: RankedPlayer) => setEditingId(player.id), []);

  if (feed.notFound) {
    return (
      <section className="empty-state">
        <h1 tabIndex={-1}>Board not found</h1>
        <p className="muted">There is no board called “{boardId}”. It may have been deleted.</p>
        <Link className="button" to={routePaths.boards()}>
          See all boards
        </Link>
      </section>
    );
  }

  const url = `${window.location.origin}${routePaths.board(boardId)}`;
  const count = board?.playerCount ?? 0;
  const editing = editingId === undefined ? undefined : players?.find((p) => p.id === editingId);

  return (
    <section className="board" aria-busy={board === undefined}>
      <header className="board-header">
        <Link className="back" to={routePaths.boards()}>
          <span aria-hidden="true">←</span> All boards
        </Link>
        <div className="board-title">
          <h1 tabIndex={-1}>{board?.name ?? 'Loading board…'}</h1>
          {board !== undefined && (
            <p className="muted">
              {playersText(count)} · {orderText(board.order)}
            </p>
          )}
        </div>
        <div className="board-actions">
          <ConnectionStatus
            connection={feed.connection}
            everLive={feed.everLive}
            updatedAt={feed.updatedAt}
          />
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
      </header>

      {admin !== undefined && board !== undefined && feed.state.phase === 'ready' && (
        <BoardAdmin board={board} admin={admin} onDone={showNotice} />
      )}

      {feed.state.phase === 'deleted' && (
        <p className="banner" role="alert">
          This board was deleted. <Link to={routePaths.boards()}>See the other boards</Link>
        </p>
      )}

      {board === undefined ? (
        <ol className="players skeleton" aria-hidden="true">
          {['a', 'b', 'c', 'd', 'e'].map((key) => (
            <li key={key} className="player" />
          ))}
        </ol>
      ) : (
        <>
          {count > 10 && (
            <SearchField
              id="player-search"
              label="Find a player"
              value={query}
              onChange={setQuery}
              status={
                search === undefined
                  ? undefined
                  : search.total === 0
                    ? 'No player has that name.'
                    : search.total > search.matches.length
                      ? `Showing the best ${search.matches.length} of ${search.total.toLocaleString()} matches.`
                      : `${search.total} ${search.total === 1 ? 'match' : 'matches'}.`
              }
            />
          )}
          {count === 0 ? (
            <p className="empty-state muted">No players on this board yet.</p>
          ) : (
            <PlayerList
              rows={rows}
              label={`Ranking of ${board.name}`}
              pickId={pickId}
              paused={paused || feed.state.phase === 'deleted'}
              onVote={vote}
              onEdit={admin === undefined ? undefined : editPlayer}
            />
          )}
        </>
      )}

      <div className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </div>
      <div className="toast-region" role="status" aria-live="polite">
        {notice !== undefined && (
          <p className="toast" key={notice.id}>
            {notice.text}
          </p>
        )}
      </div>
      <ShareDialog
        url={url}
        embedUrl={`${window.location.origin}${routePaths.board(boardId, 'embed')}`}
        boardName={board?.name ?? boardId}
        open={sharing}
        onClose={() => setSharing(false)}
      />
      {admin !== undefined && (
        <PlayerEditor
          boardId={boardId}
          player={editing}
          admin={admin}
          onClose={() => setEditingId(undefined)}
          onDone={showNotice}
        />
      )}
    </section>
  );
}
