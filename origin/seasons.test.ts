import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../local/redis.ts';
import { type BoardChange, emptyDatabase } from './domain/board.ts';
import type { Schedule } from './domain/schedule.ts';
import { MAX_TIMER_MS, SeasonScheduler, type Timers } from './seasons.ts';
import { EmbeddedBoardStore } from './store/embedded.ts';
import { RedisBoardStore } from './store/redis/redis-store.ts';
import { fileStore } from './store/store.ts';

const daily: Schedule = { every: 'day', at: '00:00', timeZone: 'UTC' };
const limits = { maxBoards: 100, maxPlayersPerBoard: 1000 };
const at = (iso: string) => new Date(iso);

/** A clock the test moves, and timers that fire only when the test says so. */
function fakeTime(start: string) {
  let now = at(start).getTime();
  const armed: Array<{ run: () => void; ms: number; cleared: boolean }> = [];
  const timers: Timers = {
    set: (run, ms) => {
      const timer = { run, ms, cleared: false };
      armed.push(timer);
      return timer;
    },
    clear: (handle) => {
      (handle as { cleared: boolean }).cleared = true;
    },
  };
  return {
    now: () => new Date(now),
    timers,
    set: (iso: string) => {
      now = at(iso).getTime();
    },
    /** The one timer armed and not cleared. */
    pending: () => {
      const live = armed.filter((t) => !t.cleared);
      expect(live).toHaveLength(1);
      return live[0] as { run: () => void; ms: number };
    },
  };
}

async function embeddedAt(path: string) {
  const file = await fileStore(path, emptyDatabase);
  let n = 0;
  const store = new EmbeddedBoardStore({ store: file, limits, newId: () => `b${++n}` });
  const changes: BoardChange[] = [];
  store.attach({ record: (c) => changes.push(c), replace: () => {}, heldChannels: () => [] });
  return { store, changes };
}

/** A daily board created at 10:00 on 1 January 2030, with Ada on 3. */
async function dailyBoard(store: EmbeddedBoardStore | RedisBoardStore): Promise<string> {
  const board = await store.createBoard(
    { name: 'Daily', order: 'desc', schedule: daily },
    at('2030-01-01T10:00:00Z'),
  );
  const ada = await store.addPlayer(board.id, 'Ada');
  await store.addScore(board.id, ada.id, 3);
  return board.id;
}

describe('the season scheduler', () => {
  it('crosses a boundary on its timer: archived, reset, one season change, season + 1', async () => {
    const time = fakeTime('2030-01-01T10:00:00Z');
    const { store, changes } = await embeddedAt(join(await mkdtemp(join(tmpdir(), 'sch-')), 'd'));
    const id = await dailyBoard(store);
    const scheduler = new SeasonScheduler({ store, ...time, rescanMs: MAX_TIMER_MS });
    await scheduler.start();
    expect(time.pending().ms).toBe(14 * 3_600_000);
    expect((await store.seasons(id)).seasons).toEqual([]);

    time.set('2030-01-02T00:00:00Z');
    time.pending().run();
    await scheduler.check();
    const view = await store.boardView(id, {});
    expect(view.season?.number).toBe(2);
    expect(view.players.map((p) => p.score)).toEqual([0]);
    expect(changes.filter((c) => c.bulk !== undefined).map((c) => c.bulk)).toEqual(['season']);
    const past = await store.seasonView(id, 1, { from: 0, limit: 10 });
    expect(past.players.map((p) => [p.name, p.score, p.rank])).toEqual([['Ada', 3, 1]]);
    expect(past.endedAt).toBe('2030-01-02T00:00:00.000Z');
    expect(time.pending().ms).toBe(24 * 3_600_000);
    scheduler.stop();
  });

  it('waits at most 2^31 − 1 ms, then checks again', async () => {
    const time = fakeTime('2030-01-01T10:00:00Z');
    const { store } = await embeddedAt(join(await mkdtemp(join(tmpdir(), 'sch-')), 'd'));
    await store.createBoard(
      { name: 'Monthly', order: 'desc', schedule: { ...daily, every: 'month', day: 31 } },
      at('2030-01-31T10:00:00Z'),
    );
    const scheduler = new SeasonScheduler({ store, ...time, rescanMs: 10 * MAX_TIMER_MS });
    await scheduler.start();
    // The next boundary is 2030-02-28, 58 days away: past what one timer may wait.
    expect(time.pending().ms).toBe(MAX_TIMER_MS);
    scheduler.stop();
  });

  it('applies a boundary passed while the origin was down once at start', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'sch-')), 'data.json');
    const before = await embeddedAt(path);
    const id = await dailyBoard(before.store);

    // Down from 10:00 on 1 January to 05:00 on 2 January: one boundary passed.
    const time = fakeTime('2030-01-02T05:00:00Z');
    const after = await embeddedAt(path);
    const scheduler = new SeasonScheduler({ store: after.store, ...time });
    await scheduler.start();
    await scheduler.check();
    scheduler.stop();
    const list = await after.store.seasons(id);
    expect(list.current).toMatchObject({ number: 2, startedAt: '2030-01-02T00:00:00.000Z' });
    expect(list.seasons.map((s) => s.number)).toEqual([1]);
    expect(after.changes.map((c) => c.bulk)).toEqual(['season']);

    // Started again the same day: nothing more to apply.
    const again = await embeddedAt(path);
    await new SeasonScheduler({ store: again.store, ...time }).check();
    expect(again.changes).toEqual([]);
  });

  it('rolls once, to the last boundary, for a board down over three boundaries', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'sch-')), 'data.json');
    const id = await dailyBoard((await embeddedAt(path)).store);
    const time = fakeTime('2030-01-04T05:00:00Z');
    const after = await embeddedAt(path);
    await new SeasonScheduler({ store: after.store, ...time }).check();
    const list = await after.store.seasons(id);
    expect(list.current).toMatchObject({ number: 2, startedAt: '2030-01-04T00:00:00.000Z' });
    expect(list.seasons).toEqual([
      {
        number: 1,
        startedAt: '2030-01-01T10:00:00.000Z',
        endedAt: '2030-01-04T00:00:00.000Z',
        playerCount: 1,
      },
    ]);
    expect(after.changes.map((c) => c.bulk)).toEqual(['season']);
  });
});

describe('several origins on one Redis', () => {
  let redis: RedisServer | undefined;
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });

  it('roll a boundary once between them', async () => {
    redis = await startRedis();
    const stores = [0, 1, 2].map(() => {
      const client = new Redis(redis?.url ?? '');
      clients.push(client);
      let n = 0;
      return new RedisBoardStore(client, { newId: () => `r${++n}`, limits });
    });
    const [first] = stores;
    if (first === undefined) throw new Error('no store');
    const id = await dailyBoard(first);
    const time = fakeTime('2030-01-03T05:00:00Z');
    const rolled: string[] = [];
    const schedulers = stores.map(
      (store) => new SeasonScheduler({ store, ...time, onRoll: (boardId) => rolled.push(boardId) }),
    );
    await Promise.all(schedulers.map((s) => s.check()));
    expect(rolled).toEqual([id]);
    const list = await first.seasons(id);
    expect(list.seasons.map((s) => [s.number, s.endedAt])).toEqual([
      [1, '2030-01-03T00:00:00.000Z'],
    ]);
    expect(list.current?.number).toBe(2);
  });
});
