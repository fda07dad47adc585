import { PAGE_SIZE } from '../../../contract/windows.ts';
import { lastPage, type RankingView } from './rankingView.ts';

interface RankingNavProps {
  view: Exclude<RankingView, { kind: 'top' }>;
  playerCount: number;
  onView: (view: RankingView) => void;
}

/** Where the ranking is: "Ranks 101–125 of 10,000", or "Around Ada". */
export function whereText(view: RankingNavProps['view'], playerCount: number): string {
  if (view.kind === 'player') return `Around ${view.player.name}`;
  const first = view.page * PAGE_SIZE + 1;
  const last = Math.min(playerCount, first + PAGE_SIZE - 1);
  return `Ranks ${first.toLocaleString()}–${last.toLocaleString()} of ${playerCount.toLocaleString()}`;
}

/**
 * Where the ranking is, away from the top: a page of ranks (with the pages before and after it)
 * or around a player, and the way back to the top.
 */
export function RankingNav({ view, playerCount, onView }: RankingNavProps) {
  const page = view.kind === 'rank' ? view.page : undefined;
  return (
    <nav className="ranking-nav" aria-label="Ranking pages">
      <p className="ranking-where" aria-live="polite">
        {whereText(view, playerCount)}
      </p>
      <div className="ranking-moves">
        {page !== undefined && page > 0 && (
          <button
            type="button"
            className="button quiet small"
            onClick={() => onView({ kind: 'rank', page: page - 1 })}
          >
            <span aria-hidden="true">←</span> Previous {PAGE_SIZE}
          </button>
        )}
        {page !== undefined && page < lastPage(playerCount) && (
          <button
            type="button"
            className="button quiet small"
            onClick={() => onView({ kind: 'rank', page: page + 1 })}
          >
            Next {PAGE_SIZE} <span aria-hidden="true">→</span>
          </button>
        )}
        <button type="button" className="button small" onClick={() => onView({ kind: 'top' })}>
          <span aria-hidden="true">↑</span> Back to the top
        </button>
      </div>
    </nav>
  );
}
