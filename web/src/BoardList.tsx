import { useCallback, useEffect, useState } from 'react';
import type { BoardSummary } from '../../shared/board.ts';
import type { Api } from './api.ts';
import { Link } from './Link.tsx';
import { routePaths } from './router.ts';
import { useTitle } from './useTitle.ts';

type Loaded =
  | { status: 'loading' }
  | { status: 'ready'; boards: BoardSummary[] }
  | { status: 'failed'; message: string };

/** The home page (`/`): every board, with how many play on it. */
export function BoardList({ api }: { api: Api }) {
  const [loaded, setLoaded] = useState<Loaded>({ status: 'loading' });
  useTitle(undefined);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const boards = await api.listBoards(signal);
        setLoaded({ status: 'ready', boards });
      } catch (error) {
        if (signal?.aborted) return;
        setLoaded({
          status: 'failed',
          message: error instanceof Error ? error.message : String(error),
        });
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

  return (
    <section className="boards" aria-busy={loaded.status === 'loading'}>
      <div className="intro">
        <h1 tabIndex={-1}>All boards</h1>
        <p className="muted">Pick a board to watch scores change live, and cheer someone on.</p>
      </div>
      {loaded.status === 'failed' && (
        <div className="banner" role="alert">
          <p>Could not load the boards: {loaded.message}</p>
          <button type="button" className="button" onClick={() => void load()}>
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
      {loaded.status === 'ready' && loaded.boards.length === 0 && (
        <p className="empty-state muted">No boards yet. An admin can create one with the API.</p>
      )}
      {loaded.status === 'ready' && loaded.boards.length > 0 && (
        <ul className="board-cards">
          {loaded.boards.map((board) => (
            <li key={board.id}>
              <Link className="board-card" to={routePaths.board(board.id)} data-testid="board-link">
                <span className="board-card-name">{board.name}</span>
                <span className="board-card-meta">
                  <span>
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
      )}
    </section>
  );
}
