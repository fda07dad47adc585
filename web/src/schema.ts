import * as z from 'zod/mini';
import type {
  BoardSummary,
  BoardView,
  ErrorBody,
  PlayerState,
  RankedPlayer,
} from '../../contract/board.ts';

// What the server sends is checked before it reaches the UI: a malformed event becomes a resync,
// never a half-drawn board. Each schema is pinned to its shared type so the two cannot drift.

const order = z.enum(['desc', 'asc']);
const count = z.int().check(z.nonnegative());

export const playerStateSchema: z.ZodMiniType<PlayerState> = z.object({
  id: z.string(),
  name: z.string(),
  score: z.number(),
  scoredAt: z.number(),
});

export const rankedPlayerSchema: z.ZodMiniType<RankedPlayer> = z.object({
  id: z.string(),
  name: z.string(),
  score: z.number(),
  scoredAt: z.number(),
  rank: z.int(),
});

export const boardViewSchema: z.ZodMiniType<BoardView> = z.object({
  id: z.string(),
  name: z.string(),
  order,
  version: count,
  playerCount: count,
  players: z.array(rankedPlayerSchema),
});

const boardSummarySchema: z.ZodMiniType<BoardSummary> = z.object({
  id: z.string(),
  name: z.string(),
  order,
  playerCount: count,
});

export const boardListSchema = z.object({ boards: z.array(boardSummarySchema) });

export const errorBodySchema: z.ZodMiniType<ErrorBody> = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

/** The `data:` of an SSE `update` event (its type travels as the event name). */
export const updateDataSchema = z.object({
  version: count,
  since: count,
  players: z.array(playerStateSchema),
  removed: z.array(z.string()),
});

/** The `data:` of an SSE `deleted` event. */
export const deletedDataSchema = z.object({ version: count });
