import * as z from 'zod/mini';
import { type BoardView, boardViewSchema, playerStateSchema } from './board.ts';

const count = z.int().check(z.nonnegative());

/** The `data:` of an SSE `snapshot` event: the full board (or the window a stream watches). */
export const snapshotDataSchema = boardViewSchema;

/**
 * The `data:` of an SSE `update` event: what changed between versions `since` and `version`.
 * Players carry their absolute state, so an update applies to any client state at a version in
 * [since, version).
 */
export const updateDataSchema = z.object({
  version: count,
  since: count,
  players: z.array(playerStateSchema),
  removed: z.array(z.string()),
});
export type UpdateData = z.infer<typeof updateDataSchema>;

/** The `data:` of an SSE `deleted` event: the board is gone and clients stop listening. */
export const deletedDataSchema = z.object({ version: count });
export type DeletedData = z.infer<typeof deletedDataSchema>;

/** The full board: sent first on every stream, and again whenever a client cannot catch up. */
export interface SnapshotEvent {
  type: 'snapshot';
  board: BoardView;
}

/** What changed on a board between two versions. */
export interface UpdateEvent extends UpdateData {
  type: 'update';
}

/** The board is gone. */
export interface DeletedEvent extends DeletedData {
  type: 'deleted';
}

/** Everything published on a board's channel, told apart by `type` (the SSE event name). */
export type BoardEvent = SnapshotEvent | UpdateEvent | DeletedEvent;

/** The event names a stream carries. */
export const EVENT_TYPES = [
  'snapshot',
  'update',
  'deleted',
] as const satisfies readonly BoardEvent['type'][];

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

/**
 * Reads one received SSE event back into a `BoardEvent`, checking its data against the schema.
 * Returns undefined for an unknown event name or data that does not fit.
 */
export function decodeEvent(type: string, data: string): BoardEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  switch (type) {
    case 'snapshot': {
      const board = snapshotDataSchema.safeParse(json);
      return board.success ? { type: 'snapshot', board: board.data } : undefined;
    }
    case 'update': {
      const update = updateDataSchema.safeParse(json);
      return update.success ? { type: 'update', ...update.data } : undefined;
    }
    case 'deleted': {
      const deleted = deletedDataSchema.safeParse(json);
      return deleted.success ? { type: 'deleted', ...deleted.data } : undefined;
    }
    default:
      return undefined;
  }
}

/** One event in `text/event-stream` framing. JSON never contains a raw newline. */
export function encodeSse(event: BoardEvent): string {
  return `event: ${event.type}\nid: ${eventVersion(event)}\ndata: ${JSON.stringify(eventData(event))}\n\n`;
}

/** The GRIP channel a board's events are published on. */
export function boardChannel(boardId: string): string {
  return `board-${boardId}`;
}
