import type { RankedPlayer } from '../../../contract/board.ts';
import { windowAround } from '../../../contract/ranking.ts';
import { fold } from '../ui/fold.ts';

/** One line of the rendered board: a player, or a marker for players left out between two. */
export type Row =
  | { kind: 'player'; player: RankedPlayer }
  | { kind: 'gap'; key: string; hidden: number };

export interface RowOptions {
  /** How many players to show from the top. */
  top: number;
  /** A player to keep in view wherever it ranks (the one this browser last voted for). */
  focusId?: string | undefined;
  /** How many players the window around the focused player holds. */
  around: number;
}

/**
 * The rows to render for a board that may hold thousands of players: the top `top`, then a window
 * around the focused player when it ranks below them, with gaps saying how many are left out.
 */
export function visibleRows(players: readonly RankedPlayer[], options: RowOptions): Row[] {
  const top = players.slice(0, options.top);
  const rows: Row[] = top.map((player) => ({ kind: 'player', player }));
  let shown = top.length;
  const focusIndex =
    options.focusId === undefined ? -1 : players.findIndex((p) => p.id === options.focusId);
  if (focusIndex >= shown && options.focusId !== undefined) {
    const around = windowAround(players, options.focusId, options.around) ?? [];
    const aroundStart = focusIndex - around.findIndex((p) => p.id === options.focusId);
    // Where the window reaches into the top, those players are already shown.
    const from = Math.max(shown, aroundStart);
    const to = aroundStart + around.length;
    if (from > shown) rows.push({ kind: 'gap', key: 'gap-above', hidden: from - shown });
    for (const player of players.slice(from, to)) rows.push({ kind: 'player', player });
    shown = to;
  }
  if (players.length > shown)
    rows.push({ kind: 'gap', key: 'gap-end', hidden: players.length - shown });
  return rows;
}

/** Players whose name contains `query` (any case, any accents), in rank order, at most `limit`. */
export function searchPlayers(
  players: readonly RankedPlayer[],
  query: string,
  limit: number,
): { matches: RankedPlayer[]; total: number } {
  const needle = fold(query.trim());
  if (needle === '') return { matches: [], total: 0 };
  const matches: RankedPlayer[] = [];
  let total = 0;
  for (const player of players) {
    if (!fold(player.name).includes(needle)) continue;
    total++;
    if (matches.length < limit) matches.push(player);
  }
  return { matches, total };
}
