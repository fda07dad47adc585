import * as z from 'zod/mini';
import { MAX_SCORE, operatorSchema, orderSchema, scheduleSchema } from './board.ts';

/**
 * What clients send: the request bodies and query strings of the API. The origin validates every
 * request against these at its boundary; clients may check forms with the same rules.
 */

// Control characters, the line and paragraph separators (line breaks by another name), the
// bidirectional overrides that let a name reorder text around it, and lone surrogates (not text:
// with the `u` flag, this class matches a surrogate only when it is not half of a pair).
const FORBIDDEN_IN_NAME =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/u;

/** Longest display name, in code points. */
export const MAX_NAME_LENGTH = 64;

/** A display name: trimmed, 1 to 64 characters, nothing that could disguise it. */
export const nameSchema = z.string().check(
  z.trim(),
  z.minLength(1, 'must not be empty'),
  z.refine(
    (s) => [...s].length <= MAX_NAME_LENGTH,
    `must be at most ${MAX_NAME_LENGTH} characters`,
  ),
  z.refine((s) => !FORBIDDEN_IN_NAME.test(s), 'must not contain control characters'),
);

/** Says "whole number" for a value of the wrong type; other refusals keep their own words. */
const wholeNumber = {
  error: (issue: { code?: string | undefined }) =>
    issue.code === 'invalid_type' ? 'must be a whole number' : undefined,
};

const scoreSchema = z.int(wholeNumber).check(z.minimum(-MAX_SCORE), z.maximum(MAX_SCORE));

/** Largest amount one score-add may carry. */
export const MAX_SCORE_STEP = 1_000_000_000;

export const createBoardBody = z.strictObject({
  name: nameSchema,
  order: z._default(orderSchema, 'desc'),
  /** How submitted scores combine with a player's (`incr` adds; see contract/scores.ts). */
  operator: z._default(operatorSchema, 'incr'),
  /** Resets the board on its own (season 1 starts now); see contract/scores.ts. */
  schedule: z.optional(scheduleSchema),
});
export type CreateBoardBody = z.input<typeof createBoardBody>;

/** `PATCH /boards/:id/`: sets the reset schedule, or removes it with `null`. */
export const updateBoardBody = z.strictObject({ schedule: z.nullable(scheduleSchema) });
export type UpdateBoardBody = z.input<typeof updateBoardBody>;

export const createPlayerBody = z.strictObject({ name: nameSchema });
export type CreatePlayerBody = z.input<typeof createPlayerBody>;

export const updatePlayerBody = z
  .strictObject({ name: z.optional(nameSchema), score: z.optional(scoreSchema) })
  .check(
    z.refine((b) => b.name !== undefined || b.score !== undefined, 'give name, score, or both'),
  );
export type UpdatePlayerBody = z.input<typeof updatePlayerBody>;

export const scoreAddBody = z.strictObject({
  amount: z._default(
    z.int({ error: 'must be a whole number' }).check(
      z.minimum(-MAX_SCORE_STEP),
      z.maximum(MAX_SCORE_STEP),
      z.refine((n) => n !== 0, 'must not be 0'),
    ),
    1,
  ),
});
export type ScoreAddBody = z.input<typeof scoreAddBody>;

/** Most players one board request returns; a board of a million is read a window at a time. */
export const MAX_LIMIT = 1_000;

/** Players a board request returns when it names no `limit`. */
export const DEFAULT_LIMIT = 100;

const wholeFrom = (min: number, max: number) =>
  z.pipe(
    z.pipe(
      z.string().check(z.regex(/^\d{1,9}$/, `must be a whole number from ${min}`)),
      z.transform(Number),
    ),
    z
      .number()
      .check(z.minimum(min, `must be at least ${min}`), z.maximum(max, `must be at most ${max}`)),
  );

const versionSchema = z.pipe(z.string().check(z.regex(/^\d{1,15}$/)), z.transform(Number));

/**
 * `GET /boards/:id/`: a window of the board (`limit` rows from position `from`, or around a
 * player), or where a stream resumes (`lastEventId`). `v` names the version a client reloads for
 * after a `reload` event: it makes the answer's URL one an edge cache can share.
 */
export const boardQuery = z.strictObject({
  limit: z.optional(wholeFrom(1, MAX_LIMIT)),
  from: z.optional(wholeFrom(0, 999_999_999)),
  around: z.optional(z.string()),
  lastEventId: z.optional(versionSchema),
  v: z.optional(versionSchema),
});
export type BoardQuery = z.output<typeof boardQuery>;

/** `GET /boards/:id/seasons/:n/`: a window of a past season, `limit` rows from position `from`. */
export const seasonQuery = z.strictObject({
  limit: z.optional(wholeFrom(1, MAX_LIMIT)),
  from: z.optional(wholeFrom(0, 999_999_999)),
});

/** The season number in `/boards/:id/seasons/:n/`. */
export const seasonNumberSchema = wholeFrom(1, 999_999_999);

/** Most players one name search returns. */
export const MAX_SEARCH_RESULTS = 50;

/** `GET /boards/:id/players/?q=<prefix>&limit=`: players whose names start with `q`, any case. */
export const playerSearchQuery = z.strictObject({
  q: z
    .string()
    .check(z.minLength(1, 'must not be empty'), z.maxLength(64, 'must be at most 64 characters')),
  limit: z.optional(wholeFrom(1, MAX_SEARCH_RESULTS)),
});
export type PlayerSearchQuery = z.output<typeof playerSearchQuery>;

/**
 * One row of a player import (`POST /boards/:id/import/`), as an NDJSON line
 * (`{"name": "Ada", "score": 12}`) or a CSV row under the header `name,score`.
 */
export const importRowSchema = z.strictObject({
  name: nameSchema,
  score: z.optional(scoreSchema),
});
export type ImportRow = z.output<typeof importRowSchema>;

/** The import's query: what to do with a name already on the board (refuse the import, or skip it). */
export const importQuery = z.strictObject({
  existing: z.optional(z.enum(['refuse', 'skip'])),
});

/** Rows one import may carry. */
export const MAX_IMPORT_ROWS = 1_000_000;

/** The recovery link's query: the pages the held stream follows (`pages=0,1,2,3`). */
export const recoverQuery = z.strictObject({
  pages: z.pipe(
    z
      .string()
      .check(
        z.regex(
          /^(0|[1-9]\d{0,8})(,(0|[1-9]\d{0,8})){0,7}$/,
          'must be page numbers, comma-separated',
        ),
      ),
    z.transform((list) => [...new Set(list.split(',').map(Number))].sort((a, b) => a - b)),
  ),
});

/** Endpoints that take no input still refuse input they would silently ignore. */
export const emptyBody = z.strictObject({});
