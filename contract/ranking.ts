import type { Order, PlayerState, RankedPlayer } from './board.ts';

/** Compares two players in display order: by score in the board's order, then who scored first. */
export function comparePlayers(order: Order): (a: PlayerState, b: PlayerState) => number {
  const direction = order === 'desc' ? -1 : 1;
  return (a, b) =>
    a.score !== b.score
      ? (a.score - b.score) * direction
      : a.scoredAt !== b.scoredAt
        ? a.scoredAt - b.scoredAt
        : a.id < b.id
          ? -1
          : a.id > b.id
            ? 1
            : 0;
}

/** Sorts players for display and gives them competition ranks: equal scores share a rank (1, 2, 2, 4). */
export function rankPlayers(players: readonly PlayerState[], order: Order): RankedPlayer[] {
  const sorted = [...players].sort(comparePlayers(order));
  const ranked: RankedPlayer[] = [];
  let previous: RankedPlayer | undefined;
  sorted.forEach((player, index) => {
    const rank =
      previous !== undefined && previous.score === player.score ? previous.rank : index + 1;
    previous = { ...player, rank };
    ranked.push(previous);
  });
  return ranked;
}

/**
 * A window of `limit` players around one player, in display order, clamped to the board's ends so
 * the window stays full where it can.
 */
export function windowAround(
  ranked: readonly RankedPlayer[],
  playerId: string,
  limit: number,
): RankedPlayer[] | undefined {
  const index = ranked.findIndex((p) => p.id === playerId);
  if (index < 0) return undefined;
  const start = Math.max(0, Math.min(index - Math.floor((limit - 1) / 2), ranked.length - limit));
  return ranked.slice(start, start + limit);
}
