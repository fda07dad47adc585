import { describe, expect, it } from 'vitest';
import { PageRanges } from './page-ranges.ts';

describe('PageRanges', () => {
  it('merges what touches and keeps what does not', () => {
    const set = new PageRanges();
    set.add(5, 7);
    set.add(10, 12);
    set.add(8, 9);
    set.add(20, 20);
    expect(set.count).toBe(9);
    expect([3, 5, 9, 13, 20].map((p) => set.has(p))).toEqual([false, true, true, false, true]);
  });

  it('takes the top first, then from the cursor round, and never the same page twice', () => {
    const set = new PageRanges();
    set.add(0, 1);
    set.add(10, 40_000);
    expect(set.take(5, 4, 30_000)).toEqual([0, 1, 30_000, 30_001, 30_002]);
    expect(set.take(3, 4, 39_999)).toEqual([39_999, 40_000, 10]);
    expect(set.has(30_001)).toBe(false);
    expect(set.count).toBe(40_000 - 10 + 1 - 6);
  });

  /** Every question the set answers, against the model. */
  function expectSame(set: PageRanges, model: Set<number>): void {
    expect(set.count).toBe(model.size);
    for (let p = 0; p < 330; p++) expect(set.has(p)).toBe(model.has(p));
  }

  it('agrees with a plain set over random use', () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const set = new PageRanges();
    const model = new Set<number>();
    for (let step = 0; step < 20_000; step++) {
      if (next(3) > 0) {
        const lo = next(300);
        const hi = lo + next(20);
        set.add(lo, hi);
        for (let p = lo; p <= hi; p++) model.add(p);
      } else {
        const taken = set.take(next(10) + 1, 4, next(300));
        expect(taken.every((page) => model.delete(page))).toBe(true);
      }
      if (step % 100 === 0) expectSame(set, model);
    }
  });
});
