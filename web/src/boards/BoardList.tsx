import { useCallback, useDeferredValue, useEffect, useMemo, useState } from 'react';
import type { BoardSummary } from '../../../contract/board.ts';
import { ApiKeysPanel } from '../admin/ApiKeysPanel.tsx';
import type { AdminApi, Api } from '../api/client.ts';
import { routePaths } from '../app/router.ts';
import { fold } from '../ui/fold.ts';
import { Link } from '../ui/Link.tsx';
import { SearchField } from '../ui/SearchField.tsx';
import { useTitle } from '../ui/useTitle.ts';
import { NewBoardForm } from './NewBoardForm.tsx';
import './BoardList.css';

type Loaded =
  | { status: 'loading' }
  | { status: 'ready'; boards: BoardSummary[] }
  | { status: 'failed'; message: string };

// Past this many boards, a search field helps find one.
const searchFrom = 9;

/** Every board, loaded again when the page comes back from a background tab; and a retry. */
function useBoardList(api: Api): [Loaded, () => void] {
  const [loaded, setLoaded] = useState<Loaded>({ status: 'loading' });
  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        setLoaded({ status: 'ready', boards: await api.listBoards(signal) });
      } catch (error) {
        if (signal?.aborted) return;
        const message = error instanceof Error ? error.message : String(error);
        setLoaded({ status: 'failed', message });
      }
    },
    [api],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    // Counts change while the page sits in a background tab: refresh when it comes back.
    const onVisible = () => {
      if (document.visibilityState === 'visible') void load(controller.signal);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      controller.abort();
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [load]);

  return [loaded, useCallback(() => void load(), [load])];
}

/** The home page (`/`): every board, with how many play on it; admins create boards here. */
export function BoardList({ api, admin }: { api: Api; admin: AdminApi | undefined }) {
  const [loaded, retry] = useBoardList(api);
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query);
  useTitle(undefined);

  const all = loaded.status === 'ready' ? loaded.boards : [];
  const searchable = all.length >= searchFrom;
  const shown = useMemo(() => {
    const needle = fold(deferredQuery.trim());
    if (!searchable || needle === '') return all;
    return all.filter((board) => fold(board.name).includes(needle));
  }, [all, deferredQuery, searchable]);

  return (
    <section className="boards" aria-busy={loaded.status === 'loading'}>
      <div className="intro">
        <h1 tabIndex={-1}>All boards</h1>
        <p className="muted">Pick a board to watch scores change live, and cheer someone on.</p>
      </div>
      {loaded.status === 'failed' && (
        <div className="banner" role="alert">
          <p>Could not load the boards: {loaded.message}</p>
          <button type="button" className="button" onClick={retry}>
            Try again
          </button>
        </div>
      )}
      {loaded.status === 'loading' && (
        <ul className="board-cards skeleton" aria-hidden="true">
          {['a', 'b', 'c'].map((key) => (
            <li key={key} className="board-card" />
          ))}
        </ul>
      )}
      {admin !== undefined && <NewBoardForm admin={admin} />}
      {loaded.status === 'ready' && all.length === 0 && (
        <p className="empty-state muted">
          {admin === undefined
            ? 'No boards yet. An admin can create one in admin mode.'
            : 'No boards yet: create the first one above.'}
        </p>
      )}
      {searchable && (
        <SearchField
          id="board-search"
          label="Find a board"
          value={query}
          onChange={setQuery}
          status={searchStatus(deferredQuery, shown.length, all.length)}
        />
      )}
      {shown.length > 0 && <BoardCards boards={shown} />}
      {admin !== undefined && loaded.status === 'ready' && (
        <ApiKeysPanel admin={admin} boards={all} />
      )}
    </section>
  );
}

function searchStatus(query: string, shown: number, all: number): string {
  if (query.trim() === '') return `${all} boards.`;
  return shown === 0 ? 'No board has that name.' : `${shown} of ${all} boards.`;
}

function BoardCards({ boards }: { boards: readonly BoardSummary[] }) {
  return (
    <ul className="board-cards">
      {boards.map((board) => (
        <li key={board.id}>
          <Link className="board-card" to={routePaths.board(board.id)} data-testid="board-link">
            <span className="board-card-name">{board.name}</span>
            <span className="board-card-meta">
              <span data-testid="player-count">
                <strong>{board.playerCount.toLocaleString()}</strong>{' '}
                {board.playerCount === 1 ? 'player' : 'players'}
              </span>
              <span>{board.order === 'desc' ? 'Highest wins' : 'Lowest wins'}</span>
            </span>
            <span className="board-card-go" aria-hidden="true">
              →
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}
