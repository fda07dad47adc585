import { describe, expect, it } from 'vitest';
import { type Backup, backupSchema } from '../../contract/backup.ts';
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
import { submitScores } from './score-batch.ts';
import { rollSeason, setSchedule } from './seasons.ts';

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
          seasons: [],
        },
        {
          id: 'b',
          name: 'B',
          order: 'desc',
          operator: 'incr',
          version: 0,
          createdAt: '1970-01-01T00:00:00.000Z',
          players: [],
          seasons: [],
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

describe('schedules, seasons and external keys in a backup', () => {
  const daily = { every: 'day' as const, at: '00:00', timeZone: 'Europe/Paris' };
  const day = (n: number, time = '00:00:00.000') => `2030-01-0${n}T${time}Z`;

  /** Board `s`: a schedule, season 3 under way, two past seasons, players by external key. */
  function seasoned(): Database {
    const db = emptyDatabase();
    const nextId = (() => {
      let n = 0;
      return () => `p${++n}`;
    })();
    createBoard(
      db,
      { name: 'S', order: 'desc', schedule: daily },
      limits,
      () => 's',
      new Date(day(1, '10:00:00.000')),
    );
    submitScores(db, 's', [{ externalKey: 'steam:1', name: 'Ada', score: 10 }], limits, nextId);
    rollSeason(db, 's', new Date(day(1, '23:00:00.000')));
    submitScores(db, 's', [{ externalKey: 'steam:2', name: 'Grace', score: 3 }], limits, nextId);
    rollSeason(db, 's', new Date(day(2, '23:00:00.000')));
    return db;
  }

  it('are written, and a backup restores them exactly', () => {
    const db = seasoned();
    const backup = backupOf(db, new Date(0));
    expect(backupSchema.parse(backup)).toEqual(backup);
    const [board] = backup.boards;
    expect(board).toMatchObject({
      schedule: daily,
      season: { number: 3, startedAt: day(2, '23:00:00.000') },
      players: [
        { id: 'p1', name: 'Ada', externalKey: 'steam:1' },
        { id: 'p2', name: 'Grace', externalKey: 'steam:2' },
      ],
    });
    expect(
      board?.seasons?.map((s) => [s.number, s.startedAt, s.endedAt, s.players.length]),
    ).toEqual([
      [1, day(1, '10:00:00.000'), day(1, '23:00:00.000'), 1],
      [2, day(1, '23:00:00.000'), day(2, '23:00:00.000'), 2],
    ]);
    const restored = restoredDatabase(new Map(), backup, limits).db;
    expect(restored).toEqual(db);
    expect(backupOf(restored, new Date(0))).toEqual(backup);
  });

  it('rank past standings as the board does: given in any order, without ranks', () => {
    const backup = backupOf(seasoned(), new Date(0));
    const season = backup.boards[0]?.seasons?.[1];
    if (season === undefined) throw new Error('no season 2');
    season.players = season.players.reverse().map(({ rank: _, ...player }) => player);
    const { db } = restoredDatabase(new Map(), backup, limits);
    expect(db.seasons?.s?.[1]?.players.map((p) => [p.name, p.rank])).toEqual([
      ['Grace', 1],
      ['Ada', 2],
    ]);
  });

  it('give every board of the backup its list of past seasons, none or not, to replace', () => {
    const backup = backupOf(database(), new Date(0));
    expect(restoredDatabase(new Map(), backup, limits).db.seasons).toEqual({ a: [], b: [] });
  });

  it('are absent from a backup written before them, which still restores (its boards keep their seasons)', () => {
    const old: unknown = {
      format: 'grip-leaderboard-backup',
      version: 1,
      createdAt: '2025-03-01T12:00:00.000Z',
      boards: [
        {
          id: 'a',
          name: 'Old',
          order: 'asc',
          version: 4,
          createdAt: '2025-03-01T12:00:00.000Z',
          players: [{ id: 'x', name: 'Ada', score: 9, scoredAt: 4 }],
        },
      ],
    };
    const { db } = restoredDatabase(new Map(), backupSchema.parse(old), limits);
    expect(db).toEqual({
      boards: {
        a: {
          id: 'a',
          name: 'Old',
          order: 'asc',
          version: 4,
          createdAt: '2025-03-01T12:00:00.000Z',
          players: [{ id: 'x', name: 'Ada', score: 9, scoredAt: 4 }],
        },
      },
    });
  });

  it('take season times only as the origin writes them', () => {
    const backup = backupOf(seasoned(), new Date(0));
    const board = backup.boards[0];
    if (board?.season === undefined) throw new Error('no season');
    board.season.startedAt = '2030-01-02T23:00:00Z';
    expect(backupSchema.safeParse(backup).success).toBe(false);
  });

  const seasonedWith = (change: (board: Backup['boards'][number]) => void) => {
    const backup = backupOf(seasoned(), new Date(0));
    const board = backup.boards[0];
    if (board !== undefined) change(board);
    return backup;
  };
  const pastSeason = (board: Backup['boards'][number], k: number) => {
    const season = board.seasons?.[k];
    if (season === undefined) throw new Error(`no past season ${k}`);
    return season;
  };

  it.each<[string, Backup, RegExp]>([
    [
      'an external key twice on a board',
      seasonedWith((b) => {
        for (const p of b.players) p.externalKey = 'steam:1';
      }),
      /^boards\.0\.players\.1\.externalKey: another player on the board has this external key$/,
    ],
    [
      'an external key twice in a past season',
      seasonedWith((b) => {
        for (const p of pastSeason(b, 1).players) p.externalKey = 'steam:9';
      }),
      /^boards\.0\.seasons\.1\.players\.1\.externalKey: /,
    ],
    [
      'a schedule in a time zone that does not exist',
      seasonedWith((b) => {
        b.schedule = { ...daily, timeZone: 'Mars/Olympus_Mons' };
      }),
      /^boards\.0\.schedule\.timeZone: "Mars\/Olympus_Mons" is not an IANA time zone/,
    ],
    [
      'a weekday on a daily schedule',
      seasonedWith((b) => {
        b.schedule = { ...daily, weekday: 1 };
      }),
      /^boards\.0\.schedule\.weekday: only a weekly schedule has a weekday$/,
    ],
    [
      'a schedule without its season',
      seasonedWith((b) => {
        delete b.season;
      }),
      /^boards\.0\.season: a board with a schedule has a season under way$/,
    ],
    [
      'past seasons out of order',
      seasonedWith((b) => {
        b.seasons?.reverse();
      }),
      /^boards\.0\.seasons\.1\.number: past seasons are listed oldest first, each number once$/,
    ],
    [
      'a past season after the season under way',
      seasonedWith((b) => {
        pastSeason(b, 1).number = 3;
      }),
      /^boards\.0\.season\.number: the season under way comes after the past seasons$/,
    ],
    [
      'a season that ends before it began',
      seasonedWith((b) => {
        pastSeason(b, 0).endedAt = pastSeason(b, 0).startedAt;
      }),
      /^boards\.0\.seasons\.0\.endedAt: a season ends after it began$/,
    ],
    [
      'a rank the standings do not give',
      seasonedWith((b) => {
        const grace = pastSeason(b, 1).players[0];
        if (grace !== undefined) grace.rank = 2;
      }),
      /^boards\.0\.seasons\.1\.players\.0\.rank: 2, but the standings rank p2 1$/,
    ],
    [
      'a player twice in a past season',
      seasonedWith((b) => {
        const players = pastSeason(b, 1).players;
        players.push({ ...(players[0] as (typeof players)[number]), externalKey: 'steam:7' });
      }),
      /^boards\.0\.seasons\.1\.players\.2\.id: player p2 is on the board twice$/,
    ],
  ])('refuses %s', (_, backup, message) => {
    const [kind, refused] = refusal(emptyDatabase(), backup) ?? [];
    expect(kind).toBe('invalid_backup');
    expect(refused).toMatch(message);
  });

  it('refuse nothing of a board whose schedule was removed: it keeps its season and past seasons', () => {
    const db = seasoned();
    setSchedule(db, 's', undefined, new Date(day(3)));
    const backup = backupOf(db, new Date(0));
    expect(backup.boards[0]?.schedule).toBeUndefined();
    expect(restoredDatabase(new Map(), backup, limits).db).toEqual(db);
  });
});
