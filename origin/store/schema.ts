import { z } from 'zod';
import {
  operatorSchema,
  orderSchema,
  playerStateSchema,
  rankedPlayerSchema,
} from '../../contract/board.ts';
import type { Database } from '../domain/board.ts';

// The shapes the data file and the journal hold. Both are read only at start; anything else is
// refused there, before the origin serves.

/** A player as the data file and the journal hold it: the wire's player state. */
const storedPlayer = z.strictObject(playerStateSchema.shape);

/** A reset schedule as stored (checked with `checkSchedule` when it was set). */
const storedSchedule = z.strictObject({
  every: z.enum(['day', 'week', 'month']),
  at: z.string(),
  timeZone: z.string(),
  weekday: z.int().optional(),
  day: z.int().optional(),
});

/** A past season: its final standings, ranked (domain/seasons.ts). */
const storedSeason = z.strictObject({
  number: z.int().positive(),
  startedAt: z.string(),
  endedAt: z.string(),
  players: z.array(z.strictObject(rankedPlayerSchema.shape)),
});

/** A board as stored, without its players. */
const boardFields = z.strictObject({
  id: z.string(),
  name: z.string(),
  order: orderSchema,
  /** Absent in files of earlier versions: `incr`. */
  operator: z.optional(operatorSchema),
  version: z.int().nonnegative(),
  createdAt: z.string(),
  schedule: storedSchedule.optional(),
  season: z.strictObject({ number: z.int().positive(), startedAt: z.string() }).optional(),
});

const storedBoard = boardFields.extend({ players: z.array(storedPlayer) });

/** An answer kept for idempotent retries (domain/idempotency.ts). */
const storedAnswer = z.strictObject({
  key: z.string(),
  fingerprint: z.string(),
  status: z.int(),
  body: z.string(),
  createdAt: z.number(),
});

const database = z.strictObject({
  boards: z.record(z.string(), storedBoard),
  idempotency: z.record(z.string(), storedAnswer).optional(),
  seasons: z.record(z.string(), z.array(storedSeason)).optional(),
});

/**
 * What one journal entry says of one board: it was deleted, or here are its fields and the players
 * that changed (all of them with `replace`) and the ids of those that left. States are absolute.
 */
const journalBoard = z.union([
  z.strictObject({ id: z.string(), deleted: z.literal(true) }),
  z.strictObject({
    id: z.string(),
    board: boardFields,
    players: z.array(storedPlayer),
    replace: z.literal(true).optional(),
    remove: z.array(z.string()).optional(),
    /** Seasons the board ended in this commit, to add to those it kept. */
    seasons: z.array(storedSeason).optional(),
    /** `seasons` is every past season the board keeps (a restore): it replaces the kept ones. */
    replaceSeasons: z.literal(true).optional(),
  }),
]);

export type JournalBoard = z.infer<typeof journalBoard>;

/** One line of the journal: what one group commit wrote. */
export const journalEntry = z.strictObject({
  boards: z.array(journalBoard),
  /** Answers kept with the changes of this commit (absent in older entries). */
  idempotency: z.array(storedAnswer).optional(),
});

export type JournalEntry = z.infer<typeof journalEntry>;

/** Checks that a parsed data file has the database's shape. */
export function parseDatabase(value: unknown): Database {
  const result = database.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new Error(issues.join('; '));
}
