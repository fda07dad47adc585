import type { BoardView, PlayerState, RankedPlayer } from '../../../contract/board.ts';
import type { BoardEvent, UpdateEvent } from '../../../contract/events.ts';
import { comparePlayers } from '../../../contract/ranking.ts';

/** What a browser knows of one board, as built from its event stream. */
export type BoardState =
  | { phase: 'loading' }
  | { phase: 'ready'; board: BoardView }
  | { phase: 'deleted'; board: BoardView | undefined };

/**
 * What became of one event: `applied` (the state moved on), `ignored` (a duplicate or a stale
 * event: the state is returned as it was), or `resync` (the event skips versions this state never
 * saw, so the caller must fetch the board again; the state is returned as it was).
 */
export type Applied =
  | { outcome: 'applied'; state: BoardState }
  | { outcome: 'ignored'; state: BoardState }
  | { outcome: 'resync'; state: BoardState };

/** The initial state, before any snapshot. */
export const loading: BoardState = { phase: 'loading' };

/**
 * Where an event came from. A snapshot the server puts on a stream is the board as the server has
 * it now, so it wins even when its version is lower (the server restored a backup, or restarted
 * without a change it had shown). A snapshot fetched as JSON may have been overtaken by stream
 * events while it travelled, so an older one is ignored.
 */
export type EventOrigin = 'stream' | 'fetch';

/** Applies one board event to a state by version. Pure: no clock, no I/O, inputs untouched. */
export function applyEvent(
  state: BoardState,
  event: BoardEvent,
  source: EventOrigin = 'stream',
): Applied {
  if (state.phase === 'deleted') return { outcome: 'ignored', state };
  switch (event.type) {
    case 'snapshot': {
      if (
        source === 'fetch' &&
        state.phase === 'ready' &&
        event.board.version < state.board.version
      ) {
        return { outcome: 'ignored', state };
      }
      return { outcome: 'applied', state: { phase: 'ready', board: event.board } };
    }
    case 'update': {
      if (state.phase === 'loading') return { outcome: 'resync', state };
      const { board } = state;
      if (event.version <= board.version) return { outcome: 'ignored', state };
      if (event.since > board.version) return { outcome: 'resync', state };
      return { outcome: 'applied', state: { phase: 'ready', board: applyUpdate(board, event) } };
    }
    case 'deleted':
      return {
        outcome: 'applied',
        state: { phase: 'deleted', board: state.phase === 'ready' ? state.board : undefined },
      };
  }
}

// A board may hold 10,000 players and an update names a few: instead of sorting the whole board
// again, the changed players are taken out and put back where they now belong (binary search on
// the shared display order), and ranks are recounted in one pass. Players whose rank did not
// change keep their objects, so their rows are not drawn again.
function applyUpdate(board: BoardView, update: UpdateEvent): BoardView {
  const changed = new Map<string, PlayerState>(update.players.map((p) => [p.id, p]));
  const removed = new Set(update.removed);
  const sorted: PlayerState[] = [];
  // The changed and removed players this board had: the others are new to it, or were not on it.
  const present = new Set<string>();
  for (const player of board.players) {
    if (changed.has(player.id) || removed.has(player.id)) present.add(player.id);
    else sorted.push(player);
  }
  const compare = comparePlayers(board.order);
  for (const player of changed.values()) {
    if (!removed.has(player.id)) sorted.splice(insertionPoint(sorted, player, compare), 0, player);
  }
  let playerCount = board.playerCount;
  for (const id of removed) if (present.has(id)) playerCount--;
  for (const id of changed.keys()) if (!removed.has(id) && !present.has(id)) playerCount++;
  return {
    ...board,
    version: update.version,
    playerCount: Math.max(playerCount, sorted.length),
    players: recount(sorted),
  };
}

function insertionPoint(
  sorted: readonly PlayerState[],
  player: PlayerState,
  compare: (a: PlayerState, b: PlayerState) => number,
): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const other = sorted[middle];
    if (other !== undefined && compare(other, player) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

function isRanked(player: PlayerState): player is RankedPlayer {
  return 'rank' in player;
}

/** Competition ranks (1, 2, 2, 4) for players already in display order; unchanged ones are kept. */
function recount(sorted: readonly PlayerState[]): RankedPlayer[] {
  const ranked: RankedPlayer[] = [];
  let previous: RankedPlayer | undefined;
  sorted.forEach((player, index) => {
    const rank =
      previous !== undefined && previous.score === player.score ? previous.rank : index + 1;
    previous = isRanked(player) && player.rank === rank ? player : { ...player, rank };
    ranked.push(previous);
  });
  return ranked;
}
