import * as z from 'zod/mini';
import { boardViewSchema, rankedPlayerSchema } from './board.ts';

/**
 * The live stream of a board, as `text/event-stream`. A stream watches a window of the board (see
 * `windows.ts`): it hears the board's own channel (`board`, `reload`, `deleted`) and the channels
 * of the pages its window covers (`page`). The SSE event name is the `type`; the SSE `id` is the
 * board version the event brings the client to, so a reconnecting client resumes with
 * `Last-Event-ID`.
 */

const count = z.int().check(z.nonnegative());

/** The board without its players: what every stream is told first and whenever it changes. */
export const boardMetaSchema = z.pick(boardViewSchema, {
  id: true,
  name: true,
  order: true,
  operator: true,
  season: true,
  version: true,
  playerCount: true,
});
export type BoardMeta = z.infer<typeof boardMetaSchema>;

/**
 * One page of the ranking as it is at `version`: the players at positions
 * [page * PAGE_SIZE, page * PAGE_SIZE + players.length), in display order, with their exact ranks.
 * It replaces whatever the client held for that page; fewer than PAGE_SIZE players means the
 * board ends there.
 */
export const pageDataSchema = z.object({
  version: count,
  page: count,
  players: z.array(rankedPlayerSchema),
});
export type PageData = z.infer<typeof pageDataSchema>;

/** Why a board asks its viewers to load their window again. */
export const reloadReasonSchema = z.enum(['reset', 'import', 'restore', 'repair', 'season']);
export type ReloadReason = z.infer<typeof reloadReasonSchema>;

/**
 * Much of the board changed at once (a reset, an import, a restore), or the origin could not
 * publish what changed: the client loads its window again (`GET /boards/:id/?...&v=<version>`),
 * after a random pause of up to `spreadMs` so that a crowd does not arrive in the same second.
 */
export const reloadDataSchema = z.object({
  version: count,
  reason: reloadReasonSchema,
  spreadMs: count,
});
export type ReloadData = z.infer<typeof reloadDataSchema>;

/** The board is gone; clients stop listening. */
export const deletedDataSchema = z.object({ version: count });
export type DeletedData = z.infer<typeof deletedDataSchema>;

export interface BoardMetaEvent {
  type: 'board';
  board: BoardMeta;
}
export interface PageEvent extends PageData {
  type: 'page';
}
export interface ReloadEvent extends ReloadData {
  type: 'reload';
}
export interface DeletedEvent extends DeletedData {
  type: 'deleted';
}

/** Everything a stream carries, told apart by `type` (the SSE event name). */
export type BoardEvent = BoardMetaEvent | PageEvent | ReloadEvent | DeletedEvent;

/** The SSE `id:` of an event: the board version it brings a client to. */
export function eventVersion(event: BoardEvent): number {
  return event.type === 'board' ? event.board.version : event.version;
}

/** The JSON carried in the SSE `data:` line (the `type` travels as the SSE event name). */
export function eventData(event: BoardEvent): unknown {
  switch (event.type) {
    case 'board':
      return event.board;
    case 'page':
      return { version: event.version, page: event.page, players: event.players };
    case 'reload':
      return { version: event.version, reason: event.reason, spreadMs: event.spreadMs };
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
    case 'board': {
      const board = boardMetaSchema.safeParse(json);
      return board.success ? { type: 'board', board: board.data } : undefined;
    }
    case 'page': {
      const page = pageDataSchema.safeParse(json);
      return page.success ? { type: 'page', ...page.data } : undefined;
    }
    case 'reload': {
      const reload = reloadDataSchema.safeParse(json);
      return reload.success ? { type: 'reload', ...reload.data } : undefined;
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

/** The GRIP channel of a board's own events (`board`, `reload`, `deleted`). */
export function boardChannel(boardId: string): string {
  return `board-${boardId}`;
}

/** The GRIP channel of one page of a board. `.` never appears in an id, so names cannot clash. */
export function pageChannel(boardId: string, page: number): string {
  return `board-${boardId}.p${page}`;
}
