import type { Order, ScoreOperator } from './board.ts';

/** Every operator a board can use, in the order a form offers them. */
export const OPERATORS: readonly ScoreOperator[] = ['incr', 'set', 'best', 'decr'];

/** What the operator does to a score, in a few words for people ("keeps the best (highest)"). */
export function operatorLabel(operator: ScoreOperator, order: Order): string {
  switch (operator) {
    case 'incr':
      return 'adds';
    case 'decr':
      return 'subtracts';
    case 'set':
      return 'sets';
    case 'best':
      return `keeps the best (${order === 'desc' ? 'highest' : 'lowest'})`;
  }
}
