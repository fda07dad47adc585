import type { Order, PlayerState } from '../../../contract/board.ts';

/*
 * How a player is written into Redis (see keys.ts for the keys). The Lua scripts (scripts.ts)
 * write the same strings; these are their TypeScript twins, for readers of the keys (the
 * publisher, a restore) and for the tests that prove the ranking's encoding.
 *
 * The ranking ZSET orders by (sorted-set score, member bytes):
 *   - sorted-set score = -score on a 'desc' board, +score on an 'asc' one. Scores are integers
 *     within ±10^12, exact in a double, so equal scores are equal and better ones smaller.
 *   - member = scoredAt, zero-padded to 16 digits, ':' and the id. 16 digits hold every safe
 *     integer (2^53 - 1 = 9007199254740991), so byte order of the padded numbers is numeric order;
 *     the ':' and the ids are then compared byte by byte, and ids are ASCII (ID_PATTERN), where
 *     byte order is JavaScript's string order.
 * So ZRANGE ascending is `comparePlayers(order)`: score in the board's order, then smaller
 * scoredAt, then id.
 */

/** Digits of the scoredAt in a ranking member. */
export const SCORED_AT_WIDTH = 16;

/** The largest scoredAt (a board version) a member can carry in order. */
export const MAX_SCORED_AT = Number.MAX_SAFE_INTEGER;

/** The sorted-set score of a player's score on a board of this order. */
export function sortScore(score: number, order: Order): number {
  // `0 - x` rather than `-x`: never -0, which Redis would print as "-0".
  return order === 'desc' ? 0 - score : score;
}

/** The ranking member of a player. */
export function rankMember(scoredAt: number, id: string): string {
  return `${String(scoredAt).padStart(SCORED_AT_WIDTH, '0')}:${id}`;
}

/** The player id and scoredAt of a ranking member. */
export function parseRankMember(member: string): { scoredAt: number; id: string } {
  return {
    scoredAt: Number(member.slice(0, SCORED_AT_WIDTH)),
    id: member.slice(SCORED_AT_WIDTH + 1),
  };
}

/** A player's record in the :players hash: '<score>:<scoredAt>:<bytes of name>:<name><folded>'. */
export function encodePlayer(player: Omit<PlayerState, 'id'>, folded: string): string {
  const { score, scoredAt, name } = player;
  return `${score}:${scoredAt}:${Buffer.byteLength(name)}:${name}${folded}`;
}

/** Reads a player's record back (undefined when it is not one). */
export function decodePlayer(
  id: string,
  record: string,
): (PlayerState & { folded: string }) | undefined {
  const head = /^(-?\d+):(\d+):(\d+):/.exec(record);
  if (head === null) return undefined;
  const [prefix, score, scoredAt, length] = head;
  const rest = Buffer.from(record.slice(prefix.length));
  const nameBytes = Number(length);
  return {
    id,
    name: rest.subarray(0, nameBytes).toString(),
    score: Number(score),
    scoredAt: Number(scoredAt),
    folded: rest.subarray(nameBytes).toString(),
  };
}

/** A name search member of the :byname set. */
export function nameMember(folded: string, id: string): string {
  return `${folded}\0${id}`;
}

/** The `moved` field of a log entry: inclusive ranges 'first-last' joined by ','. */
export function formatMoved(moved: ReadonlyArray<readonly [number, number]>): string {
  return moved.map(([first, last]) => `${first}-${last}`).join(',');
}

/** Reads a log entry's `moved` field. */
export function parseMoved(field: string): Array<[number, number]> {
  if (field === '') return [];
  return field.split(',').map((range) => {
    const [first, last] = range.split('-').map(Number);
    return [first ?? 0, last ?? 0];
  });
}
