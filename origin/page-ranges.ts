/**
 * A set of page numbers kept as sorted, disjoint, inclusive ranges, so that marking "pages 4 to
 * 40,000 changed" costs one range, not forty thousand entries.
 */
export class PageRanges {
  private ranges: Array<[number, number]> = [];

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** How many pages are in the set. */
  get count(): number {
    let total = 0;
    for (const [lo, hi] of this.ranges) total += hi - lo + 1;
    return total;
  }

  has(page: number): boolean {
    const i = this.firstEndingAtOrAfter(page);
    const range = this.ranges[i];
    return range !== undefined && range[0] <= page;
  }

  /** Adds pages lo..hi (inclusive), merging with the ranges they touch. */
  add(lo: number, hi: number): void {
    if (hi < lo) return;
    let start = this.firstEndingAtOrAfter(lo - 1);
    let end = start;
    let from = lo;
    let to = hi;
    while (end < this.ranges.length) {
      const range = this.ranges[end] as [number, number];
      if (range[0] > to + 1) break;
      from = Math.min(from, range[0]);
      to = Math.max(to, range[1]);
      end++;
    }
    if (start > this.ranges.length) start = this.ranges.length;
    this.ranges.splice(start, end - start, [from, to]);
  }

  clear(): void {
    this.ranges = [];
  }

  /**
   * Takes up to `limit` pages out of the set: first those below `priorityBelow` (the top of the
   * board, which most viewers watch), then the others in order from `cursor`, wrapping around, so
   * that under a steady stream of changes every page still gets its turn.
   */
  take(limit: number, priorityBelow: number, cursor: number): number[] {
    const taken: number[] = [];
    this.takeFrom(0, priorityBelow - 1, limit, taken);
    this.takeFrom(Math.max(cursor, priorityBelow), Number.MAX_SAFE_INTEGER, limit, taken);
    this.takeFrom(priorityBelow, cursor - 1, limit, taken);
    for (const page of taken) this.delete(page);
    return taken;
  }

  private takeFrom(lo: number, hi: number, limit: number, out: number[]): void {
    for (const [from, to] of this.ranges) {
      if (out.length >= limit) return;
      if (to < lo || from > hi) continue;
      for (let page = Math.max(from, lo); page <= Math.min(to, hi) && out.length < limit; page++) {
        out.push(page);
      }
    }
  }

  private delete(page: number): void {
    const i = this.firstEndingAtOrAfter(page);
    const range = this.ranges[i];
    if (range === undefined || range[0] > page) return;
    const [lo, hi] = range;
    const pieces: Array<[number, number]> = [];
    if (lo < page) pieces.push([lo, page - 1]);
    if (page < hi) pieces.push([page + 1, hi]);
    this.ranges.splice(i, 1, ...pieces);
  }

  /** Index of the first range whose end is at or after `page`. */
  private firstEndingAtOrAfter(page: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ranges[mid] as [number, number])[1] < page) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
