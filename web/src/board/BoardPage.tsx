import { useCallback, useMemo, useState } from 'react';
import type { RankedPlayer } from '../../../contract/board.ts';
import { BoardAdmin } from '../admin/BoardAdmin.tsx';
import { PlayerEditor } from '../admin/PlayerEditor.tsx';
import type { AdminApi, Api } from '../api/client.ts';
import { routePaths } from '../app/router.ts';
import { Link } from '../ui/Link.tsx';
import { Toast, useNotice } from '../ui/Toast.tsx';
import { useTitle } from '../ui/useTitle.ts';
import { BoardHeader } from './BoardHeader.tsx';
import { BoardRanking, RankingSkeleton } from './BoardRanking.tsx';
import { type BoardState, boardOf, heldPlayer, topRows } from './boardState.ts';
import { useLastVote } from './lastVote.ts';
import { clampView, type RankingView, TOP_ROWS, topView, windowOf } from './rankingView.ts';
import { type LiveBoard, useWindow } from './useBoard.ts';
import { useRankAnnouncements } from './useRankAnnouncements.ts';
import { useVote } from './useVote.ts';

interface BoardPageProps {
  boardId: string;
  live: LiveBoard;
  api: Api;
  admin: AdminApi | undefined;
}

/**
 * The players whose rank changes are told: the leaders and the pick when the page shows the top,
 * only the pick on a page of ranks (its first row is not the lead).
 */
function announced(state: BoardState, view: RankingView, pickId: string | undefined) {
  const pick = pickId === undefined ? undefined : heldPlayer(state, pickId);
  if (view.kind === 'rank') return pick === undefined ? [] : [pick];
  const top = topRows(state, TOP_ROWS);
  return pick === undefined || top.includes(pick) ? top : [...top, pick];
}

/** The page of one board: live ranks, +1 buttons, search, sharing, and admin tools. */
export function BoardPage({ boardId, live, api, admin }: BoardPageProps) {
  const { feed } = live;
  const { state } = feed;
  const [pickId, rememberPick] = useLastVote(boardId);
  const board = boardOf(state);
  const [chosenView, setView] = useState<RankingView>(topView);
  const view = clampView(chosenView, board?.playerCount);
  useWindow(live, windowOf(view, pickId));
  const [notice, showNotice] = useNotice();
  const deleted = state.phase === 'deleted';
  const { vote, paused } = useVote(api, boardId, { deleted, rememberPick, showNotice });
  const [editing, setEditing] = useState<RankedPlayer>();
  const editPlayer = useCallback((player: RankedPlayer) => setEditing(player), []);
  const told = useMemo(() => announced(state, view, pickId), [state, view, pickId]);
  const announcement = useRankAnnouncements(told, { focusId: pickId, scope: view.kind });
  useTitle(board?.name ?? (feed.notFound ? 'Board not found' : undefined));

  if (feed.notFound) return <BoardNotFound boardId={boardId} />;
  return (
    <section className="board" aria-busy={board === undefined}>
      <BoardHeader boardId={boardId} board={board} feed={feed} />
      {admin !== undefined && board !== undefined && state.phase === 'ready' && (
        <BoardAdmin board={board} admin={admin} onDone={showNotice} />
      )}
      {deleted && (
        <p className="banner" role="alert">
          This board was deleted. <Link to={routePaths.boards()}>See the other boards</Link>
        </p>
      )}
      {board === undefined ? (
        <RankingSkeleton />
      ) : (
        <BoardRanking
          api={api}
          board={board}
          state={state}
          view={view}
          onView={setView}
          pickId={pickId}
          paused={paused || deleted}
          onVote={board.operator === 'incr' ? vote : undefined}
          onEdit={admin === undefined ? undefined : editPlayer}
        />
      )}
      <div className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </div>
      <Toast notice={notice} />
      {admin !== undefined && (
        <PlayerEditor
          boardId={boardId}
          player={editing === undefined ? undefined : (heldPlayer(state, editing.id) ?? editing)}
          admin={admin}
          onClose={() => setEditing(undefined)}
          onDone={showNotice}
        />
      )}
    </section>
  );
}

function BoardNotFound({ boardId }: { boardId: string }) {
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
