import { describe, expect, it } from 'vitest';
import { matchRoute, routePaths } from './router.ts';

describe('matchRoute', () => {
  it('shows the board list at the root', () => {
    expect(matchRoute('/')).toEqual({ page: 'boards' });
  });

  it('shows a board at /b/<id>, with or without a trailing slash', () => {
    expect(matchRoute('/b/demo')).toEqual({ page: 'board', boardId: 'demo' });
    expect(matchRoute('/b/demo/')).toEqual({ page: 'board', boardId: 'demo' });
  });

  it('reads back the paths it builds', () => {
    expect(matchRoute(routePaths.board('a_B-9'))).toEqual({ page: 'board', boardId: 'a_B-9' });
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
