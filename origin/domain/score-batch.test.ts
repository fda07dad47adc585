import { describe, expect, it } from 'vitest';
import { MAX_SCORE } from '../../contract/board.ts';
import type { ScoreEntry } from '../../contract/scores.ts';
import {
  addPlayer,
  addScore,
  boardView,
  createBoard,
  type Database,
  emptyDatabase,
  updatePlayer,
} from './board.ts';
import { BoardError, EntriesRefused } from './errors.ts';
import type { Operator } from './operators.ts';
import { mergeRanges, submitScores } from './score-batch.ts';

const limits = { maxBoards: 10, maxPlayersPerBoard: 6 };
const now = new Date('2026-01-01T00:00:00Z');

function counter(prefix: string) {
  let n = 0;
  return () => `${prefix}${++n}`;
}

function boardOf(operator: Operator, order: 'desc' | 'asc' = 'desc') {
  const db = emptyDatabase();
  const newId = counter('p');
  createBoard(db, { name: 'B', order, operator }, limits, () => 'b', now);
  const ids = ['Ada', 'Grace', 'Linus'].map(
    (name) => addPlayer(db, 'b', name, limits, newId).player.id,
  );
  return { db, ids, newId };
}

const submit = (db: Database, entries: ScoreEntry[], newId = counter('n')) =>
  submitScores(db, 'b', entries, limits, newId);

function refusals(run: () => unknown): Array<{ index: number; message: string }> {
  try {
    run();
  } catch (error) {
    if (error instanceof EntriesRefused) return [...error.entries];
    throw error;
  }
  throw new Error('the batch was taken');
}

describe('a score batch', () => {
  it('applies every entry with the board operator as one version and one change', () => {
    const { db, ids } = boardOf('incr');
    const [ada, grace] = ids as [string, string];
    const { result, change } = submit(db, [
      { playerId: ada, score: 5 },
      { playerId: grace, score: 7 },
    ]);
    expect(result.version).toBe(4);
    expect(result.players.map((p) => [p.name, p.score, p.rank, p.created])).toEqual([
      ['Ada', 5, 2, false],
      ['Grace', 7, 1, false],
    ]);
    expect(change?.version).toBe(4);
    expect(change?.changed).toEqual([ada, grace]);
    expect(change?.moved).toEqual([[0, 1]]);
    expect(change?.meta).toBe(false);
  });

  it('keeps the best: a worse value changes nothing, not even when the player scored', () => {
    const { db, ids } = boardOf('best');
    const [ada, grace] = ids as [string, string];
    submit(db, [
      { playerId: ada, score: 30 },
      { playerId: grace, score: 40 },
    ]);
    const before = boardView(db.boards.b as never);
    const { result, change } = submit(db, [{ playerId: ada, score: 25 }]);
    expect(change).toBeUndefined();
    expect(result.version).toBe(before.version);
    expect(boardView(db.boards.b as never)).toEqual(before);
    const better = submit(db, [
      { playerId: ada, score: 20 },
      { playerId: grace, score: 45 },
    ]);
    expect(better.result.players.map((p) => [p.score, p.scoredAt])).toEqual([
      [30, before.version],
      [45, before.version + 1],
    ]);
    expect(better.change?.changed).toEqual([grace]);
  });

  it('sets and subtracts on set and decr boards', () => {
    const set = boardOf('set');
    const done = submit(set.db, [{ playerId: set.ids[0] as string, score: -9 }]);
    expect(done.result.players[0]?.score).toBe(-9);
    const decr = boardOf('decr');
    const twice = submit(decr.db, [{ externalKey: 'u1', name: 'Ken', score: 4 }]);
    expect(twice.result.players[0]?.score).toBe(-4);
    expect(submit(decr.db, [{ externalKey: 'u1', score: 4 }]).result.players[0]?.score).toBe(-8);
  });

  it('creates players by external key, then finds them by it', () => {
    const { db } = boardOf('incr');
    const first = submit(db, [{ externalKey: 'steam:42', name: 'Margaret', score: 3 }], () => 'm');
    expect(first.result.players).toEqual([
      {
        id: 'm',
        name: 'Margaret',
        score: 3,
        scoredAt: 4,
        externalKey: 'steam:42',
        rank: 1,
        created: true,
      },
    ]);
    expect(first.change?.meta).toBe(true);
    expect(first.change?.moved).toEqual([[0, 3]]);
    const again = submit(db, [{ externalKey: 'steam:42', name: 'ignored', score: 2 }]);
    expect(again.result.players[0]).toMatchObject({
      id: 'm',
      name: 'Margaret',
      score: 5,
      created: false,
    });
    expect(boardView(db.boards.b as never).players[0]?.externalKey).toBe('steam:42');
    // A rename keeps the key.
    updatePlayer(db, 'b', 'm', { name: 'Maggie' });
    expect(submit(db, [{ externalKey: 'steam:42', score: 1 }]).result.players[0]?.name).toBe(
      'Maggie',
    );
  });

  it('refuses the whole batch, entry by entry, and changes nothing', () => {
    const { db, ids } = boardOf('incr');
    const [ada, grace] = ids as [string, string];
    submit(db, [{ externalKey: 'k1', name: 'Ken', score: 1 }], () => 'k');
    const before = JSON.stringify(db);
    const problems = refusals(() =>
      submit(db, [
        { playerId: 'nobody', score: 1 },
        { playerId: ada, score: 1 },
        { playerId: ada, score: 1 },
        { externalKey: 'new', score: 1 },
        { externalKey: 'new2', name: 'grace', score: 1 },
        { externalKey: 'k1', score: 1 },
        { playerId: 'k', score: 1 },
        { externalKey: 'x', name: 'Xavier', score: 1 },
        { externalKey: 'x', name: 'Xena', score: 1 },
        { externalKey: 'y', name: 'xavier', score: 1 },
        { playerId: grace, score: MAX_SCORE },
        { externalKey: 'z', name: 'Zoe', score: 1 },
      ]),
    );
    expect(problems.map((p) => [p.index, p.message])).toEqual([
      [0, 'playerId: no player "nobody" on this board'],
      [2, 'playerId: the same player as entries[1]; send one entry per player'],
      [3, 'name: externalKey "new" is new to this board; give the name of the player to create'],
      [4, 'name: a player named "grace" is already on this board'],
      [6, 'playerId: the same player as entries[5]; send one entry per player'],
      [8, 'externalKey: the same player as entries[7]; send one entry per player'],
      [9, 'name: "xavier" is also the name in entries[7]'],
    ]);
    expect(JSON.stringify(db)).toBe(before);
  });

  it('refuses a score leaving ±10^12 and more players than the board may hold', () => {
    const { db, ids } = boardOf('incr');
    addScore(db, 'b', ids[0] as string, 1);
    const before = JSON.stringify(db);
    const problems = refusals(() =>
      submit(db, [
        { playerId: ids[0] as string, score: MAX_SCORE },
        { externalKey: 'a', name: 'A', score: 1 },
        { externalKey: 'b', name: 'B', score: 1 },
        { externalKey: 'c', name: 'C', score: 1 },
        { externalKey: 'd', name: 'D', score: 1 },
      ]),
    );
    expect(problems).toEqual([
      { index: 0, message: `score: a score must stay within ±${MAX_SCORE}` },
      { index: 4, message: 'the board would hold 7 players; at most 6' },
    ]);
    expect(JSON.stringify(db)).toBe(before);
  });

  it('has viewers reload past 200 moved ranges', () => {
    const db = emptyDatabase();
    const big = { maxBoards: 1, maxPlayersPerBoard: 2_000 };
    createBoard(db, { name: 'B', order: 'desc', operator: 'set' }, big, () => 'b', now);
    const newId = counter('p');
    const ids = Array.from(
      { length: 1_000 },
      (_, i) => addPlayer(db, 'b', `P${i}`, big, newId).player.id,
    );
    submitScores(
      db,
      'b',
      ids.map((id, i) => ({ playerId: id, score: 1_000 - i })),
      big,
      newId,
    );
    // Every fourth player ties the one below, who got there first: 250 swaps that do not touch.
    const entries = ids
      .map((id, i) => ({ playerId: id, score: 999 - i }))
      .filter((_, i) => i % 4 === 0);
    const { change } = submitScores(db, 'b', entries, big, newId);
    expect(change?.bulk).toBe('import');
    expect(change?.moved).toEqual([]);
  });
});

describe('operators on a board', () => {
  it('refuse the public +1 on a board that does not add up', () => {
    const { db, ids } = boardOf('best');
    try {
      addScore(db, 'b', ids[0] as string, 1);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BoardError);
      expect((error as BoardError).kind).toBe('operator_mismatch');
      expect((error as BoardError).message).toContain('/scores/');
    }
  });

  it('leave an admin set of a score absolute on every board', () => {
    const { db, ids } = boardOf('decr');
    expect(updatePlayer(db, 'b', ids[0] as string, { score: 12 }).player.score).toBe(12);
  });

  it('default to incr, and every view says which', () => {
    const db = emptyDatabase();
    createBoard(db, { name: 'B', order: 'desc' }, limits, () => 'b', now);
    expect(boardView(db.boards.b as never).operator).toBe('incr');
  });
});

describe('mergeRanges', () => {
  it('joins overlapping and adjacent ranges, in order', () => {
    expect(
      mergeRanges([
        [5, 7],
        [0, 1],
        [2, 3],
        [6, 9],
        [12, 12],
      ]),
    ).toEqual([
      [0, 3],
      [5, 9],
      [12, 12],
    ]);
  });
});
