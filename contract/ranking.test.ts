import { describe, expect, it } from 'vitest';
import type { PlayerState } from './board.ts';
import { rankPlayers, windowAround } from './ranking.ts';

const p = (id: string, score: number, scoredAt: number): PlayerState => ({
  id,
  name: id,
  score,
  scoredAt,
});

describe('rankPlayers', () => {
  it('gives equal scores the same rank and skips the ranks they use (1, 2, 2, 4)', () => {
    const ranked = rankPlayers([p('a', 5, 1), p('b', 9, 2), p('c', 5, 3), p('d', 1, 4)], 'desc');
    expect(ranked.map((r) => [r.id, r.rank])).toEqual([
      ['b', 1],
      ['a', 2],
      ['c', 2],
      ['d', 4],
    ]);
  });

  it('lists tied players by who reached the score first', () => {
    const ranked = rankPlayers([p('late', 7, 9), p('early', 7, 3)], 'desc');
    expect(ranked.map((r) => r.id)).toEqual(['early', 'late']);
  });

  it('puts the lowest score first on an ascending board', () => {
    const ranked = rankPlayers([p('a', 30, 1), p('b', 10, 2), p('c', 20, 3)], 'asc');
    expect(ranked.map((r) => [r.id, r.rank])).toEqual([
      ['b', 1],
      ['c', 2],
      ['a', 3],
    ]);
  });

  it('does not reorder the array it was given', () => {
    const players = [p('a', 1, 1), p('b', 2, 2)];
    rankPlayers(players, 'desc');
    expect(players.map((x) => x.id)).toEqual(['a', 'b']);
  });
});

describe('windowAround', () => {
  const ranked = rankPlayers(
    Array.from({ length: 10 }, (_, i) => p(`p${i}`, 100 - i, i)),
    'desc',
  );

  it('centres the window on the player', () => {
    expect(windowAround(ranked, 'p5', 3)?.map((r) => r.id)).toEqual(['p4', 'p5', 'p6']);
  });

  it('stays full at the top and at the bottom of the board', () => {
    expect(windowAround(ranked, 'p0', 4)?.map((r) => r.id)).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(windowAround(ranked, 'p9', 4)?.map((r) => r.id)).toEqual(['p6', 'p7', 'p8', 'p9']);
  });

  it('returns the whole board when the window is larger', () => {
    expect(windowAround(ranked, 'p3', 50)).toHaveLength(10);
  });

  it('is undefined for a player not on the board', () => {
    expect(windowAround(ranked, 'nobody', 3)).toBeUndefined();
  });
});
