import { MAX_SCORE, type Order } from '../../contract/board.ts';
import { BoardError } from './errors.ts';

/**
 * Score operators: what a write to a board means. Each board picks one, so a game server sends
 * what it knows (points won, a new total, the result of one run) and the board keeps the score.
 */

/** Every operator a board can use. */
export const OPERATORS = ['incr', 'set', 'best', 'decr'] as const;
export type Operator = (typeof OPERATORS)[number];

/**
 * The score after a write of `value` to a player at `current`. `changed` is false when the score
 * stays the same: a `best` that is not strictly better, a `set` to the same score, a step of 0.
 * For `set` and `best` the value is itself a score and is refused when outside ±MAX_SCORE, even
 * where it would be ignored, so a request is taken or refused whatever the player's score is.
 *
 * Throws a `score_out_of_range` BoardError (the same as `addScore`) when the score would leave
 * ±MAX_SCORE. Values are whole numbers, checked at the boundary.
 */
export function applyOperator(
  operator: Operator,
  order: Order,
  current: number,
  value: number,
): { score: number; changed: boolean } {
  const score = scoreAfter(operator, order, current, value);
  if (!inRange(score) || ((operator === 'set' || operator === 'best') && !inRange(value))) {
    throw new BoardError('score_out_of_range', `a score must stay within ±${MAX_SCORE}`);
  }
  return { score, changed: score !== current };
}

// The words for people live in contract/, where the web reads them too.
export { operatorLabel } from '../../contract/operators.ts';

function scoreAfter(operator: Operator, order: Order, current: number, value: number): number {
  switch (operator) {
    case 'incr':
      return current + value;
    case 'decr':
      return current - value;
    case 'set':
      return value;
    case 'best':
      return (order === 'desc' ? value > current : value < current) ? value : current;
  }
}

// Written so that NaN is out of range too.
function inRange(score: number): boolean {
  return Math.abs(score) <= MAX_SCORE;
}
