import { describe, expect, it } from 'vitest';
import type { PlayerState } from '../../../contract/board.ts';
import { rankPlayers } from '../../../contract/ranking.ts';
import { describeRankChanges, ordinal } from './announce.ts';

function board(scores: Record<string, number>) {
  return rankPlayers(
    Object.entries(scores).map(
      ([name, score]): PlayerState => ({ id: name, name, score, scoredAt: 0 }),
    ),
    'desc',
  );
}

const options = { watch: 3, maxSpoken: 2 };

describe('describeRankChanges', () => {
  it('says nothing when no rank changed', () => {
    const scores = { Ann: 3, Bob: 2, Cy: 1 };
    expect(
      describeRankChanges(board(scores), board({ ...scores, Ann: 9 }), options),
    ).toBeUndefined();
  });

  it('tells a new leader once, not also as a climb', () => {
    const before = board({ Ann: 3, Bob: 2, Cy: 1 });
    const after = board({ Ann: 3, Bob: 4, Cy: 1 });
    expect(describeRankChanges(before, after, options)).toBe('Bob takes the lead.');
  });

  it('tells climbs in the watched places and counts what it does not spell out', () => {
    const before = board({ Ann: 5, Bob: 4, Cy: 3, Dee: 2, Eve: 1 });
    const after = board({ Ann: 5, Bob: 1, Cy: 0, Dee: 2, Eve: 4 });
    expect(describeRankChanges(before, after, { ...options, maxSpoken: 1 })).toBe(
      'Eve moves up to 2nd and 1 more change.',
    );
    expect(describeRankChanges(before, after, options)).toBe(
      'Eve moves up to 2nd, Dee moves up to 3rd.',
    );
  });

  it('tells the focused player dropping, even out of the watched places', () => {
    const before = board({ Ann: 5, Bob: 4, Cy: 3, Dee: 2, Eve: 1 });
    const after = board({ Ann: 5, Bob: 4, Cy: 3, Dee: 0, Eve: 1 });
    expect(describeRankChanges(before, after, { ...options, focusId: 'Dee' })).toBe(
      'Dee drops to 5th.',
    );
  });

  it('tells a new player entering the watched places', () => {
    const before = board({ Ann: 5, Bob: 4 });
    const after = board({ Ann: 5, Bob: 4, Zed: 4.5 });
    expect(describeRankChanges(before, after, options)).toBe('Zed enters at 2nd.');
  });

  it('says nothing of a focused player that only comes into the rows held', () => {
    // Far down a big board, the rows around the pick come once the browser follows them.
    const before = board({ Ann: 5, Bob: 4 });
    const dee = { id: 'Dee', name: 'Dee', score: 1, scoredAt: 0, rank: 151 };
    const after = [...board({ Ann: 5, Bob: 4 }), dee];
    expect(describeRankChanges(before, after, { ...options, focusId: 'Dee' })).toBeUndefined();
  });
});

describe('ordinal', () => {
  it('spells English ordinals', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal)).toEqual([
      '1st',
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '101st',
    ]);
  });
});
