import * as z from 'zod/mini';
import { ID_PATTERN, MAX_SCORE, rankedPlayerSchema, seasonInfoSchema } from './board.ts';
import { nameSchema } from './requests.ts';

export {
  operatorSchema,
  type ScheduleBody,
  type ScoreOperator,
  type SeasonInfo,
  scheduleSchema,
  seasonInfoSchema,
} from './board.ts';

/*
 * Score sources on the wire: board operators, season schedules, score batches from game servers,
 * API keys, past seasons. The origin checks every request against these; the web and clients use
 * the same shapes.
 */

const count = z.int().check(z.nonnegative());

/** A game's own user id: 1 to 128 printable ASCII characters. */
export const externalKeySchema = z
  .string()
  .check(
    z.minLength(1, 'must not be empty'),
    z.maxLength(128, 'must be at most 128 characters'),
    z.regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  );

/** Most entries one batch may carry. */
export const MAX_BATCH_ENTRIES = 1_000;

/** One entry of a batch: a player by id or by external key, and the score the operator applies. */
export const scoreEntrySchema = z
  .strictObject({
    playerId: z.optional(z.string().check(z.regex(ID_PATTERN, 'is not a player id'))),
    externalKey: z.optional(externalKeySchema),
    /** The display name for a player created by this entry (external key not yet on the board). */
    name: z.optional(nameSchema),
    score: z
      .int({ error: 'must be a whole number' })
      .check(z.minimum(-MAX_SCORE), z.maximum(MAX_SCORE)),
  })
  .check(
    z.refine(
      (e) => (e.playerId === undefined) !== (e.externalKey === undefined),
      'give playerId or externalKey (one of them)',
    ),
  );
export type ScoreEntry = z.infer<typeof scoreEntrySchema>;

export const scoreBatchBody = z.strictObject({
  entries: z
    .array(scoreEntrySchema)
    .check(
      z.minLength(1, 'must hold at least one entry'),
      z.maxLength(MAX_BATCH_ENTRIES, `must hold at most ${MAX_BATCH_ENTRIES} entries`),
    ),
});
export type ScoreBatchBody = z.infer<typeof scoreBatchBody>;

/** A player after a batch, with its external key when it has one. */
export const scoredPlayerSchema = z.extend(rankedPlayerSchema, {
  externalKey: z.optional(z.string()),
  /** Whether this batch created the player. */
  created: z.boolean(),
});
export type ScoredPlayer = z.infer<typeof scoredPlayerSchema>;

/** What a batch did: the board's version after it, and each entry's player, in entry order. */
export const scoreBatchResultSchema = z.object({
  version: count,
  players: z.array(scoredPlayerSchema),
});
export type ScoreBatchResult = z.infer<typeof scoreBatchResultSchema>;

/** A batch entry refused, by its index (0-based) in `entries`. */
export const entryProblemSchema = z.object({ index: count, message: z.string() });
export type EntryProblem = z.infer<typeof entryProblemSchema>;

/** Creating an API key: who it is for, and the boards it may submit scores to. */
export const createApiKeyBody = z.strictObject({
  name: nameSchema,
  boards: z
    .array(z.string().check(z.regex(ID_PATTERN, 'is not a board id')))
    .check(z.minLength(1, 'must name at least one board'), z.maxLength(100)),
  /** Submissions per second this key may make (sustained), and at once. */
  ratePerSecond: z._default(z.int().check(z.minimum(1), z.maximum(100_000)), 50),
  burst: z._default(z.int().check(z.minimum(1), z.maximum(100_000)), 100),
});
export type CreateApiKeyBody = z.input<typeof createApiKeyBody>;

/** An API key as the admin sees it: never its secret. */
export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  boards: z.array(z.string()),
  ratePerSecond: z.int(),
  burst: z.int(),
  createdAt: z.string(),
  lastUsedAt: z.optional(z.string()),
  revokedAt: z.optional(z.string()),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

/** A key just created: the token is shown this once and never again. */
export const createdApiKeySchema = z.object({ key: apiKeySchema, token: z.string() });
export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;

export const apiKeyListSchema = z.object({ keys: z.array(apiKeySchema) });
export type ApiKeyList = z.infer<typeof apiKeyListSchema>;

/** A past season: its final standings were kept when the board reset. */
export const seasonSummarySchema = z.object({
  number: z.int().check(z.minimum(1)),
  startedAt: z.string(),
  endedAt: z.string(),
  playerCount: count,
});
export type SeasonSummary = z.infer<typeof seasonSummarySchema>;

export const seasonListSchema = z.object({
  /** The season under way; absent on a board without a schedule. */
  current: z.optional(seasonInfoSchema),
  /** Past seasons, newest first. */
  seasons: z.array(seasonSummarySchema),
});
export type SeasonList = z.infer<typeof seasonListSchema>;

/** A past season's final standings, a window of them (`limit`, `from`). */
export const seasonViewSchema = z.extend(seasonSummarySchema, {
  offset: count,
  players: z.array(rankedPlayerSchema),
});
export type SeasonView = z.infer<typeof seasonViewSchema>;
