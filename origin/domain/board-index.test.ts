import { describe, expect, it } from 'vitest';
import type { Order } from '../../contract/board.ts';
import { rankPlayers, windowAround } from '../../contract/ranking.ts';
import {
  addPlayer,
  addScore,
  boardView,
  createBoard,
  type Database,
  emptyDatabase,
  indexOf,
  playerView,
  removePlayer,
  resetBoard,
  updatePlayer,
} from './board.ts';
import { seededRandom } from './seeded-random.ts';

const random = seededRandom;

const limits = { maxBoards: 1, maxPlayersPerBoard: 400 };

/** Drives one board with random changes and checks every read against the naive ranking. */
class Run {
  readonly db: Database = emptyDatabase();
  readonly next: () => number;
  readonly boardId: string;
  private ids = 0;

  constructor(order: Order, seed: number) {
    this.next = random(seed);
    this.boardId = createBoard(this.db, { name: 'B', order }, limits, () => 'b', new Date(0)).id;
  }

  get board() {
    const board = this.db.boards[this.boardId];
    if (board === undefined) throw new Error('no board');
    return board;
  }

  pick(): string | undefined {
    const players = this.board.players;
    return players[Math.floor(this.next() * players.length)]?.id;
  }

  step(): void {
    const roll = this.next();
    const id = this.pick();
    if (roll < 0.1 || id === undefined) {
      if (this.board.players.length < limits.maxPlayersPerBoard) {
        addPlayer(this.db, this.boardId, `P${this.ids} x`, limits, () => `p${this.ids++}`);
      }
    } else if (roll < 0.7) {
      addScore(this.db, this.boardId, id, Math.floor(this.next() * 5) - 2 || 1);
    } else if (roll < 0.8) {
      updatePlayer(this.db, this.boardId, id, { score: Math.floor(this.next() * 10) });
    } else if (roll < 0.85) {
      updatePlayer(this.db, this.boardId, id, { name: `N${Math.floor(this.next() * 1e9)}` });
    } else if (roll < 0.9) {
      removePlayer(this.db, this.boardId, id);
    } else if (roll < 0.9005) {
      resetBoard(this.db, this.boardId);
    } else if (roll > 0.99) {
      this.check();
    }
  }

  check(): void {
    const board = this.board;
    const naive = rankPlayers(board.players, board.order);
    expect(boardView(board).players).toEqual(naive);
    const limit = 1 + Math.floor(this.next() * 30);
    expect(boardView(board, { limit }).players).toEqual(naive.slice(0, limit));
    const id = this.pick();
    if (id === undefined) return;
    expect(boardView(board, { around: id, limit }).players).toEqual(windowAround(naive, id, limit));
    expect(playerView(board, id)).toEqual(naive.find((p) => p.id === id));
    const prefix = (board.players.find((p) => p.id === id)?.name ?? '').slice(0, 2).toLowerCase();
    const found = indexOf(board)
      .withNamePrefix(prefix, 1000)
      .map((p) => p.id);
    const expected = board.players
      .filter((p) => p.name.toLowerCase().startsWith(prefix))
      .map((p) => p.id);
    expect(new Set(found)).toEqual(new Set(expected));
  }
}

describe('a board index', () => {
  it.each([
    ['desc', 7],
    ['asc', 8],
  ] as const)(
    'ranks like the naive ranking over 100,000 random changes (%s, ties everywhere)',
    (order, seed) => {
      const run = new Run(order, seed);
      for (let i = 0; i < 100_000; i++) run.step();
      run.check();
    },
    120_000,
  );

  it('is rebuilt when the players array is replaced (a reset, a restore)', () => {
    const run = new Run('desc', 3);
    for (let i = 0; i < 2_000; i++) run.step();
    const board = run.board;
    board.players = board.players.map((p) => ({ ...p, score: p.score + 1 }));
    run.check();
  });

  it('finds names by prefix in name order, case-insensitively, up to the limit', () => {
    const db = emptyDatabase();
    const board = createBoard(db, { name: 'B', order: 'desc' }, limits, () => 'b', new Date(0));
    let n = 0;
    for (const name of ['ada', 'Adam', 'ADAMS', 'Bea', 'adele']) {
      addPlayer(db, board.id, name, limits, () => `id${n++}`);
    }
    const names = (prefix: string, limit = 10) =>
      indexOf(board)
        .withNamePrefix(prefix, limit)
        .map((p) => p.name);
    expect(names('ad')).toEqual(['ada', 'Adam', 'ADAMS', 'adele']);
    expect(names('ADA')).toEqual(['ada', 'Adam', 'ADAMS']);
    expect(names('ad', 2)).toEqual(['ada', 'Adam']);
    expect(names('z')).toEqual([]);
    expect(names('')).toHaveLength(5);
  });
});
