import { describe, expect, it } from 'vitest';
import { MAX_SCORE, type Order } from '../../contract/board.ts';
import { BoardError } from './errors.ts';
import { applyOperator, OPERATORS, type Operator, operatorLabel } from './operators.ts';
import { seededRandom } from './seeded-random.ts';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof BoardError) return `${error.kind}: ${error.message}`;
    throw error;
  }
  return 'no error';
};

const outOfRange = 'score_out_of_range: a score must stay within ±1000000000000';

describe('incr and decr', () => {
  it('add and subtract the value', () => {
    expect(applyOperator('incr', 'desc', 10, 5)).toEqual({ score: 15, changed: true });
    expect(applyOperator('decr', 'desc', 10, 5)).toEqual({ score: 5, changed: true });
    expect(applyOperator('incr', 'asc', 10, -15)).toEqual({ score: -5, changed: true });
    expect(applyOperator('decr', 'asc', 10, -5)).toEqual({ score: 15, changed: true });
  });

  it('change nothing with a step of 0', () => {
    expect(applyOperator('incr', 'desc', 7, 0)).toEqual({ score: 7, changed: false });
    expect(applyOperator('decr', 'desc', 7, 0)).toEqual({ score: 7, changed: false });
  });

  it('may reach ±MAX_SCORE but not go past it, with the message addScore gives', () => {
    expect(applyOperator('incr', 'desc', MAX_SCORE - 1, 1).score).toBe(MAX_SCORE);
    expect(applyOperator('decr', 'desc', -MAX_SCORE + 1, 1).score).toBe(-MAX_SCORE);
    expect(applyOperator('incr', 'desc', -MAX_SCORE, 2 * MAX_SCORE).score).toBe(MAX_SCORE);
    expect(refusal(() => applyOperator('incr', 'desc', MAX_SCORE, 1))).toBe(outOfRange);
    expect(refusal(() => applyOperator('decr', 'desc', -MAX_SCORE, 1))).toBe(outOfRange);
  });
});

describe('set', () => {
  it('replaces the score, in either order', () => {
    expect(applyOperator('set', 'desc', 10, 3)).toEqual({ score: 3, changed: true });
    expect(applyOperator('set', 'asc', 10, 30)).toEqual({ score: 30, changed: true });
    expect(applyOperator('set', 'asc', 10, 10)).toEqual({ score: 10, changed: false });
  });

  it('refuses a score outside ±MAX_SCORE', () => {
    expect(applyOperator('set', 'desc', 0, -MAX_SCORE).score).toBe(-MAX_SCORE);
    expect(refusal(() => applyOperator('set', 'desc', 0, MAX_SCORE + 1))).toBe(outOfRange);
  });
});

describe('best', () => {
  it('keeps the higher score on a desc board', () => {
    expect(applyOperator('best', 'desc', 10, 12)).toEqual({ score: 12, changed: true });
    expect(applyOperator('best', 'desc', 10, 8)).toEqual({ score: 10, changed: false });
    expect(applyOperator('best', 'desc', 10, 10)).toEqual({ score: 10, changed: false });
  });

  it('keeps the lower score on an asc board (a time, a number of moves)', () => {
    expect(applyOperator('best', 'asc', 10, 8)).toEqual({ score: 8, changed: true });
    expect(applyOperator('best', 'asc', 10, 12)).toEqual({ score: 10, changed: false });
    expect(applyOperator('best', 'asc', 10, 10)).toEqual({ score: 10, changed: false });
  });

  it('refuses a value outside ±MAX_SCORE even when it would not be kept', () => {
    expect(refusal(() => applyOperator('best', 'asc', 0, -MAX_SCORE - 1))).toBe(outOfRange);
    expect(refusal(() => applyOperator('best', 'desc', 0, -MAX_SCORE - 1))).toBe(outOfRange);
  });
});

describe('every operator', () => {
  it('refuses a value that is not a number at all', () => {
    for (const operator of OPERATORS) {
      expect(refusal(() => applyOperator(operator, 'desc', 0, Number.NaN))).toBe(outOfRange);
      expect(refusal(() => applyOperator(operator, 'asc', 0, Number.POSITIVE_INFINITY))).toBe(
        outOfRange,
      );
    }
  });

  it('has a label for people', () => {
    expect(OPERATORS.map((operator) => operatorLabel(operator, 'desc'))).toEqual([
      'adds',
      'sets',
      'keeps the best (highest)',
      'subtracts',
    ]);
    expect(operatorLabel('best', 'asc')).toBe('keeps the best (lowest)');
  });
});

/** The rules as plainly as they can be said, for the property test to check against. */
function model(operator: Operator, order: Order, current: number, value: number) {
  const better = order === 'desc' ? Math.max(current, value) : Math.min(current, value);
  const score = {
    incr: current + value,
    decr: current - value,
    set: value,
    best: better,
  }[operator];
  const valueIsScore = operator === 'set' || operator === 'best';
  const refused = Math.abs(score) > MAX_SCORE || (valueIsScore && Math.abs(value) > MAX_SCORE);
  return refused ? undefined : { score, changed: score !== current };
}

/** A run of random writes from one seed: mostly small numbers, sometimes near or past the limits. */
function randomWrites(seed: number, count: number) {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
  const number = () =>
    next() < 0.8
      ? Math.floor(next() * 21) - 10
      : Math.floor((next() * 2 - 1) * (MAX_SCORE + 10)) + pick([0, MAX_SCORE, -MAX_SCORE]);
  return Array.from({ length: count }, () => ({
    operator: pick(OPERATORS),
    order: pick(['desc', 'asc'] as const),
    value: number(),
  }));
}

/** Applies one write, checks it against the model, and returns the score after it. */
function checkedWrite(write: ReturnType<typeof randomWrites>[number], current: number, at: string) {
  const { operator, order, value } = write;
  const expected = model(operator, order, current, value);
  if (expected === undefined) {
    expect(
      refusal(() => applyOperator(operator, order, current, value)),
      at,
    ).toBe(outOfRange);
    return current;
  }
  const result = applyOperator(operator, order, current, value);
  expect(result, at).toEqual(expected);
  expect(Math.abs(result.score), at).toBeLessThanOrEqual(MAX_SCORE);
  if (operator === 'best') {
    const notWorse = order === 'desc' ? result.score >= current : result.score <= current;
    expect(notWorse, at).toBe(true);
  }
  return result.score;
}

describe('random writes', () => {
  it('match the rules, never leave ±MAX_SCORE, and a best never gets worse', () => {
    for (let seed = 1; seed <= 20; seed++) {
      let current = 0;
      for (const [step, write] of randomWrites(seed, 500).entries()) {
        current = checkedWrite(write, current, `seed ${seed}, step ${step}`);
      }
    }
  });
});
