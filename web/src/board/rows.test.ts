import { describe, expect, it } from 'vitest';
import type { PlayerState } from '../../../contract/board.ts';
import { rankPlayers } from '../../../contract/ranking.ts';
import { type Row, searchPlayers, visibleRows } from './rows.ts';

const players = rankPlayers(
  Array.from(
    { length: 1000 },
    (_, i): PlayerState => ({
      id: `p${i}`,
      name: `Player ${i}`,
      score: 1000 - i,
      scoredAt: 0,
    }),
  ),
  'desc',
);

function describeRows(rows: Row[]): string[] {
  return rows.map((row) => (row.kind === 'gap' ? `…${row.hidden}` : row.player.id));
}

describe('visibleRows', () => {
  it('shows the top and counts the rest', () => {
    const rows = describeRows(visibleRows(players, { top: 3, around: 5 }));
    expect(rows).toEqual(['p0', 'p1', 'p2', '…997']);
  });

  it('adds a window around the focused player far down the board', () => {
    const rows = describeRows(visibleRows(players, { top: 3, around: 5, focusId: 'p500' }));
    expect(rows).toEqual([
      'p0',
      'p1',
      'p2',
      '…495',
      'p498',
      'p499',
      'p500',
      'p501',
      'p502',
      '…497',
    ]);
  });

  it('joins the window to the top when they touch, without repeating anyone', () => {
    const rows = describeRows(visibleRows(players, { top: 3, around: 5, focusId: 'p4' }));
    expect(rows).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', '…993']);
  });

  it('keeps the window full at the bottom of the board', () => {
    const rows = describeRows(visibleRows(players, { top: 2, around: 3, focusId: 'p999' }));
    expect(rows).toEqual(['p0', 'p1', '…995', 'p997', 'p998', 'p999']);
  });

  it('adds nothing for a focused player already in the top, or one not on the board', () => {
    expect(describeRows(visibleRows(players, { top: 2, around: 3, focusId: 'p1' }))).toEqual([
      'p0',
      'p1',
      '…998',
    ]);
    expect(describeRows(visibleRows(players, { top: 2, around: 3, focusId: 'gone' }))).toEqual([
      'p0',
      'p1',
      '…998',
    ]);
  });

  it('shows a small board whole', () => {
    expect(describeRows(visibleRows(players.slice(0, 2), { top: 100, around: 11 }))).toEqual([
      'p0',
      'p1',
    ]);
  });
});

describe('searchPlayers', () => {
  it('finds names by any case and any accent, in rank order, up to a limit', () => {
    const board = rankPlayers(
      [
        { id: 'a', name: 'Zoë', score: 1, scoredAt: 0 },
        { id: 'b', name: 'ZOE', score: 5, scoredAt: 0 },
        { id: 'c', name: 'Chloé', score: 3, scoredAt: 0 },
      ],
      'desc',
    );
    const { matches, total } = searchPlayers(board, ' zoe ', 1);
    expect(matches.map((p) => p.id)).toEqual(['b']);
    expect(total).toBe(2);
    expect(searchPlayers(board, '   ', 10)).toEqual({ matches: [], total: 0 });
  });
});
