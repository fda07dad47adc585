import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Adapter } from 'lowdb';
import { describe, expect, it } from 'vitest';
import type { Database } from '../domain/board.ts';
import { emptyDatabase, seedDatabase } from '../domain/board.ts';
import { DataFileError } from './json-file.ts';
import { fileStore, Store } from './store.ts';

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

describe('the data file', () => {
  it('is seeded once, when new, and survives reopening', async () => {
    const path = await tempFile();
    const first = await fileStore(path, seed);
    const board = first.data.boards.demo;
    if (board) board.name = 'Renamed';
    await first.commit();
    const second = await fileStore(path, seed);
    expect(second.data.boards.demo?.name).toBe('Renamed');
  });

  it('is replaced whole: no temporary file is left beside it', async () => {
    const path = await tempFile();
    const store = await fileStore(path, seed);
    await Promise.all(Array.from({ length: 20 }, () => store.commit()));
    expect(await readdir(join(path, '..'))).toEqual(['db.json']);
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
