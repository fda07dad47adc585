import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../local/redis.ts';
import { type BoardChange, emptyDatabase } from '../domain/board.ts';
import { BoardError } from '../domain/errors.ts';
import type { Schedule } from '../domain/schedule.ts';
import type { BoardStore } from './board-store.ts';
import { EmbeddedBoardStore } from './embedded.ts';
import { boardKeys } from './redis/keys.ts';
import { RedisBoardStore } from './redis/redis-store.ts';
import { fileStore } from './store.ts';

/*
 * Seasons through the store interface, the same tests on both stores: a roll archives the
 * standings and resets the board in one version with one `season` change, happens once per
 * boundary, and survives a restart.
 */

const daily: Schedule = { every: 'day', at: '00:00', timeZone: 'UTC' };
const created = new Date('2030-01-01T10:00:00Z');
const firstBoundary = new Date('2030-01-02T00:00:00Z');
const limits = { maxBoards: 100, maxPlayersPerBoard: 1000 };

function counter() {
  let n = 0;
  return () => `s${++n}`;
}

interface Harness {
  store: BoardStore;
  /** The `bulk` of the changes the store announced for a board, in order. */
  bulks(boardId: string): Promise<string[]>;
  /** The store as a restarted origin finds it. */
  reopen(): Promise<BoardStore>;
  /** Whether the board's past seasons are gone from storage. */
  seasonsGone(boardId: string): Promise<boolean>;
}

async function embedded(): Promise<Harness> {
  const path = join(await mkdtemp(join(tmpdir(), 'seasons-')), 'data.json');
  const open = async () => {
    const file = await fileStore(path, emptyDatabase);
    const store = new EmbeddedBoardStore({ store: file, limits, newId: counter() });
    const changes: BoardChange[] = [];
    store.attach({ record: (c) => changes.push(c), replace: () => {}, heldChannels: () => [] });
    return { store, file, changes };
  };
  const first = await open();
  return {
    store: first.store,
    bulks: async (id) =>
      first.changes.filter((c) => c.boardId === id).flatMap((c) => (c.bulk ? [c.bulk] : [])),
    reopen: async () => (await open()).store,
    seasonsGone: async (id) => {
      const onDisk = await fileStore(path, emptyDatabase);
      return first.file.data.seasons?.[id] === undefined && onDisk.data.seasons?.[id] === undefined;
    },
  };
}

let redis: RedisServer | undefined;
let client: Redis | undefined;

async function onRedis(): Promise<Harness> {
  redis ??= await startRedis();
  client ??= new Redis(redis.url);
  const c = client;
  await c.flushall();
  const store = new RedisBoardStore(c, { newId: counter(), limits });
  return {
    store,
    bulks: async (id) => {
      const entries = await c.xrange(boardKeys(id).log, '-', '+');
      return entries.flatMap(([, fields]) => {
        const at = fields.indexOf('bulk');
        return at >= 0 ? [fields[at + 1] ?? ''] : [];
      });
    },
    reopen: async () => new RedisBoardStore(c, { newId: counter(), limits }),
    seasonsGone: async (id) => (await c.keys(`{board:${id}}:season*`)).length === 0,
  };
}

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

/** A daily board with three players: Ada 5, Grace 9, Linus 5. */
async function scoredBoard(store: BoardStore): Promise<string> {
  const board = await store.createBoard({ name: 'Daily', order: 'desc', schedule: daily }, created);
  for (const [name, score] of [
    ['Ada', 5],
    ['Grace', 9],
    ['Linus', 5],
  ] as const) {
    const player = await store.addPlayer(board.id, name);
    await store.updatePlayer(board.id, player.id, { score });
  }
  return board.id;
}

describe.each([
  ['embedded', embedded],
  ['redis', onRedis],
])('seasons on the %s store', (_kind, harness) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  it('starts season 1 at the creation of a board made with a schedule', async () => {
    const id = await scoredBoard(h.store);
    const view = await h.store.boardView(id, { limit: 0 });
    expect(view.season).toEqual({
      number: 1,
      startedAt: created.toISOString(),
      endsAt: firstBoundary.toISOString(),
      schedule: daily,
    });
    expect(await h.store.scheduledBoards()).toEqual([
      { id, schedule: daily, season: { number: 1, startedAt: created.toISOString() } },
    ]);
    expect(await h.store.seasons(id)).toEqual({ current: view.season, seasons: [] });
  });

  it('rolls at a boundary once: standings kept, scores 0, next season, one version', async () => {
    const id = 's1';
    const before = await h.store.boardView(id, {});
    expect(await h.store.rollSeason(id, new Date('2030-01-01T23:00:00Z'))).toBe(false);
    expect(await h.store.rollSeason(id, firstBoundary)).toBe(true);
    expect(await h.store.rollSeason(id, firstBoundary)).toBe(false);

    const after = await h.store.boardView(id, {});
    expect(after.version).toBe(before.version + 1);
    expect(after.players.map((p) => p.score)).toEqual([0, 0, 0]);
    expect(after.season?.number).toBe(2);
    expect(after.season?.startedAt).toBe(firstBoundary.toISOString());
    expect(after.season?.endsAt).toBe('2030-01-03T00:00:00.000Z');
    expect(await h.bulks(id)).toEqual(['season']);

    const summary = {
      number: 1,
      startedAt: created.toISOString(),
      endedAt: firstBoundary.toISOString(),
      playerCount: 3,
    };
    expect(await h.store.seasons(id)).toEqual({ current: after.season, seasons: [summary] });
    const past = await h.store.seasonView(id, 1, { from: 0, limit: 10 });
    expect(past).toEqual({ ...summary, offset: 0, players: before.players });
    expect(past.players.map((p) => [p.name, p.score, p.rank])).toEqual([
      ['Grace', 9, 1],
      ['Ada', 5, 2],
      ['Linus', 5, 2],
    ]);
    expect((await h.store.seasonView(id, 1, { from: 1, limit: 1 })).players).toEqual(
      before.players.slice(1, 2),
    );
  });

  it('refuses a season it did not keep', async () => {
    await expect(h.store.seasonView('s1', 7, { from: 0, limit: 10 })).rejects.toThrow(BoardError);
    await expect(h.store.seasonView('s1', 7, { from: 0, limit: 10 })).rejects.toMatchObject({
      kind: 'season_not_found',
    });
  });

  it('does not roll at a boundary of a schedule the board no longer has', async () => {
    const weekly: Schedule = { every: 'week', weekday: 1, at: '09:00', timeZone: 'Europe/Paris' };
    await h.store.setSchedule('s1', weekly, new Date('2030-01-02T12:00:00Z'));
    expect(await h.store.rollSeason('s1', new Date('2030-01-03T00:00:00Z'))).toBe(false);
    const view = await h.store.boardView('s1', { limit: 0 });
    // The season under way goes on, now ending at the weekly boundary.
    expect(view.season).toMatchObject({ number: 2, endsAt: '2030-01-07T08:00:00.000Z' });
  });

  it('keeps numbering after the schedule is removed and set again', async () => {
    await h.store.setSchedule('s1', undefined, new Date('2030-01-04T00:00:00Z'));
    expect((await h.store.boardView('s1', { limit: 0 })).season).toBeUndefined();
    expect(await h.store.scheduledBoards()).toEqual([]);
    await h.store.setSchedule('s1', daily, new Date('2030-01-05T06:00:00Z'));
    const view = await h.store.boardView('s1', { limit: 0 });
    expect(view.season).toMatchObject({ number: 2, startedAt: '2030-01-05T06:00:00.000Z' });
  });

  it('keeps past seasons across a restart', async () => {
    const reopened = await h.reopen();
    expect((await reopened.seasons('s1')).seasons.map((s) => s.number)).toEqual([1]);
    expect((await reopened.seasonView('s1', 1, { from: 0, limit: 3 })).players).toHaveLength(3);
    expect(await reopened.rollSeason('s1', new Date('2030-01-06T00:00:00Z'))).toBe(true);
    expect((await reopened.seasons('s1')).seasons.map((s) => s.number)).toEqual([2, 1]);
  });

  it('forgets a deleted board’s seasons', async () => {
    await h.store.deleteBoard('s1');
    expect(await h.seasonsGone('s1')).toBe(true);
  });
});

describe('the embedded store’s data file', () => {
  it('keeps seasons through a fold, and opens the previous version’s files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seasons-fold-'));
    const path = join(dir, 'data.json');
    const file = await fileStore(path, emptyDatabase);
    const store = new EmbeddedBoardStore({ store: file, limits, newId: counter() });
    const id = await scoredBoard(store);
    await store.rollSeason(id, firstBoundary);
    await file.fold();
    const reopened = await fileStore(path, emptyDatabase);
    expect(reopened.data).toEqual(file.data);
    expect(reopened.data.seasons?.[id]?.[0]?.players).toHaveLength(3);

    const fixture = fileURLToPath(new URL('./fixtures/previous-version/', import.meta.url));
    for (const name of ['leaderboard', 'leaderboard.journal']) {
      await copyFile(join(fixture, name), join(dir, name));
    }
    const old = await fileStore(join(dir, 'leaderboard'), emptyDatabase);
    const oldStore = new EmbeddedBoardStore({ store: old, limits, newId: counter() });
    expect(await oldStore.scheduledBoards()).toEqual([]);
    expect((await oldStore.seasons('demo')).seasons).toEqual([]);
  });
});
