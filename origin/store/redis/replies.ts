import type { Order, RankedPlayer, ScoreOperator } from '../../../contract/board.ts';

/** Fields a script gives per ranked row: id, name, score, scoredAt, rank, externalKey ('' none). */
export const ROW_FIELDS = 6;

/**
 * Reads a script's flat array reply in order, checking each value's type as it goes: a reply
 * that does not have the shape the script promises is a bug, and throws.
 */
export class ReplyReader {
  private at = 0;
  private readonly items: readonly unknown[];

  constructor(reply: unknown) {
    if (!Array.isArray(reply)) throw new Error(`expected an array reply from Redis, got ${reply}`);
    this.items = reply;
  }

  get done(): boolean {
    return this.at >= this.items.length;
  }

  string(): string {
    const value = this.items[this.at++];
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    throw new Error(`expected a string in a Redis reply at ${this.at - 1}, got ${value}`);
  }

  number(): number {
    const value = this.items[this.at++];
    const number = typeof value === 'string' ? Number(value) : value;
    if (typeof number === 'number' && Number.isSafeInteger(number)) return number;
    throw new Error(`expected an integer in a Redis reply at ${this.at - 1}, got ${value}`);
  }

  order(): Order {
    const value = this.string();
    if (value === 'desc' || value === 'asc') return value;
    throw new Error(`expected a board order in a Redis reply, got ${value}`);
  }

  operator(): ScoreOperator {
    const value = this.string();
    if (value === 'incr' || value === 'set' || value === 'best' || value === 'decr') return value;
    throw new Error(`expected a score operator in a Redis reply, got ${value}`);
  }

  row(): RankedPlayer {
    const id = this.string();
    const name = this.string();
    const score = this.number();
    const scoredAt = this.number();
    const rank = this.number();
    const externalKey = this.string();
    return externalKey === ''
      ? { id, name, score, scoredAt, rank }
      : { id, name, score, scoredAt, externalKey, rank };
  }

  /** `count` rows, or every row left when undefined. */
  rows(count?: number): RankedPlayer[] {
    const out: RankedPlayer[] = [];
    while (count === undefined ? !this.done : out.length < count) out.push(this.row());
    return out;
  }
}
