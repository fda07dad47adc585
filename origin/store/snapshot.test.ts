import { describe, expect, it } from 'vitest';
import type { PlayerState } from '../../contract/board.ts';
import {
  addScore,
  createBoard,
  type Database,
  deleteBoard,
  emptyDatabase,
  removePlayer,
  updatePlayer,
} from '../domain/board.ts';
import { databasePieces, PLAYERS_PER_PIECE } from './snapshot.ts';

function board(db: Database, id: string, count: number): void {
  const players: PlayerState[] = Array.from({ length: count }, (_, i) => ({
    id: `${id}-${i}`,
    name: `Player "${i}" ✓`,
    score: i % 13,
    scoredAt: i,
  }));
  db.boards[id] = { id, name: id, order: 'desc', version: count, createdAt: '', players };
}

const limits = { maxBoards: 10, maxPlayersPerBoard: 1_000_000 };

describe('databasePieces', () => {
  it('is the database as JSON, in pieces of a few thousand players', () => {
    const db = emptyDatabase();
    board(db, 'empty', 0);
    board(db, 'one', 1);
    board(db, 'exact', PLAYERS_PER_PIECE);
    board(db, 'more', 2 * PLAYERS_PER_PIECE + 1);
    const pieces = [...databasePieces(db)];
    expect(JSON.parse(pieces.join(''))).toEqual(db);
    expect(pieces.length).toBeGreaterThan(6);
    for (const piece of pieces) expect(piece.length).toBeLessThan(PLAYERS_PER_PIECE * 100);
  });

  it('says what the database held at the call, whatever changes while the pieces are made', () => {
    const db = emptyDatabase();
    board(db, 'big', 2 * PLAYERS_PER_PIECE + 1);
    board(db, 'gone', 3);
    const expected = structuredClone(db);
    const pieces = databasePieces(db)[Symbol.iterator]();
    const first = [pieces.next().value, pieces.next().value];
    addScore(db, 'big', 'big-0', 5);
    addScore(db, 'big', `big-${2 * PLAYERS_PER_PIECE}`, 7);
    removePlayer(db, 'big', 'big-1');
    updatePlayer(db, 'big', 'big-2', { name: 'Renamed' });
    deleteBoard(db, 'gone');
    createBoard(db, { name: 'New', order: 'asc' }, limits, () => 'new', new Date(0));
    const big = db.boards.big;
    if (big) big.name = 'Changed';
    const rest = [...{ [Symbol.iterator]: () => pieces }];
    expect(JSON.parse([...first, ...rest].join(''))).toEqual(expected);
  });
});
