import type { PlayerState, RankedPlayer } from '../../contract/board.ts';
import { comparePlayers } from '../../contract/ranking.ts';
import { OrderTree } from './order-tree.ts';

/**
 * What a board is searched by, kept beside its stored players so that every read and change costs
 * O(log n) on a board of a million: players by id (with their place in the stored array, for O(1)
 * removal), names taken (case-insensitive), the ranking, and names in order for prefix search.
 * It is derived data: built from `players` when first needed and never stored.
 */
export class BoardIndex {
  readonly byId = new Map<string, PlayerState>();
  /** Where each player sits in the stored array. */
  readonly slots = new Map<string, number>();
  /** Lower-cased name -> the id of the player who has it. */
  readonly names = new Map<string, string>();
  /** A game's own key for a player (`externalKey`) -> the player's id: one player per key. */
  readonly externalKeys = new Map<string, string>();
  readonly ranking: OrderTree<PlayerState>;
  readonly byName: OrderTree<NameKey>;

  constructor(
    readonly players: PlayerState[],
    readonly order: 'desc' | 'asc',
  ) {
    const compare = comparePlayers(order);
    const keys: NameKey[] = [];
    players.forEach((player, slot) => {
      this.byId.set(player.id, player);
      this.slots.set(player.id, slot);
      this.names.set(foldName(player.name), player.id);
      if (player.externalKey !== undefined) this.externalKeys.set(player.externalKey, player.id);
      keys.push(nameKey(player));
    });
    this.ranking = OrderTree.fromSorted(compare, [...players].sort(compare));
    this.byName = OrderTree.fromSorted(compareNameKeys, keys.sort(compareNameKeys));
  }

  get size(): number {
    return this.players.length;
  }

  add(player: PlayerState): void {
    this.slots.set(player.id, this.players.length);
    this.players.push(player);
    this.enter(player);
  }

  /** Puts `next` where the player with its id was. */
  replace(next: PlayerState): void {
    const slot = this.slots.get(next.id);
    const previous = this.byId.get(next.id);
    if (slot === undefined || previous === undefined) throw new Error(`no player ${next.id}`);
    // Set in place rather than delete and add again: a map of a million that keeps losing and
    // regaining keys is eventually rebuilt by V8 in one go (a 200 ms stall, measured).
    this.ranking.delete(previous);
    this.ranking.insert(next);
    this.byId.set(next.id, next);
    if (previous.name !== next.name) {
      this.names.delete(foldName(previous.name));
      this.names.set(foldName(next.name), next.id);
      this.byName.delete(nameKey(previous));
      this.byName.insert(nameKey(next));
    }
    this.players[slot] = next;
  }

  /** Takes a player out; the last stored player moves into its slot. */
  remove(id: string): void {
    const slot = this.slots.get(id);
    const player = this.byId.get(id);
    if (slot === undefined || player === undefined) throw new Error(`no player ${id}`);
    this.leave(player);
    this.slots.delete(id);
    const last = this.players.pop();
    if (last !== undefined && last.id !== id) {
      this.players[slot] = last;
      this.slots.set(last.id, slot);
    }
  }

  /** The player's competition rank: 1 + how many have a strictly better score. */
  rankOf(player: PlayerState): number {
    return this.ranking.countBefore(scoreProbe(player.score)) + 1;
  }

  /** Players at positions [start, end) in display order, ranked. */
  ranked(start: number, end: number): RankedPlayer[] {
    const players = this.ranking.slice(start, end);
    const out: RankedPlayer[] = [];
    let previous: RankedPlayer | undefined;
    players.forEach((player, i) => {
      const rank =
        previous === undefined
          ? this.rankOf(player)
          : previous.score === player.score
            ? previous.rank
            : start + i + 1;
      previous = { ...player, rank };
      out.push(previous);
    });
    return out;
  }

  /** The player's 0-based position in display order. */
  positionOf(player: PlayerState): number {
    return this.ranking.countBefore(player);
  }

  /** Up to `limit` players whose names start with `prefix` (case-insensitive), by name. */
  withNamePrefix(prefix: string, limit: number): PlayerState[] {
    const folded = foldName(prefix);
    const start = this.byName.countBefore({ folded, id: '' });
    const out: PlayerState[] = [];
    for (const key of this.byName.slice(start, start + limit)) {
      if (!key.folded.startsWith(folded)) break;
      const player = this.byId.get(key.id);
      if (player !== undefined) out.push(player);
    }
    return out;
  }

  private enter(player: PlayerState): void {
    this.byId.set(player.id, player);
    this.names.set(foldName(player.name), player.id);
    if (player.externalKey !== undefined) this.externalKeys.set(player.externalKey, player.id);
    this.ranking.insert(player);
    this.byName.insert(nameKey(player));
  }

  private leave(player: PlayerState): void {
    this.ranking.delete(player);
    this.byName.delete(nameKey(player));
    this.names.delete(foldName(player.name));
    if (player.externalKey !== undefined) this.externalKeys.delete(player.externalKey);
    this.byId.delete(player.id);
  }
}

interface NameKey {
  folded: string;
  id: string;
}

/** How names are compared for uniqueness and search: case-insensitive, locale-independent. */
export function foldName(name: string): string {
  return name.toLocaleLowerCase('en-US');
}

function nameKey(player: PlayerState): NameKey {
  return { folded: foldName(player.name), id: player.id };
}

function compareNameKeys(a: NameKey, b: NameKey): number {
  if (a.folded !== b.folded) return a.folded < b.folded ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Sorts before every player with this score: for counting who scores strictly better. */
function scoreProbe(score: number): PlayerState {
  return { id: '', name: '', score, scoredAt: Number.NEGATIVE_INFINITY };
}
