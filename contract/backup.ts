import * as z from 'zod/mini';
import { ID_PATTERN, MAX_SCORE, operatorSchema, orderSchema } from './board.ts';
import { nameSchema } from './requests.ts';

/**
 * A backup of the whole database: `GET /admin/backup/` writes it, `POST /admin/restore/` reads
 * it back. `format` and `version` say what the document is; an origin reads the versions it knows
 * and refuses the others. Every field is checked strictly: a restore stores exactly what it is
 * given, or nothing.
 */
export const BACKUP_FORMAT = 'grip-leaderboard-backup';
export const BACKUP_VERSION = 1;

const id = z.string().check(z.regex(ID_PATTERN, 'must be 1 to 32 of A-Z a-z 0-9 _ -'));
const count = z.int().check(z.nonnegative());

/** A name as stored: what a request may give as a name, already trimmed. */
const storedName = z.pipe(
  z.string().check(z.refine((s) => s === s.trim(), 'must not start or end with spaces')),
  nameSchema,
);

export const backupPlayerSchema = z.strictObject({
  id,
  name: storedName,
  score: z.int().check(z.minimum(-MAX_SCORE), z.maximum(MAX_SCORE)),
  /** The board version at which the player reached its score (ranks ties). */
  scoredAt: count,
});

export const backupBoardSchema = z.strictObject({
  id,
  name: storedName,
  order: orderSchema,
  /** How submitted scores combine; absent in backups of earlier versions: `incr`. */
  operator: z.optional(operatorSchema),
  version: count,
  createdAt: z.iso.datetime(),
  players: z.array(backupPlayerSchema),
});
export type BackupBoard = z.infer<typeof backupBoardSchema>;

export const backupSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  version: z.literal(BACKUP_VERSION),
  createdAt: z.iso.datetime(),
  boards: z.array(backupBoardSchema),
});
export type Backup = z.infer<typeof backupSchema>;
