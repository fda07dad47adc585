import { describe, expect, it } from 'vitest';
import type { Backup } from '../../contract/backup.ts';
import { backupOf, restoredDatabase } from './backup.ts';
import {
  addPlayer,
  addScore,
  boardVersions,
  createBoard,
  type Database,
  emptyDatabase,
} from './board.ts';
import { BoardError } from './errors.ts';

const limits = { maxBoards: 3, maxPlayersPerBoard: 3 };

/** Two boards: `a` (version 3, two players) and `b` (version 0, none). */
function database(): Database {
  const db = emptyDatabase();
  const ids = ['a', 'b'];
  let n = 0;
  for (const name of ['A', 'B']) {
    createBoard(db, { name, order: 'desc' }, limits, () => ids.shift() ?? 'x', new Date(0));
  }
  addPlayer(db, 'a', 'Ada', limits, () => `p${++n}`);
  addPlayer(db, 'a', 'Grace', limits, () => `p${++n}`);
  addScore(db, 'a', 'p1', 5);
  return db;
}

const refusal = (current: Database, backup: Backup) => {
  try {
    restoredDatabase(boardVersions(current), backup, limits);
  } catch (error) {
    if (error instanceof BoardError) return [error.kind, error.message];
    throw error;
  }
  return undefined;
};

describe('backupOf', () => {
  it('writes every board with its players, and when it was taken', () => {
    const backup = backupOf(database(), new Date(Date.UTC(2026, 0, 2)));
    expect(backup).toEqual({
      format: 'grip-leaderboard-backup',
      version: 1,
      createdAt: '2026-01-02T00:00:00.000Z',
      boards: [
        {
          id: 'a',
          name: 'A',
          order: 'desc',
          operator: 'incr',
          version: 3,
          createdAt: '1970-01-01T00:00:00.000Z',
          players: [
            { id: 'p1', name: 'Ada', score: 5, scoredAt: 3 },
            { id: 'p2', name: 'Grace', score: 0, scoredAt: 2 },
          ],
        },
        {
          id: 'b',
          name: 'B',
          order: 'desc',
          operator: 'incr',
          version: 0,
          createdAt: '1970-01-01T00:00:00.000Z',
          players: [],
        },
      ],
    });
  });
});

describe('operators in a backup', () => {
  it('are written and restored; a backup without one restores an incr board', () => {
    const db = emptyDatabase();
    createBoard(
      db,
      { name: 'Best', order: 'asc', operator: 'best' },
      limits,
      () => 'x',
      new Date(0),
    );
    const backup = backupOf(db, new Date(0));
    expect(backup.boards[0]?.operator).toBe('best');
    expect(restoredDatabase(new Map(), backup, limits).db.boards.x?.operator).toBe('best');
    const old = { ...backup, boards: backup.boards.map(({ operator: _, ...older }) => older) };
    const restored = restoredDatabase(new Map(), old, limits).db.boards.x;
    expect(restored?.operator ?? 'incr').toBe('incr');
  });
});

describe('restoredDatabase', () => {
  it("gives back the backup's boards, and the boards it deletes", () => {
    const backup = backupOf(database(), new Date(0));
    const current = database();
    createBoard(current, { name: 'C', order: 'asc' }, limits, () => 'c', new Date(0));
    const { db, deleted } = restoredDatabase(
      boardVersions(current),
      { ...backup, boards: backup.boards.slice(0, 1) },
      limits,
    );
    expect(Object.keys(db.boards)).toEqual(['a']);
    expect(deleted).toEqual([
      { boardId: 'b', version: 1, changed: [], removed: [], deleted: true, moved: [], meta: true },
      { boardId: 'c', version: 1, changed: [], removed: [], deleted: true, moved: [], meta: true },
    ]);
  });

  it('keeps versions growing: a board that exists gets one more than now, or the backup if higher', () => {
    const backup = backupOf(database(), new Date(0));
    const current = database();
    addScore(current, 'a', 'p2', 1); // a is now at version 4, b still at 0
    const { db } = restoredDatabase(boardVersions(current), backup, limits);
    expect(db.boards.a?.version).toBe(5);
    expect(db.boards.b?.version).toBe(1);
    const ahead = { ...backup, boards: backup.boards.map((b) => ({ ...b, version: 40 })) };
    expect(restoredDatabase(boardVersions(current), ahead, limits).db.boards.a?.version).toBe(40);
    expect(
      restoredDatabase(boardVersions(emptyDatabase()), backup, limits).db.boards.a?.version,
    ).toBe(3);
  });

  it('copies what it is given and changes nothing it reads', () => {
    const backup = backupOf(database(), new Date(0));
    const current = database();
    const before = JSON.stringify(current);
    const { db } = restoredDatabase(boardVersions(current), backup, limits);
    expect(JSON.stringify(current)).toBe(before);
    expect(db.boards.a?.players).toEqual(backup.boards[0]?.players);
    expect(db.boards.a?.players[0]).not.toBe(backup.boards[0]?.players[0]);
  });

  const base = () => backupOf(database(), new Date(0));
  const emptyBoard = (id: string) => ({ ...(base().boards[1] as Backup['boards'][number]), id });
  const withBoard = (change: (board: Backup['boards'][number]) => void) => {
    const backup = base();
    const board = backup.boards[0];
    if (board !== undefined) change(board);
    return backup;
  };
  const player = (id: string, name: string, scoredAt = 0) => ({ id, name, score: 0, scoredAt });

  it.each<[string, Backup, string, RegExp]>([
    [
      'a board twice',
      { ...base(), boards: [...base().boards, emptyBoard('b')] },
      'invalid_backup',
      /^boards\.2\.id: board b is in the backup twice$/,
    ],
    [
      '__proto__ as a board id',
      withBoard((b) => {
        b.id = '__proto__';
      }),
      'invalid_backup',
      /__proto__/,
    ],
    [
      'a player twice',
      withBoard((b) => b.players.push(player('p1', 'Other'))),
      'invalid_backup',
      /^boards\.0\.players\.2\.id: player p1 is on the board twice$/,
    ],
    [
      'a name twice, ignoring case',
      withBoard((b) => b.players.push(player('p3', 'ADA'))),
      'invalid_backup',
      /^boards\.0\.players\.2\.name: another player/,
    ],
    [
      'a score reached after the board version',
      withBoard((b) => b.players.push(player('p3', 'Zed', 4))),
      'invalid_backup',
      /scoredAt: 4 is after the board's version 3/,
    ],
    [
      'more boards than MAX_BOARDS',
      {
        ...base(),
        boards: ['w', 'x', 'y', 'z'].map(emptyBoard),
      },
      'limit_reached',
      /4 boards; at most 3 are allowed \(MAX_BOARDS\)/,
    ],
    [
      'more players than MAX_PLAYERS_PER_BOARD',
      withBoard((b) => b.players.push(player('p3', 'C'), player('p4', 'D'))),
      'limit_reached',
      /board a has 4 players; at most 3 .*MAX_PLAYERS_PER_BOARD/,
    ],
  ])('refuses %s', (_, backup, kind, message) => {
    const [refusedKind, refusedMessage] = refusal(database(), backup) ?? [];
    expect(refusedKind).toBe(kind);
    expect(refusedMessage).toMatch(message);
  });
});
