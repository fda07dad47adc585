import { useEffect, useState } from 'react';
import type { SeasonInfo } from '../../../contract/board.ts';
import { routePaths } from '../app/router.ts';
import { Link } from '../ui/Link.tsx';
import { countdownText, redrawAfterMs } from './countdown.ts';
import './seasons.css';

/** The time now, redrawn as often as the countdown to `endsAt` needs (each second near it). */
function useNow(endsAt: string): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setTimeout(() => setNow(new Date()), redrawAfterMs(new Date(endsAt), now));
    return () => clearTimeout(timer);
  }, [endsAt, now]);
  return now;
}

interface SeasonCountdownProps {
  boardId: string;
  season: SeasonInfo;
  /** Links to the past seasons (not on the big screen). */
  withLink?: boolean;
  className?: string;
}

/**
 * "Season 3 · resets in 2 d 4 h". After the reset the board reloads (a `season` reload) and
 * brings the next season with it.
 */
export function SeasonCountdown({
  boardId,
  season,
  withLink = false,
  className,
}: SeasonCountdownProps) {
  const now = useNow(season.endsAt);
  const endsAt = new Date(season.endsAt);
  return (
    <p className={`season-countdown ${className ?? ''}`}>
      <time dateTime={season.endsAt} title={`Resets ${endsAt.toLocaleString()}`}>
        {countdownText(season, now)}
      </time>
      {withLink && season.number > 1 && (
        <>
          {' · '}
          <Link to={routePaths.seasons(boardId)}>Past seasons</Link>
        </>
      )}
    </p>
  );
}
