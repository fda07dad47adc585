/**
 * An order-statistic B+ tree: a sorted set that also answers "how many come before this?" and
 * "which one is at position i?" in O(log n). Leaderboards need both (rank of a player, a page of
 * ranks) on boards of millions, where sorting or scanning per request is out of the question.
 *
 * Elements are ordered by `compare`, which must be a total order in which no two members compare
 * equal (ties broken down to a unique id). An element's sort key must not change while it is in
 * the tree: remove it, change it, insert it again.
 */

const MAX_KEYS = 64;
const MIN_KEYS = MAX_KEYS / 2;

interface Leaf<T> {
  leaf: true;
  keys: T[];
}

interface Inner<T> {
  leaf: false;
  children: Node<T>[];
  /** How many elements each child's subtree holds. */
  sizes: number[];
  /** The greatest element of each child's subtree: where a search turns. */
  maxes: T[];
}

type Node<T> = Leaf<T> | Inner<T>;

export class OrderTree<T> {
  #root: Node<T> = { leaf: true, keys: [] };
  #size = 0;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  /**
   * A tree of `sorted` (in `compare` order, no two equal) built bottom-up in O(n): loading a
   * million players this way takes a fraction of inserting them one by one.
   */
  static fromSorted<T>(compare: (a: T, b: T) => number, sorted: readonly T[]): OrderTree<T> {
    const tree = new OrderTree(compare);
    for (let i = 1; i < sorted.length; i++) {
      if (compare(sorted[i - 1] as T, sorted[i] as T) >= 0) {
        throw new Error('OrderTree.fromSorted: the elements are not in strictly increasing order');
      }
    }
    if (sorted.length === 0) return tree;
    const fill = Math.floor((MIN_KEYS + MAX_KEYS) / 2);
    let level: Node<T>[] = chunks(sorted, fill).map((keys) => ({ leaf: true, keys }));
    while (level.length > 1) {
      level = chunks(level, fill).map((children) => ({
        leaf: false,
        children,
        sizes: children.map(sizeOf),
        maxes: children.map(maxOf),
      }));
    }
    tree.#root = level[0] as Node<T>;
    tree.#size = sorted.length;
    return tree;
  }

  get size(): number {
    return this.#size;
  }

  /** Adds `value`; returns false (and changes nothing) when an equal element is already there. */
  insert(value: T): boolean {
    const result = this.#insert(this.#root, value);
    if (result === undefined) return false;
    if (result !== null) {
      const left = this.#root;
      this.#root = {
        leaf: false,
        children: [left, result],
        sizes: [sizeOf(left), sizeOf(result)],
        maxes: [maxOf(left), maxOf(result)],
      };
    }
    this.#size++;
    return true;
  }

  /** Removes the element equal to `value`; returns false when there is none. */
  delete(value: T): boolean {
    if (!this.#delete(this.#root, value)) return false;
    this.#size--;
    const root = this.#root;
    if (!root.leaf && root.children.length === 1) this.#root = root.children[0] as Node<T>;
    return true;
  }

  /** How many elements come strictly before `probe` (which need not be a member). */
  countBefore(probe: T): number {
    let node = this.#root;
    let before = 0;
    while (!node.leaf) {
      const i = this.#childFor(node, probe);
      if (i === node.children.length) return before + sum(node.sizes, i);
      before += sum(node.sizes, i);
      node = node.children[i] as Node<T>;
    }
    return before + lowerBound(node.keys, probe, this.compare);
  }

  /** The element at `index` in order (0-based), or undefined past either end. */
  at(index: number): T | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.#size) return undefined;
    let node = this.#root;
    let rest = index;
    while (!node.leaf) {
      let i = 0;
      while (rest >= (node.sizes[i] as number)) rest -= node.sizes[i++] as number;
      node = node.children[i] as Node<T>;
    }
    return node.keys[rest];
  }

  /** The elements at positions [start, end) in order: O(log n + k). */
  slice(start: number, end: number): T[] {
    const from = Math.max(0, start);
    const to = Math.min(this.#size, end);
    const out: T[] = [];
    if (from < to) collect(this.#root, from, to, out);
    return out;
  }

  /** Every element in order. */
  *[Symbol.iterator](): IterableIterator<T> {
    yield* walk(this.#root);
  }

  /** Removes everything. */
  clear(): void {
    this.#root = { leaf: true, keys: [] };
    this.#size = 0;
  }

  /** Index of the first child whose greatest element is not before `value` (children.length if none). */
  #childFor(node: Inner<T>, value: T): number {
    const { maxes } = node;
    let lo = 0;
    let hi = maxes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(maxes[mid] as T, value) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Inserts below `node`: undefined if present, null if it fit, or the new right sibling of a split. */
  #insert(node: Node<T>, value: T): Node<T> | null | undefined {
    if (node.leaf) {
      const i = lowerBound(node.keys, value, this.compare);
      if (i < node.keys.length && this.compare(node.keys[i] as T, value) === 0) return undefined;
      node.keys.splice(i, 0, value);
      return node.keys.length > MAX_KEYS
        ? { leaf: true, keys: node.keys.splice(node.keys.length >>> 1) }
        : null;
    }
    const i = Math.min(this.#childFor(node, value), node.children.length - 1);
    const child = node.children[i] as Node<T>;
    const split = this.#insert(child, value);
    if (split === undefined) return undefined;
    node.sizes[i] = sizeOf(child);
    node.maxes[i] = maxOf(child);
    if (split !== null) {
      node.children.splice(i + 1, 0, split);
      node.sizes.splice(i + 1, 0, sizeOf(split));
      node.maxes.splice(i + 1, 0, maxOf(split));
    }
    if (node.children.length <= MAX_KEYS) return null;
    const half = node.children.length >>> 1;
    return {
      leaf: false,
      children: node.children.splice(half),
      sizes: node.sizes.splice(half),
      maxes: node.maxes.splice(half),
    };
  }

  #delete(node: Node<T>, value: T): boolean {
    if (node.leaf) {
      const i = lowerBound(node.keys, value, this.compare);
      if (i >= node.keys.length || this.compare(node.keys[i] as T, value) !== 0) return false;
      node.keys.splice(i, 1);
      return true;
    }
    const i = this.#childFor(node, value);
    if (i === node.children.length) return false;
    const child = node.children[i] as Node<T>;
    if (!this.#delete(child, value)) return false;
    node.sizes[i] = (node.sizes[i] as number) - 1;
    if (lengthOf(child) < MIN_KEYS && node.children.length > 1) rebalance(node, i);
    else if (lengthOf(child) > 0) node.maxes[i] = maxOf(child);
    return true;
  }
}

/** Merges child `i` with a sibling, or evens the two out when together they are too many. */
function rebalance<T>(node: Inner<T>, i: number): void {
  const l = i > 0 ? i - 1 : i;
  const left = node.children[l] as Node<T>;
  const right = node.children[l + 1] as Node<T>;
  const merged = left.leaf
    ? joinLeaves(left, right as Leaf<T>)
    : joinInners(left, right as Inner<T>);
  if (merged) removeChild(node, l + 1);
  for (const j of [l, l + 1]) {
    const child = node.children[j];
    if (child === undefined) continue;
    node.sizes[j] = sizeOf(child);
    if (lengthOf(child) > 0) node.maxes[j] = maxOf(child);
  }
}

/** Moves everything into `left` when it fits (true), else splits the two evenly (false). */
function joinLeaves<T>(left: Leaf<T>, right: Leaf<T>): boolean {
  const keys = left.keys.concat(right.keys);
  if (keys.length <= MAX_KEYS) {
    left.keys = keys;
    return true;
  }
  left.keys = keys.slice(0, keys.length >>> 1);
  right.keys = keys.slice(keys.length >>> 1);
  return false;
}

function joinInners<T>(left: Inner<T>, right: Inner<T>): boolean {
  const children = left.children.concat(right.children);
  const sizes = left.sizes.concat(right.sizes);
  const maxes = left.maxes.concat(right.maxes);
  const half = children.length <= MAX_KEYS ? children.length : children.length >>> 1;
  left.children = children.slice(0, half);
  left.sizes = sizes.slice(0, half);
  left.maxes = maxes.slice(0, half);
  right.children = children.slice(half);
  right.sizes = sizes.slice(half);
  right.maxes = maxes.slice(half);
  return half === children.length;
}

/**
 * `items` cut into runs of about `fill`: the last two runs share what is left, so none is shorter
 * than a node may be (unless there is only one).
 */
function chunks<U>(items: readonly U[], fill: number): U[][] {
  const out: U[][] = [];
  for (let i = 0; i < items.length; i += fill) out.push(items.slice(i, i + fill));
  const last = out[out.length - 1];
  const before = out[out.length - 2];
  if (last !== undefined && before !== undefined && last.length < MIN_KEYS) {
    const both = before.concat(last);
    out.splice(out.length - 2, 2, both.slice(0, both.length >>> 1), both.slice(both.length >>> 1));
  }
  return out;
}

function removeChild<T>(node: Inner<T>, i: number): void {
  node.children.splice(i, 1);
  node.sizes.splice(i, 1);
  node.maxes.splice(i, 1);
}

function lengthOf<T>(node: Node<T>): number {
  return node.leaf ? node.keys.length : node.children.length;
}

function sizeOf<T>(node: Node<T>): number {
  return node.leaf ? node.keys.length : sum(node.sizes, node.sizes.length);
}

function maxOf<T>(node: Node<T>): T {
  const max = node.leaf ? node.keys[node.keys.length - 1] : node.maxes[node.maxes.length - 1];
  if (max === undefined) throw new Error('OrderTree: an empty node has no maximum');
  return max;
}

function sum(values: readonly number[], count: number): number {
  let total = 0;
  for (let i = 0; i < count; i++) total += values[i] as number;
  return total;
}

/** Index of the first key not before `value`. */
function lowerBound<T>(keys: readonly T[], value: T, compare: (a: T, b: T) => number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(keys[mid] as T, value) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function collect<T>(node: Node<T>, from: number, to: number, out: T[]): void {
  if (node.leaf) {
    for (let i = from; i < to; i++) out.push(node.keys[i] as T);
    return;
  }
  let offset = 0;
  for (let i = 0; i < node.children.length && offset < to; i++) {
    const size = node.sizes[i] as number;
    if (offset + size > from) {
      collect(
        node.children[i] as Node<T>,
        Math.max(0, from - offset),
        Math.min(size, to - offset),
        out,
      );
    }
    offset += size;
  }
}

function* walk<T>(node: Node<T>): IterableIterator<T> {
  if (node.leaf) yield* node.keys;
  else for (const child of node.children) yield* walk(child);
}
