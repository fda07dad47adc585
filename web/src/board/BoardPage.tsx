import { useCallback, useState } from 'react';
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
import type { BoardFeed } from './follow.ts';
import { useLastVote } from './lastVote.ts';
import { useRankAnnouncements } from './useRankAnnouncements.ts';
import { useVote } from './useVote.ts';

interface BoardPageProps {
  boardId: string;
  feed: BoardFeed;
  api: Api;
  admin: AdminApi | undefined;
}

/** The page of one board: live ranks, +1 buttons, search, sharing, and admin tools. */
export function BoardPage({ boardId, feed, api, admin }: BoardPageProps) {
  const [pickId, rememberPick] = useLastVote(boardId);
  const [notice, showNotice] = useNotice();
  const deleted = feed.state.phase === 'deleted';
  const { vote, paused } = useVote(api, boardId, { deleted, rememberPick, showNotice });
  const [editingId, setEditingId] = useState<string>();
  const editPlayer = useCallback((player: RankedPlayer) => setEditingId(player.id), []);
  const board = feed.state.phase === 'loading' ? undefined : feed.state.board;
  const announcement = useRankAnnouncements(board?.players, pickId);
  useTitle(board?.name ?? (feed.notFound ? 'Board not found' : undefined));

  if (feed.notFound) return <BoardNotFound boardId={boardId} />;
  return (
    <section className="board" aria-busy={board === undefined}>
      <BoardHeader boardId={boardId} board={board} feed={feed} />
      {admin !== undefined && board !== undefined && feed.state.phase === 'ready' && (
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
          board={board}
          pickId={pickId}
          paused={paused || deleted}
          onVote={vote}
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
          player={
            editingId === undefined ? undefined : board?.players.find((p) => p.id === editingId)
          }
          admin={admin}
          onClose={() => setEditingId(undefined)}
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
