import { describe, expect, it } from 'vitest';
import { matchRoute, routePaths, themeOf } from './router.ts';

describe('matchRoute', () => {
  it('shows the board list at the root', () => {
    expect(matchRoute('/')).toEqual({ page: 'boards' });
  });

  it('shows a board at /b/<id>, with or without a trailing slash', () => {
    expect(matchRoute('/b/demo')).toEqual({ page: 'board', boardId: 'demo', display: 'page' });
    expect(matchRoute('/b/demo/')).toEqual({ page: 'board', boardId: 'demo', display: 'page' });
  });

  it("shows a board's past seasons at /b/<id>/seasons and one at /b/<id>/seasons/<n>", () => {
    expect(matchRoute('/b/demo/seasons')).toEqual({
      page: 'seasons',
      boardId: 'demo',
      season: undefined,
    });
    expect(matchRoute('/b/demo/seasons/12/')).toEqual({
      page: 'seasons',
      boardId: 'demo',
      season: 12,
    });
    expect(matchRoute(routePaths.seasons('demo', 3))).toEqual({
      page: 'seasons',
      boardId: 'demo',
      season: 3,
    });
    for (const bad of [
      '/b/demo/seasons/0',
      '/b/demo/seasons/x',
      '/b/a%2Fb/seasons',
      '/b/%E0/seasons',
    ]) {
      expect(matchRoute(bad)).toEqual({ page: 'not-found' });
    }
  });

  it('shows a board on a big screen with ?view=tv, and for an iframe with ?embed=1', () => {
    expect(matchRoute('/b/demo', '?view=tv')).toMatchObject({ display: 'tv' });
    expect(matchRoute('/b/demo', 'embed=1')).toMatchObject({ display: 'embed' });
    expect(matchRoute('/b/demo', '?embed=true&view=tv')).toMatchObject({ display: 'embed' });
    expect(matchRoute('/b/demo', '?embed=0')).toMatchObject({ display: 'page' });
    expect(matchRoute('/b/demo', '?view=phone')).toMatchObject({ display: 'page' });
  });

  it('reads back the paths it builds', () => {
    expect(matchRoute(routePaths.board('a_B-9'))).toEqual({
      page: 'board',
      boardId: 'a_B-9',
      display: 'page',
    });
    for (const display of ['page', 'tv', 'embed'] as const) {
      const [path = '', search] = routePaths.board('x', display).split('?');
      expect(matchRoute(path, search)).toEqual({ page: 'board', boardId: 'x', display });
    }
    expect(matchRoute(routePaths.boards())).toEqual({ page: 'boards' });
  });

  it('refuses ids the API would refuse, bad escapes, and API paths', () => {
    for (const path of [
      '/b/a%20b',
      '/b/%E0%A4%A',
      '/b/demo/x',
      '/boards/',
      '/boards/demo/',
      '/b/',
    ]) {
      expect(matchRoute(path)).toEqual({ page: 'not-found' });
    }
  });
});

describe('themeOf', () => {
  it('takes light or dark from ?theme= and ignores anything else', () => {
    expect(themeOf('?theme=dark')).toBe('dark');
    expect(themeOf('?embed=1&theme=light')).toBe('light');
    expect(themeOf('?theme=blue')).toBeUndefined();
    expect(themeOf('')).toBeUndefined();
  });
});
