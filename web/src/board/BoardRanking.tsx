import { useCallback, useEffect, useMemo, useState } from 'react';
import type { RankedPlayer } from '../../../contract/board.ts';
import type { BoardMeta } from '../../../contract/events.ts';
import { PAGE_SIZE } from '../../../contract/windows.ts';
import type { Api } from '../api/client.ts';
import { SearchField } from '../ui/SearchField.tsx';
import { type BoardState, heldPlayer } from './boardState.ts';
import { AROUND_SHOWN } from './follow.ts';
import { PlayerList } from './PlayerList.tsx';
import { RankingNav } from './RankingNav.tsx';
import { RankJump } from './RankJump.tsx';
import { focusOf, mainRun, type RankingView, TOP_ROWS } from './rankingView.ts';
import { type Row, visibleRows } from './rows.ts';
import { type PlayerSearch, searchStatus, usePlayerSearch } from './usePlayerSearch.ts';
import './BoardRanking.css';

// Past this many players, a search field helps find one.
const searchFrom = 11;
// A player to bring into view is looked for this long (its rows come with the stream).
const revealForMs = 10_000;

/** What every list of players on the page does with its rows. */
interface ListActions {
  pickId: string | undefined;
  paused: boolean;
  /** Absent on a board whose scores do not add up (only `incr` boards take a +1). */
  onVote: ((player: RankedPlayer) => void) | undefined;
  /** With it (admin mode), each row has an Edit button. */
  onEdit: ((player: RankedPlayer) => void) | undefined;
}

interface BoardRankingProps extends ListActions {
  api: Api;
  board: BoardMeta;
  state: BoardState;
  view: RankingView;
  onView: (view: RankingView) => void;
}

/**
 * A board's players: the top and a window around your pick, a page of ranks, or around a player
 * a search found; and the search and the rank to go to that lead there.
 */
export function BoardRanking({ api, board, state, view, onView, ...actions }: BoardRankingProps) {
  const [query, setQuery] = useState('');
  const search = usePlayerSearch(api, board.id, query);
  const reveal = useReveal();
  const show = useCallback(
    (player: RankedPlayer) => {
      setQuery('');
      onView({ kind: 'player', player });
      reveal(player.id);
    },
    [onView, reveal],
  );
  const jump = useCallback(
    (page: number) => {
      setQuery('');
      onView({ kind: 'rank', page });
    },
    [onView],
  );

  return (
    <>
      {board.playerCount >= searchFrom && (
        <div className="ranking-tools">
          <SearchField
            id="player-search"
            label="Find a player"
            value={query}
            onChange={setQuery}
            status={searchStatus(search)}
          />
          {board.playerCount > TOP_ROWS && (
            <RankJump playerCount={board.playerCount} onJump={jump} />
          )}
        </div>
      )}
      {search.status === 'idle' ? (
        <Ranking board={board} state={state} view={view} onView={onView} {...actions} />
      ) : (
        <SearchResults search={search} state={state} onShow={show} {...actions} />
      )}
    </>
  );
}

function listLabel(view: RankingView, name: string): string {
  switch (view.kind) {
    case 'top':
      return `Ranking of ${name}`;
    case 'rank':
      return `Ranks ${view.page * PAGE_SIZE + 1} to ${(view.page + 1) * PAGE_SIZE} of ${name}`;
    case 'player':
      return `Ranking of ${name} around ${view.player.name}`;
  }
}

function Ranking({
  board,
  state,
  view,
  onView,
  ...actions
}: ListActions & Pick<BoardRankingProps, 'board' | 'state' | 'view' | 'onView'>) {
  const { pickId } = actions;
  const rows = useMemo<Row[]>(
    () =>
      visibleRows(state, {
        ...mainRun(view),
        focusId: focusOf(view, pickId),
        radius: AROUND_SHOWN,
      }),
    [state, view, pickId],
  );
  let list = <RankingSkeleton />;
  if (board.playerCount === 0) {
    list = <p className="empty-state muted">No players on this board yet.</p>;
  } else if (rows.some((row) => row.kind === 'player')) {
    list = (
      <PlayerList
        rows={rows}
        label={listLabel(view, board.name)}
        foundId={view.kind === 'player' ? view.player.id : undefined}
        {...actions}
      />
    );
  }
  return (
    <>
      {view.kind !== 'top' && (
        <RankingNav view={view} playerCount={board.playerCount} onView={onView} />
      )}
      {list}
    </>
  );
}

/** The players a search found, as live as the board's windows hold them. */
function SearchResults({
  search,
  state,
  onShow,
  ...actions
}: ListActions & {
  search: PlayerSearch;
  state: BoardState;
  onShow: (player: RankedPlayer) => void;
}) {
  const found = search.status === 'done' || search.status === 'searching' ? search.players : [];
  const rows = useMemo<Row[]>(
    () =>
      (found ?? []).map((player) => ({
        kind: 'player',
        player: heldPlayer(state, player.id) ?? player,
      })),
    [found, state],
  );
  if (rows.length === 0) return null;
  return <PlayerList rows={rows} label="Players found" onShow={onShow} {...actions} />;
}

/**
 * Brings a player's row into view and gives its first button focus, once the row is drawn (the
 * rows around a player come with the stream).
 */
function useReveal(): (playerId: string) => void {
  const [target, setTarget] = useState<{ id: string; until: number }>();
  useEffect(() => {
    if (target === undefined) return;
    if (Date.now() > target.until) {
      setTarget(undefined);
      return;
    }
    const row = document.querySelector<HTMLElement>(
      `ol.players [data-player-id="${CSS.escape(target.id)}"]`,
    );
    if (row === null) return;
    row.scrollIntoView({ block: 'center' });
    row.querySelector('button')?.focus({ preventScroll: true });
    setTarget(undefined);
  });
  return useCallback((id: string) => setTarget({ id, until: Date.now() + revealForMs }), []);
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
