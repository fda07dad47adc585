import { describe, expect, it } from 'vitest';
import { OrderTree } from './order-tree.ts';
import { seededRandom } from './seeded-random.ts';

interface Entry {
  id: number;
  score: number;
}

type Compare = (a: Entry, b: Entry) => number;

const random = seededRandom;

const byScoreDesc: Compare = (a, b) => b.score - a.score || a.id - b.id;
const byScoreAsc: Compare = (a, b) => a.score - b.score || a.id - b.id;

/** The tree under test beside the obvious model: a map of members, sorted when asked. */
class Model {
  readonly tree: OrderTree<Entry>;
  readonly live = new Map<number, Entry>();

  constructor(
    readonly compare: Compare,
    readonly next: () => number,
    tree?: OrderTree<Entry>,
  ) {
    this.tree = tree ?? new OrderTree(compare);
  }

  sorted(): Entry[] {
    return [...this.live.values()].sort(this.compare);
  }

  /** A score change: out, changed, back in (scores from a small range, so ties are everywhere). */
  setScore(id: number): void {
    const current = this.live.get(id);
    if (current !== undefined) expect(this.tree.delete(current)).toBe(true);
    const entry = { id, score: Math.floor(this.next() * 40) };
    expect(this.tree.insert(entry)).toBe(true);
    this.live.set(id, entry);
  }

  remove(id: number): void {
    const current = this.live.get(id);
    expect(this.tree.delete(current ?? { id, score: 0 })).toBe(current !== undefined);
    this.live.delete(id);
  }

  insertAgain(id: number): void {
    const current = this.live.get(id);
    if (current !== undefined) expect(this.tree.insert({ ...current })).toBe(false);
  }

  /** Every question the tree answers, against the sorted model. */
  check(): void {
    const sorted = this.sorted();
    expect(this.tree.size).toBe(sorted.length);
    const probe = { id: -1, score: Math.floor(this.next() * 40) };
    const before = sorted.filter((e) => this.compare(e, probe) < 0).length;
    expect(this.tree.countBefore(probe)).toBe(before);
    const index = Math.floor(this.next() * (sorted.length + 2)) - 1;
    expect(this.tree.at(index)).toBe(sorted[index]);
    const start = Math.floor(this.next() * sorted.length);
    expect(this.tree.slice(start, start + 37)).toEqual(sorted.slice(start, start + 37));
  }

  step(): void {
    const roll = this.next();
    const id = Math.floor(this.next() * 3000);
    if (roll < 0.45) this.setScore(id);
    else if (roll < 0.6) this.remove(id);
    else if (roll < 0.62) this.insertAgain(id);
    else if (roll > 0.995) this.check();
  }
}

describe('OrderTree', () => {
  it.each([
    ['descending', byScoreDesc, 1],
    ['ascending', byScoreAsc, 2],
  ] as const)(
    'agrees with a sorted array over 100,000 random operations (%s, many ties)',
    (_, compare, seed) => {
      const model = new Model(compare, random(seed));
      for (let step = 0; step < 100_000; step++) model.step();
      const sorted = model.sorted();
      expect([...model.tree]).toEqual(sorted);
      // Empty it completely: every merge path runs on the way down.
      for (const entry of sorted) expect(model.tree.delete(entry)).toBe(true);
      expect(model.tree.size).toBe(0);
      expect([...model.tree]).toEqual([]);
    },
    120_000,
  );

  it.each([0, 1, 31, 32, 33, 48, 64, 65, 1000, 3000, 4097])(
    'builds %i sorted elements bottom-up and stays correct under changes',
    (n) => {
      const entries = Array.from({ length: n }, (_, id) => ({ id, score: id % 17 })).sort(
        byScoreDesc,
      );
      const model = new Model(byScoreDesc, random(n), OrderTree.fromSorted(byScoreDesc, entries));
      for (const entry of entries) model.live.set(entry.id, entry);
      expect([...model.tree]).toEqual(entries);
      model.check();
      for (let step = 0; step < 5_000; step++) model.step();
      model.check();
      expect([...model.tree]).toEqual(model.sorted());
    },
    60_000,
  );

  it('refuses to build from elements out of order', () => {
    expect(() =>
      OrderTree.fromSorted(byScoreDesc, [
        { id: 1, score: 1 },
        { id: 2, score: 2 },
      ]),
    ).toThrow(/order/);
  });

  it('holds a million elements and answers by position at both ends', () => {
    const tree = new OrderTree(byScoreDesc);
    for (let id = 0; id < 1_000_000; id++) tree.insert({ id, score: id % 1000 });
    expect(tree.size).toBe(1_000_000);
    expect(tree.at(0)).toEqual({ id: 999, score: 999 });
    expect(tree.at(999_999)).toEqual({ id: 999_000, score: 0 });
    expect(tree.countBefore({ id: -1, score: 998 })).toBe(1000);
    expect(tree.slice(999_998, 1_000_005)).toHaveLength(2);
  }, 120_000);
});
