import * as z from 'zod/mini';

/**
 * The shapes of boards and players on the wire. The origin produces them, the web checks what it
 * receives against them, and the types are derived from the schemas so the two cannot drift.
 */

/** Ids are opaque, URL-safe, and short: checked before any lookup. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** Scores are whole numbers within ±MAX_SCORE (safe integers with room for any sum of two). */
export const MAX_SCORE = 1_000_000_000_000;

const count = z.int().check(z.nonnegative());

export const orderSchema = z.enum(['desc', 'asc']);
export type Order = z.infer<typeof orderSchema>;

/** How a submitted score combines with the player's current one (a board setting). */
export const operatorSchema = z.enum(['incr', 'set', 'best', 'decr']);
export type ScoreOperator = z.infer<typeof operatorSchema>;

/** When a board resets on its own: a local time of day in an IANA time zone. */
export const scheduleSchema = z.strictObject({
  every: z.enum(['day', 'week', 'month']),
  /** `HH:MM`, 24-hour clock. */
  at: z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour clock)')),
  /** `Europe/Paris`, `America/New_York`, `UTC`… */
  timeZone: z.string().check(z.minLength(1), z.maxLength(64)),
  /** ISO weekday, 1 = Monday … 7 = Sunday: weekly schedules only. */
  weekday: z.optional(z.int().check(z.minimum(1), z.maximum(7))),
  /** Day of the month, 1 to 31 (shorter months reset on their last day): monthly only. */
  day: z.optional(z.int().check(z.minimum(1), z.maximum(31))),
});
export type ScheduleBody = z.infer<typeof scheduleSchema>;

/** The season a board is in (boards with a schedule). */
export const seasonInfoSchema = z.object({
  /** 1 for the first season; grows by one at each reset. */
  number: z.int().check(z.minimum(1)),
  startedAt: z.string(),
  /** The next scheduled reset (ISO 8601, UTC). */
  endsAt: z.string(),
  schedule: scheduleSchema,
});
export type SeasonInfo = z.infer<typeof seasonInfoSchema>;

/** A player as stored and as carried in `update` events. */
export const playerStateSchema = z.object({
  id: z.string(),
  name: z.string(),
  score: z.int(),
  /**
   * The board version at which the player reached its current score. Among equal scores the
   * player who got there first ranks first, so clients need this to re-rank on their own.
   */
  scoredAt: count,
  /** The game's own id for the player, when a score batch created it by that key. */
  externalKey: z.optional(z.string()),
});
export type PlayerState = z.infer<typeof playerStateSchema>;

/** A player as shown: its state plus its rank on the board (1-based; ties share a rank). */
export const rankedPlayerSchema = z.extend(playerStateSchema, { rank: z.int() });
export type RankedPlayer = z.infer<typeof rankedPlayerSchema>;

export const boardSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  order: orderSchema,
  operator: operatorSchema,
  playerCount: count,
  season: z.optional(seasonInfoSchema),
});
export type BoardSummary = z.infer<typeof boardSummarySchema>;

/** A board as shown; `players` is a window of it (`limit`, `from`, `around`). */
export const boardViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  order: orderSchema,
  /** How submitted scores combine with a player's (see contract/scores.ts). */
  operator: operatorSchema,
  /** The season under way, on a board with a reset schedule. */
  season: z.optional(seasonInfoSchema),
  version: count,
  /** Total players on the board. */
  playerCount: count,
  /** The 0-based position (in display order) of `players[0]`: where the window starts. */
  offset: count,
  players: z.array(rankedPlayerSchema),
});
export type BoardView = z.infer<typeof boardViewSchema>;

/** Players found by a name search, each with its rank. */
export const playerListSchema = z.object({ players: z.array(rankedPlayerSchema) });
export type PlayerList = z.infer<typeof playerListSchema>;

export const boardListSchema = z.object({ boards: z.array(boardSummarySchema) });
export type BoardList = z.infer<typeof boardListSchema>;

/** What an import did. */
export const importResultSchema = z.object({
  added: count,
  skipped: count,
  version: count,
  playerCount: count,
});
export type ImportResult = z.infer<typeof importResultSchema>;

/** Every error the API answers with: a stable `code` to branch on and a message for people. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    /** For an import: the lines refused, each with what is wrong (the first 100). */
    lines: z.optional(z.array(z.object({ line: z.int(), message: z.string() }))),
    /** For a score batch: the entries refused, by index (0-based), each with what is wrong. */
    entries: z.optional(z.array(z.object({ index: z.int(), message: z.string() }))),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
