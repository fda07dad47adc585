import * as z from 'zod/mini';

/**
 * `GET /readyz`: whether the origin should take traffic. 200 with `ready: true`, or 503 with
 * `ready: false` and the API's error (`not_ready`, a message saying what is wrong). The checks say
 * which part is failing.
 */
export const readinessSchema = z.object({
  ready: z.boolean(),
  checks: z.object({
    /** The data file takes writes (after a failed write, nothing is served until a restart). */
    store: z.object({ ok: z.boolean() }),
    /** Every board's last publish went through (or nothing needed publishing). */
    publish: z.object({
      ok: z.boolean(),
      failingBoards: z.int().check(z.nonnegative()),
      /** When the oldest publish still failing first failed (ISO 8601). */
      failingSince: z.optional(z.string()),
    }),
  }),
  error: z.optional(z.object({ code: z.literal('not_ready'), message: z.string() })),
});
export type Readiness = z.infer<typeof readinessSchema>;
