import * as z from 'zod/mini';
import { ID_PATTERN, MAX_SCORE, operatorSchema, orderSchema, scheduleSchema } from './board.ts';
import { nameSchema } from './requests.ts';
import { externalKeySchema } from './scores.ts';

/**
 * A backup of the whole database: `GET /admin/backup/` writes it, `POST /admin/restore/` reads
 * it back. `format` and `version` say what the document is; an origin reads the versions it knows
 * and refuses the others. Every field is checked strictly: a restore stores exactly what it is
 * given, or nothing.
 *
 * Fields added since version 1 was first written are optional (`operator`, `schedule`, `season`,
 * `seasons`, a player's `externalKey`), so every backup of version 1 still restores.
 */
export const BACKUP_FORMAT = 'grip-leaderboard-backup';
export const BACKUP_VERSION = 1;

const id = z.string().check(z.regex(ID_PATTERN, 'must be 1 to 32 of A-Z a-z 0-9 _ -'));
const count = z.int().check(z.nonnegative());
const score = z.int().check(z.minimum(-MAX_SCORE), z.maximum(MAX_SCORE));

/**
 * An instant as the origin writes it (`Date.toISOString()`, UTC, milliseconds): the stores compare
 * season times as strings, which only orders them in time in this one form.
 */
const instant = z.string().check(
  z.refine((s) => {
    const time = Date.parse(s);
    return Number.isFinite(time) && new Date(time).toISOString() === s;
  }, 'must be an ISO 8601 time in UTC with milliseconds, as 2026-01-02T03:04:05.000Z'),
);

/** A name as stored: what a request may give as a name, already trimmed. */
const storedName = z.pipe(
  z.string().check(z.refine((s) => s === s.trim(), 'must not start or end with spaces')),
  nameSchema,
);

export const backupPlayerSchema = z.strictObject({
  id,
  name: storedName,
  score,
  /** The board version at which the player reached its score (ranks ties). */
  scoredAt: count,
  /** The game's own id for the player (unique per board); absent in earlier backups. */
  externalKey: z.optional(externalKeySchema),
});

/**
 * A player in a past season's final standings. `rank` may be left out: a restore ranks the
 * standings itself (and refuses a rank that is not the one it finds).
 */
export const backupSeasonPlayerSchema = z.extend(backupPlayerSchema, {
  rank: z.optional(z.int().check(z.minimum(1))),
});

/** A season a board has ended: when it ran and its final standings, in rank order. */
export const backupSeasonSchema = z.strictObject({
  number: z.int().check(z.minimum(1)),
  startedAt: instant,
  endedAt: instant,
  players: z.array(backupSeasonPlayerSchema),
});
export type BackupSeason = z.infer<typeof backupSeasonSchema>;

export const backupBoardSchema = z.strictObject({
  id,
  name: storedName,
  order: orderSchema,
  /** How submitted scores combine; absent in backups of earlier versions: `incr`. */
  operator: z.optional(operatorSchema),
  /** When the board resets on its own; absent: never (and in earlier backups). */
  schedule: z.optional(scheduleSchema),
  /** The season under way (kept when a schedule is removed); absent in earlier backups. */
  season: z.optional(z.strictObject({ number: z.int().check(z.minimum(1)), startedAt: instant })),
  version: count,
  createdAt: z.iso.datetime(),
  players: z.array(backupPlayerSchema),
  /**
   * The past seasons, oldest first. Absent in earlier backups: a restore then keeps the past
   * seasons the board has (a backup written now always has it, empty or not).
   */
  seasons: z.optional(z.array(backupSeasonSchema)),
});
export type BackupBoard = z.infer<typeof backupBoardSchema>;

export const backupSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  version: z.literal(BACKUP_VERSION),
  createdAt: z.iso.datetime(),
  boards: z.array(backupBoardSchema),
});
export type Backup = z.infer<typeof backupSchema>;
