import { describe, expect, it } from 'vitest';
import type { BoardView, PlayerState } from '../../../contract/board.ts';
import { rankPlayers } from '../../../contract/ranking.ts';
import { applyWindow, type BoardState, loading } from './boardState.ts';
import { type Row, visibleRows } from './rows.ts';

const players = rankPlayers(
  Array.from(
    { length: 1000 },
    (_, i): PlayerState => ({ id: `p${i}`, name: `Player ${i}`, score: 1000 - i, scoredAt: 0 }),
  ),
  'desc',
);

/** A state holding the given [from, to) runs of a 1000-player board. */
function holding(...runs: [number, number][]): BoardState {
  return runs.reduce((state, [from, to]) => {
    const view: BoardView = {
      id: 'demo',
      name: 'Demo',
      order: 'desc',
      operator: 'incr',
      version: 1,
      playerCount: players.length,
      offset: from,
      players: players.slice(from, to),
    };
    return applyWindow(state, view).state;
  }, loading);
}

function describeRows(rows: Row[]): string[] {
  return rows.map((row) => (row.kind === 'gap' ? `${row.key} ${row.hidden}` : row.player.id));
}

describe('visibleRows', () => {
  const state = holding([0, 100], [475, 525], [975, 1000]);

  it('shows the top and counts the rest', () => {
    const rows = describeRows(visibleRows(state, { from: 0, count: 3, radius: 2 }));
    expect(rows).toEqual(['p0', 'p1', 'p2', 'gap-end 997']);
  });

  it('adds a window around the focused player far down the board', () => {
    const rows = visibleRows(state, { from: 0, count: 3, radius: 2, focusId: 'p500' });
    expect(describeRows(rows)).toEqual([
      'p0',
      'p1',
      'p2',
      'gap-above 495',
      'p498',
      'p499',
      'p500',
      'p501',
      'p502',
      'gap-end 497',
    ]);
  });

  it('joins the window to the top when they touch, without repeating anyone', () => {
    const rows = describeRows(visibleRows(state, { from: 0, count: 3, radius: 2, focusId: 'p4' }));
    expect(rows).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'gap-end 993']);
  });

  it('keeps the window full at the bottom of the board', () => {
    const rows = describeRows(
      visibleRows(state, { from: 0, count: 2, radius: 1, focusId: 'p999' }),
    );
    expect(rows).toEqual(['p0', 'p1', 'gap-above 995', 'p997', 'p998', 'p999']);
  });

  it('adds nothing for a focused player already shown, or one it does not hold', () => {
    expect(
      describeRows(visibleRows(state, { from: 0, count: 2, radius: 1, focusId: 'p1' })),
    ).toEqual(['p0', 'p1', 'gap-end 998']);
    expect(
      describeRows(visibleRows(state, { from: 0, count: 2, radius: 1, focusId: 'p300' })),
    ).toEqual(['p0', 'p1', 'gap-end 998']);
  });

  it('shows a page of ranks with the players above it counted, and the focus before it', () => {
    const page = visibleRows(state, { from: 500, count: 3, radius: 1, focusId: 'p50' });
    expect(describeRows(page)).toEqual([
      'gap-start 49',
      'p49',
      'p50',
      'p51',
      'gap-above 448',
      'p500',
      'p501',
      'p502',
      'gap-end 497',
    ]);
  });

  it('shows a small board whole, and nothing past the end of a board', () => {
    const two: BoardView = {
      id: 'small',
      name: 'Small',
      order: 'desc',
      operator: 'incr',
      version: 1,
      playerCount: 2,
      offset: 0,
      players: players.slice(0, 2),
    };
    const small = applyWindow(loading, two).state;
    expect(describeRows(visibleRows(small, { from: 0, count: 100, radius: 5 }))).toEqual([
      'p0',
      'p1',
    ]);
    expect(describeRows(visibleRows(state, { from: 2000, count: 25, radius: 5 }))).toEqual([
      'gap-end 1000',
    ]);
  });

  it('leaves out the positions it does not hold yet, counting them in', () => {
    const rows = describeRows(visibleRows(holding([0, 2]), { from: 0, count: 4, radius: 1 }));
    expect(rows).toEqual(['p0', 'p1', 'gap-end 996']);
  });
});
