import type { BoardView, PlayerState } from './board.ts';

/** The full board: sent first on every stream, and again whenever a client cannot catch up. */
export interface SnapshotEvent {
  type: 'snapshot';
  board: BoardView;
}

/**
 * What changed on a board between versions `since` and `version`. Players carry their absolute
 * state, so an update applies to any client state at a version in [since, version).
 */
export interface UpdateEvent {
  type: 'update';
  version: number;
  since: number;
  players: PlayerState[];
  removed: string[];
}

/** The board is gone; clients stop listening. */
export interface DeletedEvent {
  type: 'deleted';
  version: number;
}

export type BoardEvent = SnapshotEvent | UpdateEvent | DeletedEvent;

/** The SSE `id:` of an event: the board version it brings a client to. */
export function eventVersion(event: BoardEvent): number {
  return event.type === 'snapshot' ? event.board.version : event.version;
}

/** The JSON carried in the SSE `data:` line (the `type` travels as the SSE event name). */
export function eventData(event: BoardEvent): unknown {
  switch (event.type) {
    case 'snapshot':
      return event.board;
    case 'update':
      return {
        version: event.version,
        since: event.since,
        players: event.players,
        removed: event.removed,
      };
    case 'deleted':
      return { version: event.version };
  }
}

/** One event in `text/event-stream` framing. JSON never contains a raw newline. */
export function encodeSse(event: BoardEvent): string {
  return `event: ${event.type}\nid: ${eventVersion(event)}\ndata: ${JSON.stringify(eventData(event))}\n\n`;
}

/** The channel a board's events are published on. */
export function boardChannel(boardId: string): string {
  return `board-${boardId}`;
}
