import { useEffect, useState } from 'react';
import type { SeasonList, SeasonView } from '../../../contract/scores.ts';
import type { Api } from '../api/client.ts';
import { navigate, routePaths } from '../app/router.ts';
import { Link } from '../ui/Link.tsx';
import { useTitle } from '../ui/useTitle.ts';
import { SeasonCountdown } from './SeasonCountdown.tsx';
import './seasons.css';

/** Rows of a past season shown at once. */
export const SEASON_PAGE = 25;

type Loaded<T> =
  | { status: 'loading' }
  | { status: 'ready'; value: T }
  | { status: 'failed'; message: string };

/** Loads `load()` again whenever `key` changes; the last answer wins. */
function useLoaded<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ status: 'loading' });
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` names what `load` reads
  useEffect(() => {
    const controller = new AbortController();
    setLoaded({ status: 'loading' });
    load(controller.signal).then(
      (value) => setLoaded({ status: 'ready', value }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setLoaded({
          status: 'failed',
          message: error instanceof Error ? error.message : String(error),
        });
      },
    );
    return () => controller.abort();
  }, [key]);
  return loaded;
}

interface PastSeasonsProps {
  api: Api;
  boardId: string;
  /** The season shown; the newest past one when undefined. */
  season: number | undefined;
}

/** `/b/<id>/seasons[/<n>]`: a board's past seasons, and one's final standings, a page at a time. */
export function PastSeasons({ api, boardId, season }: PastSeasonsProps) {
  const list = useLoaded(boardId, (signal) => api.listSeasons(boardId, signal));
  useTitle('Past seasons');
  const seasons = list.status === 'ready' ? list.value.seasons : [];
  const shown = season ?? seasons[0]?.number;
  return (
    <section className="past-seasons" aria-labelledby="past-seasons-title">
      <Link className="back" to={routePaths.board(boardId)}>
        <span aria-hidden="true">←</span> Back to the board
      </Link>
      <h1 id="past-seasons-title" tabIndex={-1}>
        Past seasons
      </h1>
      {list.status === 'loading' && <p className="muted">Loading…</p>}
      {list.status === 'failed' && <p role="alert">{list.message}</p>}
      {list.status === 'ready' && <SeasonNav boardId={boardId} list={list.value} shown={shown} />}
      {shown !== undefined && (
        <SeasonStandings key={shown} api={api} boardId={boardId} number={shown} />
      )}
    </section>
  );
}

function SeasonNav({
  boardId,
  list,
  shown,
}: {
  boardId: string;
  list: SeasonList;
  shown: number | undefined;
}) {
  return (
    <>
      {list.current !== undefined && <SeasonCountdown boardId={boardId} season={list.current} />}
      {list.seasons.length === 0 ? (
        <p className="muted">No season has ended yet.</p>
      ) : (
        <nav aria-label="Seasons">
          <ul className="past-seasons-list">
            {list.seasons.map((s) => (
              <li key={s.number}>
                <Link
                  to={routePaths.seasons(boardId, s.number)}
                  aria-current={s.number === shown ? 'page' : undefined}
                >
                  Season {s.number}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
    </>
  );
}

function SeasonStandings({ api, boardId, number }: { api: Api; boardId: string; number: number }) {
  const [from, setFrom] = useState(0);
  const view = useLoaded(`${number}:${from}`, (signal) =>
    api.getSeason(boardId, number, { from, limit: SEASON_PAGE }, signal),
  );
  if (view.status === 'loading') return <p className="muted">Loading season {number}…</p>;
  if (view.status === 'failed') {
    return (
      <p role="alert">
        {view.message}{' '}
        <button
          type="button"
          className="button quiet"
          onClick={() => navigate(routePaths.seasons(boardId))}
        >
          Newest season
        </button>
      </p>
    );
  }
  return <StandingsTable view={view.value} from={from} onPage={setFrom} />;
}

function StandingsTable({
  view,
  from,
  onPage,
}: {
  view: SeasonView;
  from: number;
  onPage: (from: number) => void;
}) {
  const started = new Date(view.startedAt).toLocaleDateString();
  const ended = new Date(view.endedAt).toLocaleString();
  const last = Math.min(from + view.players.length, view.playerCount);
  return (
    <>
      <h2>Season {view.number}</h2>
      <p className="muted">
        {started} to {ended} · {view.playerCount} {view.playerCount === 1 ? 'player' : 'players'}
      </p>
      <table className="past-season-table">
        <thead>
          <tr>
            <th className="number" scope="col">
              Rank
            </th>
            <th scope="col">Name</th>
            <th className="number" scope="col">
              Score
            </th>
          </tr>
        </thead>
        <tbody>
          {view.players.map((p) => (
            <tr key={p.id}>
              <td className="number">{p.rank}</td>
              <td>{p.name}</td>
              <td className="number">{p.score.toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {view.playerCount > SEASON_PAGE && (
        <nav className="past-season-pager" aria-label="Pages of this season">
          <button
            type="button"
            className="button quiet"
            disabled={from === 0}
            onClick={() => onPage(Math.max(0, from - SEASON_PAGE))}
          >
            Previous
          </button>
          <span>
            {from + 1}–{last} of {view.playerCount}
          </span>
          <button
            type="button"
            className="button quiet"
            disabled={last >= view.playerCount}
            onClick={() => onPage(from + SEASON_PAGE)}
          >
            Next
          </button>
        </nav>
      )}
    </>
  );
}
