/*
 * Where boards live in Redis. Every key of one board carries the hash tag `{board:<id>}`, so all
 * of them sit in one slot: every change is ONE Lua script on one node, alone or in a Cluster.
 *
 *   {board:<id>}:meta     HASH    name, order ('desc' | 'asc'), version (grows by one per change),
 *                                 createdAt (ISO 8601)
 *   {board:<id>}:rank     ZSET    the ranking; ZRANGE ascending is display order.
 *                                 score  = -score on a 'desc' board, +score on an 'asc' one
 *                                 member = scoredAt as 16 digits, zero-padded + ':' + player id
 *                                 (equal scores: who scored first, then id; see encoding.ts)
 *                                 rank of a player = 1 + ZCOUNT of strictly better scores;
 *                                 display position = ZRANK
 *   {board:<id>}:players  HASH    player id -> '<score>:<scoredAt>:<bytes of name>:<name><folded>'
 *                                 (integers in decimal; `folded` is foldName(name), so a script
 *                                 can free the name without lower-casing Unicode itself)
 *   {board:<id>}:names    HASH    foldName(name) -> player id (a name is taken once per board)
 *   {board:<id>}:ext      HASH    externalKey -> player id (a game's own key, unique per board;
 *                                 written by the score batch that created the player)
 *   {board:<id>}:extof    HASH    player id -> externalKey (rows carry it; absent: no player has
 *                                 one, and reads cost nothing more). Scripts name both from the
 *                                 :meta key they are given (same tag, same slot)
 *   {board:<id>}:byname   ZSET    score 0, member foldName(name) + '\0' + id: prefix search with
 *                                 ZRANGEBYLEX (UTF-8 byte order)
 *   {board:<id>}:log      STREAM  the change log, one entry per change, written by the script that
 *                                 made the change (trimmed: XADD MAXLEN ~ 10000). Fields:
 *                                   v        the board's version after the change
 *                                   moved    display positions whose row changed, inclusive
 *                                            ranges 'first-last' joined by ',' (may be empty)
 *                                   meta     '1' when the name, order or player count changed,
 *                                            else '0'
 *                                   bulk     'reset' | 'import' | 'restore' | 'season' (absent
 *                                            otherwise):
 *                                            viewers reload their windows
 *                                   deleted  '1' when the board was deleted (absent otherwise)
 *   {board:<id>}:pub      HASH    the publisher's: 'base' (the board's version when a stream was
 *                                 first started on it, set with HSETNX), and per channel name
 *                                 (`board-<id>`, `board-<id>.p<n>`) the id last published there
 *   {board:<id>}:lease    STRING  the publisher's lease on the board (not written here)
 *   {board:<id>}:seasons  HASH    past seasons: number -> '<startedAt> <endedAt> <players>' (ISO 8601)
 *   {board:<id>}:season:<n>:rank     ZSET  season n's final ranking, a COPY of :rank at its end
 *   {board:<id>}:season:<n>:players  HASH  season n's players, a COPY of :players at its end
 *                                 (a season rolls in one script: season-scripts.ts). A board with
 *                                 a schedule has in :meta `schedule` (JSON), `season` (the number
 *                                 under way) and `seasonStart` (ISO 8601)
 *   {board:<id>}:restore:* the six player keys (rank, players, names, byname, ext, extof) and
 *                                 each past season's two (:restore:season:<n>:rank, :players)
 *                                 being filled by a restore before they replace the board's own
 *                                 in one script
 *
 *   boards                ZSET    the registry: board id, score = 1, 2, 3, ... in order of creation
 *                                 (a restore puts its boards in its own order). Its own slot,
 *                                 so it is NOT changed in the board's script: createBoard checks
 *                                 the board limit against it first (two origins may both pass the
 *                                 check at once and go one over the limit), adds the id after the
 *                                 board's keys exist, and deleteBoard removes it after the board's
 *                                 script. Readers skip ids whose meta is gone.
 *
 * Deleting a board removes every key (its past seasons too) but :log, :pub and :lease, which expire a day later so the
 * publisher can still announce the deletion. A new board never takes an id whose :log is still
 * there.
 */

/** The registry of board ids. */
export const REGISTRY_KEY = 'boards';

/** Entries the change log keeps (about: trimmed with `~`). */
export const LOG_MAX_ENTRIES = 10_000;

/** How long a deleted board's :log, :pub and :lease stay for the publisher, in seconds. */
export const DELETED_KEYS_TTL_S = 86_400;

/** The hash tag all of a board's keys share. */
export function boardTag(boardId: string): string {
  return `{board:${boardId}}`;
}

/** The keys of one board, in the order every board script declares them (KEYS[1..7]). */
export function boardKeys(boardId: string) {
  const tag = boardTag(boardId);
  return {
    meta: `${tag}:meta`,
    rank: `${tag}:rank`,
    players: `${tag}:players`,
    names: `${tag}:names`,
    byname: `${tag}:byname`,
    log: `${tag}:log`,
    pub: `${tag}:pub`,
    lease: `${tag}:lease`,
    ext: `${tag}:ext`,
    extof: `${tag}:extof`,
    seasons: `${tag}:seasons`,
  };
}

/** The keys a past season is kept in: its ranking and its players, as the board's own. */
export function seasonKeys(boardId: string, number: number): [rank: string, players: string] {
  const tag = boardTag(boardId);
  return [`${tag}:season:${number}:rank`, `${tag}:season:${number}:players`];
}

/** KEYS of every board script: meta, rank, players, names, byname, log, pub. */
export function scriptKeys(boardId: string): string[] {
  const k = boardKeys(boardId);
  return [k.meta, k.rank, k.players, k.names, k.byname, k.log, k.pub];
}

/**
 * The keys a restore fills before they replace the board's: rank, players, names, byname, ext,
 * extof.
 */
export function restoreKeys(boardId: string): string[] {
  const tag = boardTag(boardId);
  const parts = ['rank', 'players', 'names', 'byname', 'ext', 'extof'];
  return parts.map((part) => `${tag}:restore:${part}`);
}

/** The keys a restore fills with past season `number` before they become its `seasonKeys`. */
export function restoreSeasonKeys(
  boardId: string,
  number: number,
): [rank: string, players: string] {
  const tag = boardTag(boardId);
  return [`${tag}:restore:season:${number}:rank`, `${tag}:restore:season:${number}:players`];
}

/** Slots of a Redis Cluster. */
const SLOTS = 16_384;

/**
 * The Cluster slot of a key: CRC16 (XModem) of its hash tag, or of the whole key without one,
 * modulo 16384 (Redis Cluster specification).
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(hashedPart(key));
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc % SLOTS;
}

function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}
