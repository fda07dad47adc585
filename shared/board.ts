/** Shapes of the public API, shared by the origin (which produces them) and the web app. */

export type Order = 'desc' | 'asc';

/** A player as stored and as carried in `update` events. */
export interface PlayerState {
  id: string;
  name: string;
  score: number;
  /**
   * The board version at which the player reached its current score. Among equal scores the
   * player who got there first ranks first, so clients need this to re-rank on their own.
   */
  scoredAt: number;
}

/** A player as shown: its state plus its rank on the board (1-based; ties share a rank). */
export interface RankedPlayer extends PlayerState {
  rank: number;
}

export interface BoardSummary {
  id: string;
  name: string;
  order: Order;
  playerCount: number;
}

export interface BoardView {
  id: string;
  name: string;
  order: Order;
  version: number;
  /** Total players on the board; `players` may be a window of them (`limit`, `around`). */
  playerCount: number;
  players: RankedPlayer[];
}

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Ids are opaque, URL-safe, and short: checked before any lookup. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
