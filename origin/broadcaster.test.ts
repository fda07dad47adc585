import { describe, expect, it } from 'vitest';
import { Broadcaster } from './broadcaster.ts';
import type { BoardChange, Database } from './domain/board.ts';
import {
  addPlayer,
  addScore,
  createBoard,
  deleteBoard,
  emptyDatabase,
  getBoard,
  removePlayer,
} from './domain/board.ts';

interface Sent {
  channel: string;
  event: string;
  data: {
    version: number;
    since?: number;
    players?: { id: string; score: number }[];
    removed?: string[];
  };
  id: string;
  prevId: string;
}

/** A board, a Broadcaster with a hand-driven clock and timer queue, and what it published. */
function setup(options: { intervalMs?: number; historySize?: number } = {}) {
  const db: Database = emptyDatabase();
  const limits = { maxBoards: 10, maxPlayersPerBoard: 100 };
  let n = 0;
  createBoard(db, { name: 'B', order: 'desc' }, limits, () => 'b', new Date(0));
  const ids = ['a', 'c', 'd'].map(
    (name) => addPlayer(db, 'b', name, limits, () => `p${++n}`).player.id,
  );
  let now = 1_000;
  const timers: { at: number; run: () => void }[] = [];
  const sent: Sent[] = [];
  let commits = 0;
  const broadcaster = new Broadcaster({
    data: () => db,
    commit: async () => {
      commits++;
    },
    publish: async (channel, content, id, prevId) => {
      const event = /^event: (\w+)$/m.exec(content)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(content)?.[1] ?? 'null');
      sent.push({ channel, event, data, id, prevId });
    },
    publishIntervalMs: options.intervalMs ?? 50,
    historySize: options.historySize ?? 100,
    now: () => now,
    schedule: (run, ms) => timers.push({ at: now + ms, run }),
  });
  const apply = (change: BoardChange) => broadcaster.record(change);
  const advance = async (ms: number) => {
    now += ms;
    for (const timer of timers.splice(0).filter((t) => t.at <= now)) timer.run();
    await settle();
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return { db, ids, broadcaster, sent, apply, advance, settle, timers, commits: () => commits };
}

describe('publishing', () => {
  it('publishes the first change on an idle board at once, after it is committed', async () => {
    const t = setup();
    t.apply(addScore(t.db, 'b', t.ids[0] as string, 1).change);
    await t.settle();
    expect(t.commits()).toBe(1);
    expect(t.sent).toEqual([
      {
        channel: 'board-b',
        event: 'update',
        id: '4',
        prevId: '3',
        data: {
          version: 4,
          since: 3,
          players: [{ id: 'p1', name: 'a', score: 1, scoredAt: 4 }],
          removed: [],
        },
      },
    ]);
  });

  it('merges a burst into one update per interval, chained by prev-id', async () => {
    const t = setup({ intervalMs: 50 });
    const [a, c] = t.ids as [string, string];
    t.apply(addScore(t.db, 'b', a, 1).change);
    for (let i = 0; i < 100; i++) t.apply(addScore(t.db, 'b', i % 2 ? a : c, 1).change);
    await t.settle();
    expect(t.sent).toHaveLength(1);
    await t.advance(50);
    expect(t.sent).toHaveLength(2);
    const [first, second] = t.sent as [Sent, Sent];
    expect(second.prevId).toBe(first.id);
    expect(second.data.since).toBe(first.data.version);
    expect(second.data.version).toBe(t.db.boards.b?.version);
    expect(second.data.players?.map((p) => [p.id, p.score]).sort()).toEqual([
      [a, 51],
      [c, 50],
    ]);
  });

  it('sends nothing more once the burst has been published', async () => {
    const t = setup();
    t.apply(addScore(t.db, 'b', t.ids[0] as string, 1).change);
    t.apply(addScore(t.db, 'b', t.ids[0] as string, 1).change);
    await t.advance(50);
    await t.advance(500);
    expect(t.sent).toHaveLength(2);
  });

  it('reports removed players and a deleted board', async () => {
    const t = setup({ intervalMs: 0 });
    t.apply(removePlayer(t.db, 'b', t.ids[1] as string));
    await t.settle();
    expect(t.sent[0]?.data.removed).toEqual([t.ids[1]]);
    t.apply(deleteBoard(t.db, 'b'));
    await t.settle();
    expect(t.sent[1]).toMatchObject({ event: 'deleted', id: '5', prevId: '4' });
  });
});

describe('catchUp', () => {
  it('is nothing for a client already at the current version', () => {
    const t = setup();
    expect(t.broadcaster.catchUp(getBoard(t.db, 'b'), 3)).toBeUndefined();
  });

  it('is a snapshot for a new client', () => {
    const t = setup();
    expect(t.broadcaster.catchUp(getBoard(t.db, 'b'), undefined)?.type).toBe('snapshot');
  });

  it('is one merged update for a client that history reaches back to', () => {
    const t = setup();
    const [a, c] = t.ids as [string, string];
    t.broadcaster.catchUp(getBoard(t.db, 'b'), 3);
    t.apply(addScore(t.db, 'b', a, 1).change);
    t.apply(addScore(t.db, 'b', c, 2).change);
    t.apply(removePlayer(t.db, 'b', c));
    const event = t.broadcaster.catchUp(getBoard(t.db, 'b'), 3);
    expect(event).toMatchObject({ type: 'update', since: 3, version: 6, removed: [c] });
    expect(event?.type === 'update' && event.players.map((p) => [p.id, p.score])).toEqual([[a, 1]]);
  });

  it('is a snapshot when the gap is older than the history', () => {
    const t = setup({ historySize: 2 });
    t.broadcaster.catchUp(getBoard(t.db, 'b'), 3);
    for (let i = 0; i < 5; i++) t.apply(addScore(t.db, 'b', t.ids[0] as string, 1).change);
    expect(t.broadcaster.catchUp(getBoard(t.db, 'b'), 5)?.type).toBe('snapshot');
    expect(t.broadcaster.catchUp(getBoard(t.db, 'b'), 6)?.type).toBe('update');
  });

  it('is a snapshot for a version from the future (a client of a restored database)', () => {
    const t = setup();
    expect(t.broadcaster.catchUp(getBoard(t.db, 'b'), 99)?.type).toBe('snapshot');
  });
});

describe('stopping', () => {
  it('drain publishes what waits for its interval and resolves once it is sent', async () => {
    const t = setup({ intervalMs: 50 });
    t.apply(addScore(t.db, 'b', t.ids[0] as string, 1).change);
    t.apply(addScore(t.db, 'b', t.ids[0] as string, 1).change);
    await t.settle();
    expect(t.sent).toHaveLength(1);
    await t.broadcaster.drain();
    expect(t.sent).toHaveLength(2);
    expect(t.sent[1]?.data.version).toBe(t.db.boards.b?.version);
  });
});

describe('a publish that never answers', () => {
  it('counts as failed after the timeout, so later publishes of the board still go out', async () => {
    const db: Database = emptyDatabase();
    const limits = { maxBoards: 1, maxPlayersPerBoard: 5 };
    createBoard(db, { name: 'B', order: 'desc' }, limits, () => 'b', new Date(0));
    const id = addPlayer(db, 'b', 'a', limits, () => 'p1').player.id;
    const sent: string[] = [];
    const errors: string[] = [];
    let first = true;
    const broadcaster = new Broadcaster({
      data: () => db,
      commit: async () => {},
      publish: (_channel, _content, version) => {
        if (first) {
          first = false;
          return new Promise(() => {});
        }
        sent.push(version);
        return Promise.resolve();
      },
      publishIntervalMs: 0,
      historySize: 10,
      publishTimeoutMs: 30,
      onError: (error) => errors.push((error as Error).message),
    });
    broadcaster.record(addScore(db, 'b', id, 1).change);
    broadcaster.record(addScore(db, 'b', id, 1).change);
    await broadcaster.drain();
    expect(errors).toEqual(['no answer within 30 ms']);
    expect(sent).toEqual([String(db.boards.b?.version)]);
  });
});

describe('a failed publish', () => {
  it('is sent again later when nothing newer went out, with the same id and prev-id', async () => {
    const db: Database = emptyDatabase();
    const limits = { maxBoards: 1, maxPlayersPerBoard: 5 };
    createBoard(db, { name: 'B', order: 'desc' }, limits, () => 'b', new Date(0));
    const id = addPlayer(db, 'b', 'a', limits, () => 'p1').player.id;
    const attempts: string[] = [];
    const timers: (() => void)[] = [];
    const broadcaster = new Broadcaster({
      data: () => db,
      commit: async () => {},
      publish: async (_channel, _content, version, prevId) => {
        attempts.push(`${prevId}->${version}`);
        if (attempts.length === 1) throw new Error('proxy down');
      },
      publishIntervalMs: 0,
      historySize: 10,
      schedule: (run) => timers.push(run),
      onError: () => {},
    });
    broadcaster.record(addScore(db, 'b', id, 1).change);
    await broadcaster.drain();
    expect(attempts).toEqual(['1->2']);
    expect(timers).toHaveLength(1);
    timers.shift()?.();
    await broadcaster.drain();
    expect(attempts).toEqual(['1->2', '1->2']);
    expect(timers).toHaveLength(0);
  });
});

describe('publish health and reports', () => {
  it('says a board is behind from its failed publish until one goes through, reporting each', async () => {
    const db: Database = emptyDatabase();
    const limits = { maxBoards: 1, maxPlayersPerBoard: 5 };
    createBoard(db, { name: 'B', order: 'desc' }, limits, () => 'b', new Date(0));
    const id = addPlayer(db, 'b', 'a', limits, () => 'p1').player.id;
    const timers: (() => void)[] = [];
    const reports: { ok: boolean; bytes: number; error?: unknown }[] = [];
    let down = true;
    let now = 5_000;
    const broadcaster = new Broadcaster({
      data: () => db,
      commit: async () => {},
      publish: async () => {
        if (down) throw new Error('proxy down');
      },
      publishIntervalMs: 0,
      historySize: 10,
      now: () => now,
      schedule: (run) => timers.push(run),
      onPublish: (report) => reports.push(report),
    });
    expect(broadcaster.publishHealth()).toEqual({ failingBoards: 0, failingSince: undefined });
    broadcaster.record(addScore(db, 'b', id, 1).change);
    await broadcaster.drain();
    expect(broadcaster.publishHealth()).toEqual({ failingBoards: 1, failingSince: 5_000 });
    now = 6_000;
    timers.shift()?.();
    await broadcaster.drain();
    expect(broadcaster.publishHealth()).toEqual({ failingBoards: 1, failingSince: 5_000 });
    down = false;
    timers.shift()?.();
    await broadcaster.drain();
    expect(broadcaster.publishHealth()).toEqual({ failingBoards: 0, failingSince: undefined });
    expect(reports.map((r) => r.ok)).toEqual([false, false, true]);
    expect(reports[0]?.error).toEqual(new Error('proxy down'));
    expect(reports[2]).not.toHaveProperty('error');
    for (const report of reports) expect(report.bytes).toBeGreaterThan(50);
  });

  it('forgets a failing board once it is deleted (its viewers learn it from the recovery link)', async () => {
    const db: Database = emptyDatabase();
    const limits = { maxBoards: 1, maxPlayersPerBoard: 5 };
    createBoard(db, { name: 'B', order: 'desc' }, limits, () => 'b', new Date(0));
    const id = addPlayer(db, 'b', 'a', limits, () => 'p1').player.id;
    const broadcaster = new Broadcaster({
      data: () => db,
      commit: async () => {},
      publish: async () => {
        throw new Error('proxy down');
      },
      publishIntervalMs: 0,
      historySize: 10,
      schedule: () => {},
    });
    broadcaster.record(addScore(db, 'b', id, 1).change);
    await broadcaster.drain();
    expect(broadcaster.publishHealth().failingBoards).toBe(1);
    broadcaster.record(deleteBoard(db, 'b'));
    await broadcaster.drain();
    expect(broadcaster.publishHealth().failingBoards).toBe(0);
  });
});
