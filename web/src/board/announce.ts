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
  if (leader !== undefined && before[0] !== undefined && before[0].id !== leader.id) {
    phrases.push(`${leader.name} takes the lead`);
  }
  const watched = after.slice(0, options.watch);
  const focus = after.find((p) => p.id === options.focusId);
  if (focus !== undefined && !watched.includes(focus)) watched.push(focus);
  for (const player of watched) {
    if (player === leader && phrases.length > 0) continue;
    const was = rankBefore.get(player.id);
    const isFocus = player.id === options.focusId;
    if (was === undefined) {
      if (before.length > 0) phrases.push(`${player.name} enters at ${ordinal(player.rank)}`);
    } else if (player.rank < was) {
      phrases.push(`${player.name} moves up to ${ordinal(player.rank)}`);
    } else if (player.rank > was && isFocus) {
      phrases.push(`${player.name} drops to ${ordinal(player.rank)}`);
    }
  }
  if (phrases.length === 0) return undefined;
  const spoken = phrases.slice(0, options.maxSpoken);
  const more = phrases.length - spoken.length;
  const tail = more > 0 ? ` and ${more} more ${more === 1 ? 'change' : 'changes'}` : '';
  return `${spoken.join(', ')}${tail}.`;
}
