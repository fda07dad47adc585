import * as z from 'zod/mini';
import { MAX_SCORE, orderSchema } from './board.ts';

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
});
export type CreateBoardBody = z.input<typeof createBoardBody>;

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

/** Most players one board request returns. */
export const MAX_LIMIT = 10_000;

const limitSchema = z.pipe(
  z.pipe(
    z.string().check(z.regex(/^[1-9]\d{0,5}$/, 'must be a whole number from 1')),
    z.transform(Number),
  ),
  z.number().check(z.maximum(MAX_LIMIT, `must be at most ${MAX_LIMIT}`)),
);

const versionSchema = z.pipe(z.string().check(z.regex(/^\d{1,15}$/)), z.transform(Number));

/** `GET /boards/:id/`: a window of the board, or where a stream resumes. */
export const boardQuery = z.strictObject({
  limit: z.optional(limitSchema),
  around: z.optional(z.string()),
  lastEventId: z.optional(versionSchema),
});
export type BoardQuery = z.output<typeof boardQuery>;

/** Endpoints that take no input still refuse input they would silently ignore. */
export const emptyBody = z.strictObject({});
