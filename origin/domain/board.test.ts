import { describe, expect, it } from 'vitest';
import { MAX_SCORE } from '../../contract/board.ts';
import {
  addPlayer,
  addScore,
  boardView,
  createBoard,
  deleteBoard,
  emptyDatabase,
  getBoard,
  listBoards,
  removePlayer,
  resetBoard,
  seedDatabase,
  updatePlayer,
} from './board.ts';
import { BoardError } from './errors.ts';

const limits = { maxBoards: 3, maxPlayersPerBoard: 4 };
const now = new Date('2026-01-01T00:00:00Z');

function counter(prefix: string) {
  let n = 0;
  return () => `${prefix}${++n}`;
}

function boardWith(...names: string[]) {
  const db = emptyDatabase();
  const newId = counter('p');
  const board = createBoard(db, { name: 'B', order: 'desc' }, limits, () => 'b1', now);
  const ids = names.map((name) => addPlayer(db, board.id, name, limits, newId).player.id);
  return { db, board, ids };
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof BoardError) return error.kind;
    throw error;
  }
  return 'no error';
};

describe('the seeded database', () => {
  it('has one demo board of five players, all at zero', () => {
    const db = seedDatabase(counter('x'), now);
    expect(listBoards(db)).toEqual([
      { id: 'demo', name: 'Demo board', order: 'desc', operator: 'incr', playerCount: 5 },
    ]);
    expect(boardView(getBoard(db, 'demo')).players.every((p) => p.score === 0)).toBe(true);
  });
});

describe('versions', () => {
  it('grow by one with every change to a board', () => {
    const { db, board, ids } = boardWith('a', 'b');
    const start = board.version;
    addScore(db, 'b1', ids[0] as string, 1);
    updatePlayer(db, 'b1', ids[1] as string, { name: 'bee' });
    removePlayer(db, 'b1', ids[1] as string);
    resetBoard(db, 'b1');
    expect(getBoard(db, 'b1').version).toBe(start + 4);
  });

  it('are reported in the change each mutation returns', () => {
    const { db, ids } = boardWith('a');
    const { change } = addScore(db, 'b1', ids[0] as string, 2);
    expect(change).toEqual({
      boardId: 'b1',
      version: getBoard(db, 'b1').version,
      changed: ids,
      removed: [],
      deleted: false,
      moved: [[0, 0]],
      meta: false,
    });
  });

  it('say which display positions moved, and when the size of the board changed', () => {
    const { db, ids } = boardWith('a', 'b', 'c', 'd');
    const [a, b, c, d] = ids as [string, string, string, string];
    // d (4th) jumps to the top: positions 0..3 shift.
    expect(addScore(db, 'b1', d, 5).change).toMatchObject({ moved: [[0, 3]], meta: false });
    // a renamed in place: only its own position.
    expect(updatePlayer(db, 'b1', a, { name: 'aa' }).change.moved).toEqual([[1, 1]]);
    // A newcomer lands last; removing b moves everyone below it up.
    expect(
      addPlayer(db, 'b1', 'e', { ...limits, maxPlayersPerBoard: 9 }, () => 'e1').change,
    ).toMatchObject({ moved: [[4, 4]], meta: true });
    expect(removePlayer(db, 'b1', b)).toMatchObject({ moved: [[2, 4]], meta: true });
    expect(resetBoard(db, 'b1')).toMatchObject({ bulk: 'reset' });
    expect(c).toBeDefined();
  });
});

describe('addScore', () => {
  it('adds and re-ranks; the one who got there first stays ahead on a tie', () => {
    const { db, ids } = boardWith('a', 'b');
    const [a, b] = ids as [string, string];
    addScore(db, 'b1', b, 1);
    const { player } = addScore(db, 'b1', a, 1);
    expect(player.rank).toBe(1);
    expect(boardView(getBoard(db, 'b1')).players.map((p) => p.id)).toEqual([b, a]);
  });

  it('refuses to leave the score range and changes nothing', () => {
    const { db, ids } = boardWith('a');
    const before = JSON.stringify(db);
    expect(code(() => addScore(db, 'b1', ids[0] as string, MAX_SCORE + 1))).toBe(
      'score_out_of_range',
    );
    expect(JSON.stringify(db)).toBe(before);
  });

  it('refuses unknown boards and players, including prototype names', () => {
    const { db } = boardWith('a');
    expect(code(() => addScore(db, 'nope', 'x', 1))).toBe('board_not_found');
    expect(code(() => addScore(db, 'b1', 'nope', 1))).toBe('player_not_found');
    expect(code(() => addScore(db, '__proto__', 'x', 1))).toBe('board_not_found');
    expect(code(() => addScore(db, 'b1', 'constructor', 1))).toBe('player_not_found');
  });
});

describe('players', () => {
  it('refuses a second player with the same name, ignoring case', () => {
    const { db } = boardWith('Ada');
    expect(code(() => addPlayer(db, 'b1', 'ada', limits, counter('q')))).toBe('name_taken');
  });

  it('lets a player keep its own name on rename', () => {
    const { db, ids } = boardWith('Ada');
    expect(code(() => updatePlayer(db, 'b1', ids[0] as string, { name: 'ADA' }))).toBe('no error');
  });

  it('stops at the player limit', () => {
    const { db } = boardWith('a', 'b', 'c', 'd');
    expect(code(() => addPlayer(db, 'b1', 'e', limits, counter('q')))).toBe('limit_reached');
  });

  it('setting a score marks when it was reached; renaming does not', () => {
    const { db, ids } = boardWith('a');
    const id = ids[0] as string;
    const renamed = updatePlayer(db, 'b1', id, { name: 'z' }).player;
    const scored = updatePlayer(db, 'b1', id, { score: 5 }).player;
    expect(renamed.scoredAt).toBeLessThan(scored.scoredAt);
    expect(scored.scoredAt).toBe(getBoard(db, 'b1').version);
  });
});

describe('boards', () => {
  it('stop at the board limit', () => {
    const db = emptyDatabase();
    const ids = counter('b');
    for (let i = 0; i < 3; i++) createBoard(db, { name: `B${i}`, order: 'desc' }, limits, ids, now);
    expect(code(() => createBoard(db, { name: 'x', order: 'desc' }, limits, ids, now))).toBe(
      'limit_reached',
    );
  });

  it('never reuse an id that is taken', () => {
    const db = emptyDatabase();
    const ids = ['same', 'same', 'other'];
    createBoard(db, { name: 'a', order: 'desc' }, limits, () => 'same', now);
    const second = createBoard(
      db,
      { name: 'b', order: 'desc' },
      limits,
      () => ids.shift() as string,
      now,
    );
    expect(second.id).toBe('other');
  });

  it('reset sets every score to zero and reports only the players that changed', () => {
    const { db, ids } = boardWith('a', 'b');
    addScore(db, 'b1', ids[0] as string, 3);
    const change = resetBoard(db, 'b1');
    expect(change.changed).toEqual([ids[0]]);
    expect(boardView(getBoard(db, 'b1')).players.map((p) => p.score)).toEqual([0, 0]);
  });

  it('delete reports a deletion one version past the last', () => {
    const { db, board } = boardWith('a');
    const change = deleteBoard(db, 'b1');
    expect(change).toMatchObject({ deleted: true, version: board.version + 1 });
    expect(code(() => getBoard(db, 'b1'))).toBe('board_not_found');
  });
});

describe('boardView', () => {
  it('windows by limit and around a player, and counts the whole board', () => {
    const { db, ids } = boardWith('a', 'b', 'c', 'd');
    for (const [i, id] of ids.entries()) addScore(db, 'b1', id, 10 - i);
    const board = getBoard(db, 'b1');
    expect(boardView(board, { limit: 2 }).players.map((p) => p.name)).toEqual(['a', 'b']);
    expect(
      boardView(board, { around: ids[2] as string, limit: 3 }).players.map((p) => p.name),
    ).toEqual(['b', 'c', 'd']);
    expect(boardView(board, { limit: 2 }).playerCount).toBe(4);
    expect(code(() => boardView(board, { around: 'nobody' }))).toBe('player_not_found');
  });
});
