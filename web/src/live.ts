import type { BoardView, PlayerState } from '../../shared/board.ts';
import type { BoardEvent } from '../../shared/events.ts';
import { rankPlayers } from '../../shared/ranking.ts';
import { boardViewSchema, deletedDataSchema, updateDataSchema } from './schema.ts';

/** What a browser knows of one board, as built from its event stream. */
export type LiveState =
  | { phase: 'loading' }
  | { phase: 'ready'; board: BoardView }
  | { phase: 'deleted'; board: BoardView | undefined };

/**
 * What became of one event: `applied` (the state moved on), `ignored` (a duplicate or a stale
 * event: the state is returned as it was), or `resync` (the event skips versions this state never
 * saw, so the caller must fetch the board again; the state is returned as it was).
 */
export type Applied =
  | { outcome: 'applied'; state: LiveState }
  | { outcome: 'ignored'; state: LiveState }
  | { outcome: 'resync'; state: LiveState };

/** The initial state, before any snapshot. */
export const loading: LiveState = { phase: 'loading' };

/** Applies one board event to a state by version. Pure: no clock, no I/O, inputs untouched. */
export function applyEvent(state: LiveState, event: BoardEvent): Applied {
  if (state.phase === 'deleted') return { outcome: 'ignored', state };
  switch (event.type) {
    case 'snapshot': {
      // A snapshot carries the whole board, so it can only be stale, never a gap.
      if (state.phase === 'ready' && event.board.version < state.board.version) {
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

function applyUpdate(board: BoardView, update: Extract<BoardEvent, { type: 'update' }>): BoardView {
  const players = new Map<string, PlayerState>(board.players.map((p) => [p.id, p]));
  let playerCount = board.playerCount;
  for (const player of update.players) {
    if (!players.has(player.id)) playerCount++;
    players.set(player.id, player);
  }
  for (const id of update.removed) {
    if (players.delete(id)) playerCount--;
  }
  return {
    ...board,
    version: update.version,
    playerCount: Math.max(playerCount, players.size),
    players: rankPlayers([...players.values()], board.order),
  };
}

/**
 * Reads one SSE message (its event name and `data:`) as a board event; `undefined` when it is not
 * one of ours or does not parse, which callers treat as a reason to resync.
 */
export function parseEvent(type: string, data: string): BoardEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  switch (type) {
    case 'snapshot': {
      const parsed = boardViewSchema.safeParse(json);
      return parsed.success ? { type: 'snapshot', board: parsed.data } : undefined;
    }
    case 'update': {
      const parsed = updateDataSchema.safeParse(json);
      return parsed.success ? { type: 'update', ...parsed.data } : undefined;
    }
    case 'deleted': {
      const parsed = deletedDataSchema.safeParse(json);
      return parsed.success ? { type: 'deleted', ...parsed.data } : undefined;
    }
    default:
      return undefined;
  }
}
