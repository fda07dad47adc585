import { describe, expect, it } from 'vitest';
import { apiPaths, boardIdOfPath, routePatterns } from './paths.ts';

describe('API paths', () => {
  it('escapes ids so a path segment stays one segment', () => {
    expect(apiPaths.scoreAdd('a/b', 'c?d')).toBe('/boards/a%2Fb/players/c%3Fd/score-add/');
  });

  it('builds every path from its route pattern', () => {
    for (const [name, pattern] of Object.entries(routePatterns)) {
      const build = apiPaths[name as keyof typeof apiPaths] as (...ids: string[]) => string;
      const filled = pattern
        .replace(':boardId', 'B')
        .replace(':keyId', 'B')
        .replace(':playerId', 'P')
        .replace(':season', 'P');
      expect(build('B', 'P')).toBe(filled);
    }
  });

  it('finds the board id of a board path and of nothing else', () => {
    expect(boardIdOfPath('/boards/demo/')).toBe('demo');
    expect(boardIdOfPath('/boards/demo/players/')).toBeUndefined();
    expect(boardIdOfPath('/boards/')).toBeUndefined();
  });
});
