import { z } from 'zod';
import { MAX_SCORE } from '../contract/board.ts';

// Control characters, the line and paragraph separators (line breaks by another name), the
// bidirectional overrides that let a name reorder text around it, and lone surrogates (not text:
// with the `u` flag, this class matches a surrogate only when it is not half of a pair).
const FORBIDDEN_IN_NAME =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/u;

/** A display name: trimmed, 1 to 64 characters, nothing that could disguise it. */
export const name = z
  .string()
  .transform((s) => s.trim())
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .refine((s) => [...s].length <= 64, 'must be at most 64 characters')
      .refine((s) => !FORBIDDEN_IN_NAME.test(s), 'must not contain control characters'),
  );

const score = z.number().int('must be a whole number').min(-MAX_SCORE).max(MAX_SCORE);

export const createBoardBody = z.strictObject({
  name,
  order: z.enum(['desc', 'asc']).default('desc'),
});

export const createPlayerBody = z.strictObject({ name });

export const updatePlayerBody = z
  .strictObject({ name: name.optional(), score: score.optional() })
  .refine((b) => b.name !== undefined || b.score !== undefined, 'give name, score, or both');

export const scoreAddBody = z.strictObject({
  amount: z
    .number()
    .int('must be a whole number')
    .min(-1_000_000_000)
    .max(1_000_000_000)
    .refine((n) => n !== 0, 'must not be 0')
    .default(1),
});

const count = z
  .string()
  .regex(/^[1-9]\d{0,5}$/, 'must be a whole number from 1')
  .transform(Number)
  .pipe(z.number().max(10_000, 'must be at most 10000'));

export const boardQuery = z.strictObject({
  limit: count.optional(),
  around: z.string().optional(),
  lastEventId: z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number)
    .optional(),
});

/** Endpoints that take no input still refuse input they would silently ignore. */
export const emptyBody = z.strictObject({});
