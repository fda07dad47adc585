import { appendFile, copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Adapter } from 'lowdb';
import { describe, expect, it } from 'vitest';
import type { BoardChange, Database } from '../domain/board.ts';
import {
  addPlayer,
  addScore,
  boardView,
  createBoard,
  deleteBoard,
  emptyDatabase,
  listBoards,
  removePlayer,
  seedDatabase,
  updatePlayer,
} from '../domain/board.ts';
import { DataFileError } from './json-file.ts';
import { fileStore, parseDatabase, Store } from './store.ts';

const seed = () => seedDatabase(() => Math.random().toString(36).slice(2, 10), new Date(0));
const tempFile = async () => join(await mkdtemp(join(tmpdir(), 'store-')), 'db.json');

/** An adapter whose writes wait until the test releases them, and that counts them. */
function gatedAdapter() {
  const writes: string[] = [];
  const gates: (() => void)[] = [];
  const adapter: Adapter<Database> = {
    read: async () => emptyDatabase(),
    write: (data) => {
      writes.push(JSON.stringify(data));
      return new Promise<void>((resolve) => gates.push(resolve));
    },
  };
  return {
    adapter,
    writes,
    release: () => {
      for (const open of gates.splice(0)) open();
    },
  };
}

describe('group commit', () => {
  it('shares one write among every commit made while a write is running', async () => {
    const gated = gatedAdapter();
    const store = await Store.open(gated.adapter, emptyDatabase);
    store.data.boards.x = {
      id: 'x',
      name: 'x',
      order: 'desc',
      version: 1,
      createdAt: '',
      players: [],
    };
    const first = store.commit();
    await new Promise((r) => setTimeout(r, 0));
    const done: number[] = [];
    const rest = Array.from({ length: 50 }, (_, i) => {
      const board = store.data.boards.x;
      if (board) board.version = i + 2;
      return store.commit().then(() => done.push(i));
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(gated.writes).toHaveLength(1);
    gated.release();
    await first;
    await new Promise((r) => setTimeout(r, 0));
    expect(gated.writes).toHaveLength(2);
    expect(done).toHaveLength(0);
    gated.release();
    await Promise.all(rest);
    expect(done).toHaveLength(50);
    expect(JSON.parse(gated.writes[1] as string).boards.x.version).toBe(51);
  });

  it('does not acknowledge a commit before the write that holds its change', async () => {
    const gated = gatedAdapter();
    const store = await Store.open(gated.adapter, emptyDatabase);
    let acked = false;
    const commit = store.commit().then(() => {
      acked = true;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(acked).toBe(false);
    gated.release();
    await commit;
    expect(acked).toBe(true);
  });
});

describe('commit reports', () => {
  it('say how many mutations each group commit made durable, and how long it took', async () => {
    const gated = gatedAdapter();
    const store = await Store.open(gated.adapter, emptyDatabase);
    const reports: { mutations: number; seconds: number }[] = [];
    const stop = store.onCommit((report) => reports.push(report));
    store.touch('x', ['a']);
    const first = store.commit();
    await new Promise((r) => setTimeout(r, 0));
    for (const id of ['b', 'c', 'd']) store.touch('x', [id]);
    const rest = Promise.all([store.commit(), store.commit()]);
    gated.release();
    await first;
    await new Promise((r) => setTimeout(r, 0));
    gated.release();
    await rest;
    // A commit with nothing to make durable is not a group commit worth timing.
    const idle = store.commit();
    await new Promise((r) => setTimeout(r, 0));
    gated.release();
    await idle;
    expect(reports.map((r) => r.mutations)).toEqual([1, 3]);
    for (const report of reports) expect(report.seconds).toBeGreaterThanOrEqual(0);
    stop();
    store.touch('x', ['e']);
    const after = store.commit();
    await new Promise((r) => setTimeout(r, 0));
    gated.release();
    await after;
    expect(reports).toHaveLength(2);
  });
});

describe('the data file', () => {
  it('is seeded once, when new, and survives reopening', async () => {
    const path = await tempFile();
    const first = await fileStore(path, seed);
    const board = first.data.boards.demo;
    if (board) {
      board.name = 'Renamed';
      board.version += 1;
    }
    await first.commit();
    const second = await fileStore(path, seed);
    expect(second.data.boards.demo?.name).toBe('Renamed');
  });

  it('leaves nothing beside it but its journal', async () => {
    const path = await tempFile();
    const store = await fileStore(path, seed);
    await Promise.all(Array.from({ length: 20 }, () => store.commit()));
    expect((await readdir(join(path, '..'))).sort()).toEqual(['db.json', 'db.json.journal']);
    JSON.parse(await readFile(path, 'utf8'));
  });

  it('when corrupt, is kept aside and reported, never replaced by a fresh seed', async () => {
    const path = await tempFile();
    await writeFile(path, '{"boards": {"demo": ');
    await expect(fileStore(path, seed)).rejects.toThrow(DataFileError);
    const files = await readdir(join(path, '..'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^db\.json\.corrupt-/);
    expect(await readFile(join(path, '..', files[0] as string), 'utf8')).toBe(
      '{"boards": {"demo": ',
    );
  });

  it('when valid JSON of the wrong shape, is treated as corrupt too', async () => {
    const path = await tempFile();
    await writeFile(path, '{"boards": {"x": {"id": 1}}}');
    await expect(fileStore(path, seed)).rejects.toThrow(/not a valid leaderboard database/);
  });

  const board = { id: 'b', name: 'B', order: 'desc', version: 1, createdAt: '', players: [] };
  const player = { id: 'p', name: 'P', score: 1, scoredAt: 1 };
  it.each([
    ['a board with a field it does not know', { ...board, extra: 1 }],
    ['a player with a field it does not know', { ...board, players: [{ ...player, rank: 1 }] }],
    ['a fractional score', { ...board, players: [{ ...player, score: 1.5 }] }],
    ['an order it does not know', { ...board, order: 'up' }],
    ['a negative version', { ...board, version: -1 }],
  ])('is refused with %s', (_why, value) => {
    expect(() => parseDatabase({ boards: { b: board } })).not.toThrow();
    expect(() => parseDatabase({ boards: { b: value } })).toThrow(/boards\.b/);
  });
});

describe('commits made before a write starts', () => {
  it('join that write', async () => {
    const gated = gatedAdapter();
    const store = await Store.open(gated.adapter, emptyDatabase);
    const commits = Array.from({ length: 10 }, () => store.commit());
    await new Promise((r) => setTimeout(r, 0));
    gated.release();
    await Promise.all(commits);
    expect(gated.writes).toHaveLength(1);
  });
});

describe('a failed write', () => {
  it('fails its commits, refuses every later one, and is reported once', async () => {
    let fail = false;
    const reported: Error[] = [];
    const adapter: Adapter<Database> = {
      read: async () => emptyDatabase(),
      write: async () => {
        if (fail) throw new Error('disk full');
      },
    };
    const store = await Store.open(adapter, emptyDatabase, (error) => reported.push(error));
    await store.commit();
    fail = true;
    await expect(store.commit()).rejects.toThrow('disk full');
    fail = false;
    await expect(store.commit()).rejects.toThrow('disk full');
    expect(reported.map((e) => e.message)).toEqual(['disk full']);
  });
});

/**
 * The database with each board's players in id order: the stored array's order means nothing
 * (removing a player moves the last one into its place), so two databases are the same when they
 * hold the same boards with the same players.
 */
function sameData(db: Database): Database {
  const boards = Object.fromEntries(
    Object.entries(db.boards).map(([id, board]) => [
      id,
      { ...board, players: [...board.players].sort((a, b) => (a.id < b.id ? -1 : 1)) },
    ]),
  );
  return { boards };
}

describe('the journal', () => {
  const limits = { maxBoards: 10, maxPlayersPerBoard: 100 };
  let n = 0;
  const newId = () => `j${++n}`;

  /** Changes the database the way the routes do: a domain mutation, then touch and commit. */
  async function change(store: Store, mutation: BoardChange | undefined) {
    if (mutation !== undefined)
      store.touch(mutation.boardId, [...mutation.changed, ...mutation.removed]);
    await store.commit();
  }

  async function busyStore(path: string) {
    const store = await fileStore(path, seed);
    const db = store.data;
    const [a, b, c] = (db.boards.demo?.players ?? []).map((p) => p.id) as [string, string, string];
    await change(store, addScore(db, 'demo', a, 3).change);
    await change(store, addScore(db, 'demo', b, 1).change);
    await change(store, updatePlayer(db, 'demo', c, { name: 'Renamed' }).change);
    await change(store, removePlayer(db, 'demo', b));
    await change(store, addPlayer(db, 'demo', 'Newcomer', limits, newId).change);
    const other = createBoard(db, { name: 'Other', order: 'asc' }, limits, newId, new Date(0));
    await change(store, undefined);
    await change(store, addPlayer(db, other.id, 'Solo', limits, newId).change);
    const gone = createBoard(db, { name: 'Gone', order: 'desc' }, limits, newId, new Date(0));
    await change(store, undefined);
    await change(store, deleteBoard(db, gone.id));
    return store;
  }

  it('holds each commit as a line and is redone on reopening, in the same order', async () => {
    const path = await tempFile();
    const store = await busyStore(path);
    const lines = (await readFile(`${path}.journal`, 'utf8')).trim().split('\n');
    expect(lines.length).toBe(9);
    const reopened = await fileStore(path, seed);
    expect(sameData(reopened.data)).toEqual(sameData(store.data));
  });

  it('is folded into the data file on reopening and then emptied', async () => {
    const path = await tempFile();
    const store = await busyStore(path);
    await fileStore(path, seed);
    expect(await readFile(`${path}.journal`, 'utf8')).toBe('');
    expect(sameData(JSON.parse(await readFile(path, 'utf8')))).toEqual(sameData(store.data));
  });

  it('leaves out a last line cut short by a crash (never acknowledged)', async () => {
    const path = await tempFile();
    const store = await busyStore(path);
    const expected = structuredClone(store.data);
    await appendFile(`${path}.journal`, '{"boards":[{"id":"demo","deleted":tr');
    const reopened = await fileStore(path, seed);
    expect(sameData(reopened.data)).toEqual(sameData(expected));
  });

  it('stops the start, changing nothing, when a line in the middle cannot be read', async () => {
    const path = await tempFile();
    await busyStore(path);
    const journal = `${path}.journal`;
    const lines = (await readFile(journal, 'utf8')).split('\n');
    lines[2] = '{ not json';
    await writeFile(journal, lines.join('\n'));
    const before = await readFile(path, 'utf8');
    await expect(fileStore(path, seed)).rejects.toThrow(/journal .* line 3/);
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('takes a whole new database (a restore) as one line, redone whole or not at all', async () => {
    const path = await tempFile();
    const store = await busyStore(path);
    const replacement = emptyDatabase();
    createBoard(replacement, { name: 'Restored', order: 'desc' }, limits, () => 'r', new Date(0));
    addPlayer(replacement, 'r', 'Back', limits, newId);
    const before = (await readFile(`${path}.journal`, 'utf8')).split('\n').length;
    store.replaceAll(replacement);
    await store.commit();
    const lines = (await readFile(`${path}.journal`, 'utf8')).trim().split('\n');
    expect(lines.length).toBe(before);
    expect(sameData((await fileStore(path, seed)).data)).toEqual(sameData(replacement));
  });

  it('after a restore cut short by a crash, reopens as it was before it', async () => {
    const path = await tempFile();
    const store = await busyStore(path);
    const expected = structuredClone(store.data);
    const journal = `${path}.journal`;
    const complete = await readFile(journal, 'utf8');
    store.replaceAll(emptyDatabase());
    await store.commit();
    const restoreLine = (await readFile(journal, 'utf8')).slice(complete.length);
    await writeFile(journal, complete + restoreLine.slice(0, restoreLine.length - 10));
    expect(sameData((await fileStore(path, seed)).data)).toEqual(sameData(expected));
  });

  it('is folded into the data file once it outgrows it, while running', async () => {
    const path = await tempFile();
    const store = await fileStore(path, seed, undefined, 2_000);
    const db = store.data;
    const id = db.boards.demo?.players[0]?.id as string;
    for (let i = 0; i < 40; i++) await change(store, addScore(db, 'demo', id, 1).change);
    await store.settle();
    const journal = await readFile(`${path}.journal`, 'utf8');
    expect(Buffer.byteLength(journal)).toBeLessThan(4_000);
    const onDisk = JSON.parse(await readFile(path, 'utf8'));
    expect(onDisk.boards.demo.version).toBeGreaterThan(
      (store.data.boards.demo?.version as number) - 40,
    );
    expect((await fileStore(path, seed)).data).toEqual(store.data);
  });
});

describe('a data directory written by the previous version', () => {
  // Written by the store of main at 4a4151e (one data file and `<file>.journal`, no sealed
  // journal): a seeded board, +1s, a rename, a removal, boards added and deleted, a restore
  // (boards written whole) and more +1s, with the journal not yet folded. expected.json is what
  // that store held in memory when it stopped.
  const fixture = fileURLToPath(new URL('./fixtures/previous-version/', import.meta.url));

  it('opens to what that version held, and is then in the current layout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'store-previous-'));
    for (const name of ['leaderboard', 'leaderboard.journal']) {
      await copyFile(join(fixture, name), join(dir, name));
    }
    const expected = JSON.parse(await readFile(join(fixture, 'expected.json'), 'utf8'));
    const store = await fileStore(join(dir, 'leaderboard'), seed);
    expect(sameData(store.data)).toEqual(sameData(expected));
    expect((await readdir(dir)).sort()).toEqual(['leaderboard', 'leaderboard.journal']);
    expect(await readFile(join(dir, 'leaderboard.journal'), 'utf8')).toBe('');
    expect(sameData((await fileStore(join(dir, 'leaderboard'), seed)).data)).toEqual(
      sameData(expected),
    );
  });

  it('reads its boards, which had no operator, as `incr` boards', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'store-previous-'));
    for (const name of ['leaderboard', 'leaderboard.journal']) {
      await copyFile(join(fixture, name), join(dir, name));
    }
    const store = await fileStore(join(dir, 'leaderboard'), seed);
    const boards = listBoards(store.data);
    expect(boards.length).toBeGreaterThan(0);
    expect(boards.map((b) => b.operator)).toEqual(boards.map(() => 'incr'));
    const first = store.data.boards[boards[0]?.id ?? ''];
    expect(first && boardView(first, { limit: 1 }).operator).toBe('incr');
  });
});

describe('a commit on a large board', () => {
  it('writes only the players it touched', async () => {
    const path = await tempFile();
    const players = Array.from({ length: 10_000 }, (_, i) => ({
      id: `p${i}`,
      name: `Player ${i}`,
      score: 0,
      scoredAt: i,
    }));
    const big = { id: 'big', name: 'Big', order: 'desc', version: 1, createdAt: '', players };
    await writeFile(path, JSON.stringify({ boards: { big } }));
    const store = await fileStore(path, seed);
    const { change } = addScore(store.data, 'big', 'p1234', 1);
    store.touch(change.boardId, [...change.changed, 'p-gone']);
    await store.commit();
    const [line] = (await readFile(`${path}.journal`, 'utf8')).trim().split('\n');
    const entry = JSON.parse(line as string);
    expect(entry.boards[0].players).toEqual([
      { id: 'p1234', name: 'Player 1234', score: 1, scoredAt: 2 },
    ]);
    expect(entry.boards[0].remove).toEqual(['p-gone']);
  });
});

describe('a journal holding only a line cut short', () => {
  it('is emptied at start, so the next commit does not append to the cut line', async () => {
    const path = await tempFile();
    await fileStore(path, seed);
    // A crash during the first commit after a start: nothing else in the journal.
    await appendFile(`${path}.journal`, '{"boards":[{"id":"demo","board":{"id":"de');
    const second = await fileStore(path, seed);
    const id = second.data.boards.demo?.players[0]?.id as string;
    const { change } = addScore(second.data, 'demo', id, 5);
    second.touch(change.boardId, change.changed);
    await second.commit();
    const third = await fileStore(path, seed);
    expect(sameData(third.data)).toEqual(sameData(second.data));
  });
});
