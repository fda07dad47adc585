import { memo, useEffect, useRef } from 'react';
import type { RankedPlayer } from '../../../contract/board.ts';

interface PlayerRowProps {
  player: RankedPlayer;
  /** This browser last voted for this player. */
  isPick: boolean;
  /** The viewer looked for this player (a search result it asked to see). */
  isFound?: boolean;
  /** Votes are paused (the server asked us to slow down). */
  paused: boolean;
  /** Without it, the row has no +1 button (big screen, embed). */
  onVote: ((player: RankedPlayer) => void) | undefined;
  /** With it (admin mode), the row has an Edit button. */
  onEdit: ((player: RankedPlayer) => void) | undefined;
  /** With it (a search result), the row has a button that shows the player in the ranking. */
  onShow?: ((player: RankedPlayer) => void) | undefined;
}

const medals = ['gold', 'silver', 'bronze'];
const hues = 8;

/** A stable colour for a player's avatar, from its id. */
function hueOf(id: string): number {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return hash % hues;
}

function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words.at(-1)] : [words[0]];
  return letters
    .map((word) => Array.from(word ?? '')[0] ?? '')
    .join('')
    .toLocaleUpperCase();
}

function flash(element: HTMLElement): void {
  const style = getComputedStyle(element);
  const highlight = style.getPropertyValue('--flash').trim();
  element.animate([{ backgroundColor: highlight }, { backgroundColor: style.backgroundColor }], {
    duration: 1200,
    easing: 'ease-out',
  });
  if (!window.matchMedia('(prefers-reduced-motion: reduce)').matches) {
    element.animate([{ transform: 'scale(1.2)' }, { transform: 'scale(1)' }], {
      duration: 350,
      easing: 'cubic-bezier(0.3, 1.6, 0.6, 1)',
    });
  }
}

function Rank({ rank }: { rank: number }) {
  const medal = medals[rank - 1];
  return (
    <span className={medal === undefined ? 'rank' : `rank medal ${medal}`}>
      <span className="visually-hidden">Rank </span>
      {rank}
      {medal !== undefined && <span className="visually-hidden">, {medal} medal</span>}
    </span>
  );
}

function PlayerRowView({
  player,
  isPick,
  isFound = false,
  paused,
  onVote,
  onEdit,
  onShow,
}: PlayerRowProps) {
  const scoreRef = useRef<HTMLSpanElement>(null);
  const shownScore = useRef(player.score);

  useEffect(() => {
    if (shownScore.current === player.score) return;
    shownScore.current = player.score;
    if (scoreRef.current !== null) flash(scoreRef.current);
  }, [player.score]);

  return (
    <li
      className={['player', isPick && 'pick', isFound && 'found'].filter(Boolean).join(' ')}
      data-testid="player-row"
      data-player-id={player.id}
      data-rank={player.rank}
      data-flip-id={player.id}
    >
      <Rank rank={player.rank} />
      <span className={`avatar hue-${hueOf(player.id)}`} aria-hidden="true">
        {initialsOf(player.name)}
      </span>
      <span className="name">
        <span className="name-text" title={player.name}>
          {player.name}
        </span>
        {isPick && <span className="pick-tag">Your pick</span>}
      </span>
      <span className="score" ref={scoreRef}>
        <span data-testid="score">{player.score.toLocaleString()}</span>
        <span className="visually-hidden"> points</span>
      </span>
      {(onVote !== undefined || onEdit !== undefined || onShow !== undefined) && (
        <span className="row-actions">
          {onShow !== undefined && (
            <button
              type="button"
              className="show"
              aria-label={`Show ${player.name} in the ranking`}
              onClick={() => onShow(player)}
            >
              Show
            </button>
          )}
          {onEdit !== undefined && (
            <button
              type="button"
              className="edit"
              data-testid="edit-player"
              aria-label={`Edit ${player.name}`}
              onClick={() => onEdit(player)}
            >
              Edit
            </button>
          )}
          {onVote !== undefined && (
            <button
              type="button"
              className="plus-one"
              data-testid="plus-one"
              aria-label={`+1 for ${player.name}`}
              aria-disabled={paused || undefined}
              onClick={() => onVote(player)}
            >
              +1
            </button>
          )}
        </span>
      )}
    </li>
  );
}

/** One player on the board: rank (a medal for the top three), name, score, +1 and Edit buttons. */
export const PlayerRow = memo(
  PlayerRowView,
  (a, b) =>
    a.player.id === b.player.id &&
    a.player.name === b.player.name &&
    a.player.score === b.player.score &&
    a.player.rank === b.player.rank &&
    a.isPick === b.isPick &&
    a.isFound === b.isFound &&
    a.paused === b.paused &&
    a.onVote === b.onVote &&
    a.onEdit === b.onEdit &&
    a.onShow === b.onShow,
);
