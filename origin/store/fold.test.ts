import { appendFile, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlayerState } from '../../contract/board.ts';
import {
  addPlayer,
  addScore,
  type BoardChange,
  type Database,
  deleteBoard,
  removePlayer,
  seedDatabase,
  updatePlayer,
} from '../domain/board.ts';
import { Journal } from './journal.ts';
import { DataFileError, DurableJsonFile, replaceDurably } from './json-file.ts';
import { databasePieces, PLAYERS_PER_PIECE } from './snapshot.ts';
import { fileStore, parseDatabase, Store } from './store.ts';

// A fold writes the data file beside the commits (store.ts says how). These tests hold a fold at
// its steps, and leave the files as a crash at each step would, then reopen.

let n = 0;
const newId = () => `f${++n}`;
const seed = () => seedDatabase(newId, new Date(0));
const limits = { maxBoards: 10, maxPlayersPerBoard: 1_000_000 };
const tempFile = async () => join(await mkdtemp(join(tmpdir(), 'fold-')), 'db.json');
const files = async (path: string) => (await readdir(join(path, '..'))).sort();

/** The database with players in id order: the stored array's order means nothing. */
function sameData(db: Database): Database {
  const boards = Object.entries(db.boards).map(([id, board]) => {
    const players = [...board.players].sort((a, b) => (a.id < b.id ? -1 : 1));
    return [id, { ...board, players }] as const;
  });
  return { boards: Object.fromEntries(boards) };
}

/** Changes the database the way the service does: a domain mutation, then touch and commit. */
async function change(store: Store, mutation: BoardChange): Promise<void> {
  store.touch(mutation.boardId, [...mutation.changed, ...mutation.removed]);
  await store.commit();
}

/** Writes a data file with one board of `count` players. */
async function bigBoard(path: string, count: number): Promise<string[]> {
  const players: PlayerState[] = Array.from({ length: count }, (_, i) => ({
    id: `p${i}`,
    name: `Player ${i}`,
    score: i % 97,
    scoredAt: i,
  }));
  const board = { id: 'big', name: 'Big', order: 'desc', version: count, createdAt: '', players };
  await writeFile(path, JSON.stringify({ boards: { big: board } }));
  return players.map((p) => p.id);
}

/** A data file whose fold-time writes wait, once armed, until the test releases them. */
function gatedDataFile(path: string) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started = () => {};
  const writing = new Promise<void>((resolve) => {
    started = resolve;
  });
  const state = { armed: false };
  class Gated extends DurableJsonFile<Database> {
    override async writePieces(pieces: Iterable<string>): Promise<void> {
      if (state.armed) {
        started();
        await gate;
      }
      await super.writePieces(pieces);
    }
  }
  const dataFile = new Gated(path, { validate: parseDatabase, pieces: databasePieces });
  return { dataFile, writing, release, arm: () => (state.armed = true) };
}

describe('a fold', () => {
  it('writes the data file while later commits are acknowledged in a new journal', async () => {
    const path = await tempFile();
    const ids = await bigBoard(path, 3 * PLAYERS_PER_PIECE + 1);
    const gated = gatedDataFile(path);
    const journal = new Journal(`${path}.journal`);
    const store = await Store.open(
      { dataFile: gated.dataFile, journal, journalMinBytes: 1 << 20 },
      seed,
    );
    for (const id of ids.slice(0, 5))
      await change(store, addScore(store.data, 'big', id, 1).change);
    const captured = structuredClone(store.data);
    gated.arm();
    const folded = store.fold();
    await gated.writing;
    expect(await files(path)).toEqual(['db.json', 'db.json.journal', 'db.json.journal.folding']);

    // The data file is being written: commits go on, to the new journal.
    for (const id of ids.slice(5, 12))
      await change(store, addScore(store.data, 'big', id, 2).change);
    const lines = (await readFile(`${path}.journal`, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(7);

    gated.release();
    await folded;
    expect(await files(path)).toEqual(['db.json', 'db.json.journal']);
    expect(sameData(JSON.parse(await readFile(path, 'utf8')))).toEqual(sameData(captured));
    expect(sameData((await fileStore(path, seed)).data)).toEqual(sameData(store.data));
  });

  it('runs under a load of +1s, and the files reopen to every acknowledged one', async () => {
    const path = await tempFile();
    const ids = await bigBoard(path, 4 * PLAYERS_PER_PIECE);
    const store = await fileStore(path, seed);
    let running = true;
    let acknowledged = 0;
    const clients = [0, 1, 2, 3].map(async (client) => {
      for (let i = client; running; i += 4) {
        await change(store, addScore(store.data, 'big', ids[i % 50] as string, 1).change);
        acknowledged++;
      }
    });
    // Three folds in a row, each sealing the journal the commits appended to during the last.
    for (let i = 0; i < 3; i++) {
      const before = acknowledged;
      await store.fold();
      while (acknowledged < before + 20) await new Promise((r) => setTimeout(r, 5));
    }
    running = false;
    await Promise.all(clients);
    await store.settle();
    const expected = structuredClone(store.data);
    expect(sameData((await fileStore(path, seed)).data)).toEqual(sameData(expected));
  });

  it('that fails stops the store like a failed commit, and loses nothing acknowledged', async () => {
    const path = await tempFile();
    const ids = await bigBoard(path, 100);
    const reported: Error[] = [];
    class Failing extends DurableJsonFile<Database> {
      failing = false;
      override async writePieces(pieces: Iterable<string>): Promise<void> {
        if (this.failing) throw new Error('disk full');
        await super.writePieces(pieces);
      }
    }
    const dataFile = new Failing(path, { validate: parseDatabase, pieces: databasePieces });
    const journal = new Journal(`${path}.journal`);
    const store = await Store.open({ dataFile, journal, journalMinBytes: 1 << 20 }, seed, (e) =>
      reported.push(e),
    );
    for (const id of ids.slice(0, 3))
      await change(store, addScore(store.data, 'big', id, 1).change);
    dataFile.failing = true;
    await expect(store.fold()).rejects.toThrow('disk full');
    expect(store.failed).toBe(true);
    expect(reported.map((e) => e.message)).toEqual(['disk full']);
    await expect(store.commit()).rejects.toThrow('disk full');
    expect(sameData((await fileStore(path, seed)).data)).toEqual(sameData(store.data));
  });
});

/**
 * A history in two parts, as a fold splits it: `before` goes to the journal that is sealed, and
 * `after` to the new one. The parts change the same players, so redoing them out of order, or
 * redoing `before` over a data file that already holds `after`, would show.
 */
async function history(path: string) {
  const store = await fileStore(path, seed);
  const db = store.data;
  const [a, b, c] = (db.boards.demo?.players ?? []).map((p) => p.id) as [string, string, string];
  const before = async () => {
    await change(store, addScore(db, 'demo', a, 3).change);
    await change(store, updatePlayer(db, 'demo', b, { name: 'Bea' }).change);
    const added = addPlayer(db, 'demo', 'Newcomer', limits, newId);
    await change(store, added.change);
    return added.player.id;
  };
  const after = async (newcomer: string) => {
    await change(store, addScore(db, 'demo', a, 1).change);
    await change(store, updatePlayer(db, 'demo', b, { name: 'Bee', score: 9 }).change);
    await change(store, removePlayer(db, 'demo', newcomer));
    await change(store, removePlayer(db, 'demo', c));
  };
  return { store, before, after };
}

/** What a seal does: the journal so far becomes the sealed file. */
const seal = (path: string) => rename(`${path}.journal`, `${path}.journal.folding`);

describe('a crash during a fold leaves files that reopen to exactly what was acknowledged', () => {
  it.each([
    [
      'after the journal was sealed, before the data file was written',
      async (path: string, h: Awaited<ReturnType<typeof history>>) => {
        const newcomer = await h.before();
        await seal(path);
        await h.after(newcomer);
      },
    ],
    [
      'inside the seal, before the new journal was made',
      async (path: string, h: Awaited<ReturnType<typeof history>>) => {
        await h.before();
        await seal(path);
      },
    ],
    [
      'while the data file was being written (a temporary file half-written)',
      async (path: string, h: Awaited<ReturnType<typeof history>>) => {
        const newcomer = await h.before();
        await seal(path);
        await writeFile(join(path, '..', '.db.json.4242.tmp'), '{"boards":{"demo":{"id"');
        await h.after(newcomer);
      },
    ],
    [
      'after the data file was written, before the sealed journal was removed',
      async (path: string, h: Awaited<ReturnType<typeof history>>) => {
        const newcomer = await h.before();
        const folded = JSON.stringify(h.store.data);
        await seal(path);
        await h.after(newcomer);
        await replaceDurably(path, folded);
      },
    ],
    [
      'at start, after the data file was written, before the journal was emptied',
      async (path: string, h: Awaited<ReturnType<typeof history>>) => {
        const newcomer = await h.before();
        await seal(path);
        await h.after(newcomer);
        await replaceDurably(path, JSON.stringify(h.store.data));
        await rm(`${path}.journal.folding`);
      },
    ],
  ])('%s', async (_when, crash) => {
    const path = await tempFile();
    const h = await history(path);
    await crash(path, h);
    const acknowledged = structuredClone(h.store.data);
    const reopened = await fileStore(path, seed);
    expect(sameData(reopened.data)).toEqual(sameData(acknowledged));
    // Folded at start: the next crash finds the layout between folds.
    expect(await files(path)).toEqual(['db.json', 'db.json.journal']);
    expect(await readFile(`${path}.journal`, 'utf8')).toBe('');
    expect(sameData(JSON.parse(await readFile(path, 'utf8')))).toEqual(sameData(acknowledged));
  });

  it('drops a last line cut short in the new journal, and redoes the sealed one', async () => {
    const path = await tempFile();
    const h = await history(path);
    const newcomer = await h.before();
    await seal(path);
    await h.after(newcomer);
    const acknowledged = structuredClone(h.store.data);
    await appendFile(`${path}.journal`, '{"boards":[{"id":"demo","deleted":tr');
    expect(sameData((await fileStore(path, seed)).data)).toEqual(sameData(acknowledged));
  });

  it('stops the start, changing nothing, when a line of the sealed journal cannot be read', async () => {
    const path = await tempFile();
    const h = await history(path);
    const newcomer = await h.before();
    await seal(path);
    await h.after(newcomer);
    const sealed = (await readFile(`${path}.journal.folding`, 'utf8')).split('\n');
    sealed[1] = '{ not json';
    await writeFile(`${path}.journal.folding`, sealed.join('\n'));
    const before = await Promise.all([path, `${path}.journal`].map((f) => readFile(f, 'utf8')));
    await expect(fileStore(path, seed)).rejects.toThrow(DataFileError);
    await expect(fileStore(path, seed)).rejects.toThrow(/journal .*\.folding .*line 2/);
    const after = await Promise.all([path, `${path}.journal`].map((f) => readFile(f, 'utf8')));
    expect(after).toEqual(before);
  });

  it('stops the start when an entry has the wrong shape, naming its file and line', async () => {
    const path = await tempFile();
    const h = await history(path);
    await h.before();
    await appendFile(`${path}.journal`, '{"boards":[{"id":"demo","deleted":false}]}\n');
    await expect(fileStore(path, seed)).rejects.toThrow(/db\.json\.journal line 4 .*wrong shape/);
  });

  it('removes an empty sealed journal and a temporary file at start', async () => {
    const path = await tempFile();
    await writeFile(join(path, '..', '.db.json.4242.tmp'), '{"boards":');
    const first = await fileStore(path, seed);
    expect(await files(path)).toEqual(['db.json', 'db.json.journal']);
    await writeFile(`${path}.journal.folding`, '');
    await writeFile(join(path, '..', '.db.json.4343.tmp'), '');
    const second = await fileStore(path, seed);
    expect(await files(path)).toEqual(['db.json', 'db.json.journal']);
    expect(second.data).toEqual(first.data);
  });

  it('removes a board deleted in the new journal after changes in the sealed one', async () => {
    const path = await tempFile();
    const store = await fileStore(path, seed);
    await change(
      store,
      addScore(store.data, 'demo', store.data.boards.demo?.players[0]?.id as string, 1).change,
    );
    await seal(path);
    await change(store, deleteBoard(store.data, 'demo'));
    expect((await fileStore(path, seed)).data.boards).toEqual({});
  });
});
