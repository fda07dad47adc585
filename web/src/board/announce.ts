import type { RankedPlayer } from '../../../contract/board.ts';

const ordinalRules = new Intl.PluralRules('en', { type: 'ordinal' });
const ordinalSuffix: Record<string, string> = { one: 'st', two: 'nd', few: 'rd', other: 'th' };

/** 1st, 2nd, 3rd, 4th, 11th, 22nd... */
export function ordinal(n: number): string {
  return `${n}${ordinalSuffix[ordinalRules.select(n)] ?? 'th'}`;
}

export interface AnnounceOptions {
  /** Rank changes are told for players in this many places from the top. */
  watch: number;
  /** A player whose moves are always told, up or down (the one this browser voted for). */
  focusId?: string | undefined;
  /** At most this many changes are spelled out; the rest are counted. */
  maxSpoken: number;
}

/**
 * One sentence for a screen reader saying how ranks changed between two states of a board, or
 * `undefined` when nothing worth saying did. Climbs in the top are told (a climb implies someone
 * fell, so falls are not), and any move of the focused player.
 */
export function describeRankChanges(
  before: readonly RankedPlayer[],
  after: readonly RankedPlayer[],
  options: AnnounceOptions,
): string | undefined {
  const rankBefore = new Map(before.map((p) => [p.id, p.rank]));
  const phrases: string[] = [];
  const leader = after[0];
  const newLeader = leader !== undefined && before[0] !== undefined && before[0].id !== leader.id;
  if (newLeader) phrases.push(`${leader.name} takes the lead`);
  for (const player of watched(after, options)) {
    // A new leader was told once, not also as a climb.
    if (newLeader && player === leader) continue;
    const phrase = movePhrase(player, rankBefore.get(player.id), {
      isFocus: player.id === options.focusId,
      boardWasEmpty: before.length === 0,
    });
    if (phrase !== undefined) phrases.push(phrase);
  }
  return sentence(phrases, options.maxSpoken);
}

/** The players whose moves are told: the top `watch`, and the focused player wherever it is. */
function watched(after: readonly RankedPlayer[], options: AnnounceOptions): RankedPlayer[] {
  const players = after.slice(0, options.watch);
  const focus = after.find((p) => p.id === options.focusId);
  if (focus !== undefined && !players.includes(focus)) players.push(focus);
  return players;
}

/** What to say of one player that was at rank `was` (undefined: not on the board). */
function movePhrase(
  player: RankedPlayer,
  was: number | undefined,
  { isFocus, boardWasEmpty }: { isFocus: boolean; boardWasEmpty: boolean },
): string | undefined {
  const at = ordinal(player.rank);
  // The first players of an empty board are not news, only the board filling up; nor is the
  // focused player coming into the rows held (they are a window of the board).
  if (was === undefined) {
    return boardWasEmpty || isFocus ? undefined : `${player.name} enters at ${at}`;
  }
  if (player.rank < was) return `${player.name} moves up to ${at}`;
  if (player.rank > was && isFocus) return `${player.name} drops to ${at}`;
  return undefined;
}

/** The phrases as one sentence, the first `maxSpoken` spelled out and the rest counted. */
function sentence(phrases: readonly string[], maxSpoken: number): string | undefined {
  if (phrases.length === 0) return undefined;
  const spoken = phrases.slice(0, maxSpoken);
  const more = phrases.length - spoken.length;
  const tail = more > 0 ? ` and ${more} more ${more === 1 ? 'change' : 'changes'}` : '';
  return `${spoken.join(', ')}${tail}.`;
}
