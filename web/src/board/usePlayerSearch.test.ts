import { describe, expect, it } from 'vitest';
import type { RankedPlayer } from '../../../contract/board.ts';
import { SEARCH_LIMIT, searchStatus } from './usePlayerSearch.ts';

const found = (count: number): RankedPlayer[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `p${i}`,
    name: `Ann ${i}`,
    score: 0,
    scoredAt: 0,
    rank: i + 1,
  }));

describe('searchStatus', () => {
  it('says nothing before a search, and that one is under way until the first answer', () => {
    expect(searchStatus({ status: 'idle' })).toBeUndefined();
    expect(searchStatus({ status: 'searching', players: undefined })).toBe('Searching…');
  });

  it('counts what was found, and asks for more of the name when the list is full', () => {
    expect(searchStatus({ status: 'done', players: [] })).toBe(
      'No player’s name starts with that.',
    );
    expect(searchStatus({ status: 'done', players: found(1) })).toBe('1 match.');
    expect(searchStatus({ status: 'done', players: found(3) })).toBe('3 matches.');
    expect(searchStatus({ status: 'done', players: found(SEARCH_LIMIT) })).toBe(
      `The first ${SEARCH_LIMIT} matches: type more of the name.`,
    );
  });

  it('keeps saying what the last answer found while the next is awaited', () => {
    expect(searchStatus({ status: 'searching', players: found(2) })).toBe('2 matches.');
  });

  it('says when the search failed', () => {
    expect(searchStatus({ status: 'failed' })).toMatch(/did not work/);
  });
});
