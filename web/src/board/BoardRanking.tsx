import { useDeferredValue, useMemo, useState } from 'react';
import type { BoardView, RankedPlayer } from '../../../contract/board.ts';
import { SearchField } from '../ui/SearchField.tsx';
import { PlayerList } from './PlayerList.tsx';
import { type Row, searchPlayers, visibleRows } from './rows.ts';

// Boards may hold thousands of players; the page draws the top, and a window around your pick.
const topRows = 100;
const aroundRows = 11;
const searchRows = 100;
// Past this many players, a search field helps find one.
const searchFrom = 11;

interface BoardRankingProps {
  board: BoardView;
  pickId: string | undefined;
  paused: boolean;
  onVote: (player: RankedPlayer) => void;
  /** With it (admin mode), each row has an Edit button. */
  onEdit: ((player: RankedPlayer) => void) | undefined;
}

function searchStatus(search: ReturnType<typeof searchPlayers> | undefined): string | undefined {
  if (search === undefined) return undefined;
  const { matches, total } = search;
  if (total === 0) return 'No player has that name.';
  if (total > matches.length) {
    return `Showing the best ${matches.length} of ${total.toLocaleString()} matches.`;
  }
  return `${total} ${total === 1 ? 'match' : 'matches'}.`;
}

/** A board's players: the top and a window around your pick, or the ones a search finds. */
export function BoardRanking({ board, pickId, paused, onVote, onEdit }: BoardRankingProps) {
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query);
  const { players } = board;
  const search = useMemo(
    () =>
      deferredQuery.trim() === '' ? undefined : searchPlayers(players, deferredQuery, searchRows),
    [players, deferredQuery],
  );
  const rows = useMemo<Row[]>(
    () =>
      search !== undefined
        ? search.matches.map((player) => ({ kind: 'player', player }))
        : visibleRows(players, { top: topRows, around: aroundRows, focusId: pickId }),
    [players, search, pickId],
  );

  return (
    <>
      {board.playerCount >= searchFrom && (
        <SearchField
          id="player-search"
          label="Find a player"
          value={query}
          onChange={setQuery}
          status={searchStatus(search)}
        />
      )}
      {board.playerCount === 0 ? (
        <p className="empty-state muted">No players on this board yet.</p>
      ) : (
        <PlayerList
          rows={rows}
          label={`Ranking of ${board.name}`}
          pickId={pickId}
          paused={paused}
          onVote={onVote}
          onEdit={onEdit}
        />
      )}
    </>
  );
}

/** Where the players will be, while the board loads. */
export function RankingSkeleton() {
  return (
    <ol className="players skeleton" aria-hidden="true">
      {['a', 'b', 'c', 'd', 'e'].map((key) => (
        <li key={key} className="player" />
      ))}
    </ol>
  );
}
