import { describe, expect, it } from 'vitest';
import {
  clampView,
  fittedWindow,
  lastPage,
  mainRun,
  pageOfRank,
  type RankingView,
  topView,
  windowOf,
} from './rankingView.ts';

const ada = { id: 'ada', name: 'Ada', score: 3, scoredAt: 1, rank: 4_001 };

describe('the ranking’s views', () => {
  it('follow the top 100 and the pick, a page of ranks and the pick, or the top and a player', () => {
    expect(windowOf(topView, 'me')).toEqual({ from: 0, limit: 100, around: 'me' });
    expect(windowOf(topView, undefined)).toEqual({ from: 0, limit: 100, around: undefined });
    const rank: RankingView = { kind: 'rank', page: 40 };
    expect(windowOf(rank, 'me')).toEqual({ from: 1000, limit: 25, around: 'me' });
    expect(mainRun(rank)).toEqual({ from: 1000, count: 25 });
    expect(windowOf({ kind: 'player', player: ada }, 'me')).toEqual({
      from: 0,
      limit: 100,
      around: 'ada',
    });
  });

  it('find the page of a rank, kept on the board', () => {
    expect(pageOfRank(1, 10_000)).toBe(0);
    expect(pageOfRank(25, 10_000)).toBe(0);
    expect(pageOfRank(26, 10_000)).toBe(1);
    expect(pageOfRank(5_000, 10_000)).toBe(199);
    expect(pageOfRank(99_999, 10_000)).toBe(399);
    expect(pageOfRank(0, 10_000)).toBe(0);
    expect(pageOfRank(3, 0)).toBe(0);
    expect(lastPage(10_000)).toBe(399);
    expect(lastPage(10_001)).toBe(400);
    expect(lastPage(0)).toBe(0);
  });

  it('keep a page of ranks on a board that shrank', () => {
    const far: RankingView = { kind: 'rank', page: 40 };
    expect(clampView(far, 10_000)).toBe(far);
    expect(clampView(far, 500)).toEqual({ kind: 'rank', page: 19 });
    expect(clampView(far, 0)).toEqual({ kind: 'rank', page: 0 });
    expect(clampView(far, undefined)).toBe(far);
    expect(clampView(topView, 0)).toBe(topView);
  });

  it('follow whole pages for the rows a big screen has room for', () => {
    expect(fittedWindow(1)).toEqual({ from: 0, limit: 25 });
    expect(fittedWindow(25)).toEqual({ from: 0, limit: 25 });
    expect(fittedWindow(26)).toEqual({ from: 0, limit: 50 });
    expect(fittedWindow(500)).toEqual({ from: 0, limit: 100 });
  });
});
