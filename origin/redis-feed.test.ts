import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RankedPlayer } from '../contract/board.ts';
import { type RedisServer, startRedis } from '../local/redis.ts';
import { Broadcaster } from './broadcaster.ts';
import { RedisFeed } from './redis-feed.ts';
import { connectRedis, whenReady } from './store/redis/connect.ts';
import { RedisBoardStore } from './store/redis/redis-store.ts';

interface Sent {
  origin: string;
  channel: string;
  id: number;
  prevId: number | undefined;
  players: RankedPlayer[] | undefined;
}

const limits = { maxBoards: 10, maxPlayersPerBoard: 1_000 };

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis({ name: 'redis-feed-test' });
}, 60_000);
afterAll(() => redis?.stop());

/** An origin: its own connection, store, broadcaster and feed, publishing into `sent`. */
async function origin(name: string, sent: Sent[], leaseMs = 400) {
  const client = connectRedis(redis.url);
  await whenReady(client, 5_000);
  let n = 0;
  const store = new RedisBoardStore(client, { newId: () => `${name}${++n}`, limits });
  const feed = new RedisFeed({ client, leaseMs, pollMs: 20 });
  const broadcaster = new Broadcaster({
    read: (boardId, pages) => store.pages(boardId, pages),
    commit: async () => {},
    claim: (boardId, ids) => feed.claim(boardId, ids),
    publish: async (channel, content, id, prevId) => {
      const data = JSON.parse(/^data: (.*)$/m.exec(content)?.[1] ?? 'null');
      sent.push({
        origin: name,
        channel,
        id: Number(id),
        prevId: prevId === undefined ? undefined : Number(prevId),
        players: data.players,
      });
    },
    publishIntervalMs: 20,
    pagesPerFlush: 16,
    reloadSpreadMs: 0,
  });
  const addScore = async (playerId: string) => {
    try {
      return await store.addScore('demo', playerId, 1);
    } finally {
      feed.wrote('demo');
    }
  };
  return { name, client, store, feed, broadcaster, addScore };
}

/**
 * Every channel's messages chain: each one's prev-id is the id of the one before it, except the
 * first a publisher sends on a channel after taking the board over, which carries none.
 */
function expectChained(sent: Sent[]): void {
  const last = new Map<string, number>();
  const senders = new Map<string, Set<string>>();
  for (const s of sent) {
    const seen = senders.get(s.channel) ?? new Set<string>();
    senders.set(s.channel, seen);
    const before = last.get(s.channel);
    const where = `${s.channel} ${s.id} ${JSON.stringify(sent.map((x) => [x.origin, x.channel, x.id, x.prevId]))}`;
    if (s.prevId === undefined) expect(seen.has(s.origin), where).toBe(false);
    else if (before !== undefined) expect(s.prevId, where).toBe(before);
    if (before !== undefined) expect(s.id, where).toBeGreaterThan(before);
    seen.add(s.origin);
    last.set(s.channel, s.id);
  }
}

const until = async (check: () => boolean | Promise<boolean>, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** A wiped Redis with the demo board, and two origins publishing into one list. */
async function twoOrigins() {
  await redis.command('FLUSHALL');
  const sent: Sent[] = [];
  const a = await origin('a', sent);
  const b = await origin('b', sent);
  await a.store.seed(new Date(0));
  const players = (await a.store.boardView('demo', {})).players.map((p) => p.id);
  await a.feed.start(a.broadcaster);
  await b.feed.start(b.broadcaster);
  return { sent, a, b, players };
}

describe('two origins writing one board through Redis', () => {
  it('publish one chain per channel, from one lease holder, ending on the board as Redis has it', async () => {
    const { sent, a, b, players } = await twoOrigins();
    for (let i = 0; i < 60; i++) {
      const writer = i % 2 === 0 ? a : b;
      await writer.addScore(players[i % players.length] ?? '');
    }
    const final = await a.store.boardView('demo', {});
    await until(() => sent.some((s) => s.channel === 'board-demo.p0' && s.id === final.version));
    expect(new Set(sent.map((s) => s.origin)).size).toBe(1);
    expect(a.feed.holds('demo') !== b.feed.holds('demo')).toBe(true);
    expectChained(sent);
    expect(sent.at(-1)?.players).toEqual(final.players);
    await a.feed.stop();
    await b.feed.stop();
    a.client.disconnect();
    b.client.disconnect();
  });

  it('go on from where a dead holder stopped once its lease lapses, losing no change', async () => {
    const { sent, a, b, players } = await twoOrigins();
    await a.addScore(players[0] ?? '');
    await until(() => a.feed.holds('demo') && sent.length > 0);
    // Origin a dies: no more renewals, reads or releases. Its lease lapses after 400 ms.
    a.client.disconnect();
    const takeovers: number[] = [];
    const died = Date.now();
    for (let i = 0; i < 5; i++) await b.addScore(players[(i % 4) + 1] ?? '');
    const final = await b.store.boardView('demo', {});
    await until(() => sent.some((s) => s.channel === 'board-demo.p0' && s.id === final.version));
    takeovers.push(Date.now() - died);
    expect(b.feed.holds('demo')).toBe(true);
    expect(sent.filter((s) => s.origin === 'b').length).toBeGreaterThan(0);
    expectChained(sent);
    expect(sent.at(-1)?.players).toEqual(final.players);
    expect(takeovers[0]).toBeGreaterThanOrEqual(300);
    await b.feed.stop();
    b.client.disconnect();
  });

  it('hold new streams after the ids the lease holder published', async () => {
    const { sent, a, b, players } = await twoOrigins();
    const first = players[4] ?? '';
    await b.addScore(first);
    const version = (await a.store.boardView('demo', { limit: 0 })).version;
    await until(() => sent.some((s) => s.id === version));
    // A stream started on the origin that does not publish is held where the publisher left off.
    const holder = a.feed.holds('demo') ? b : a;
    const snapshot = await holder.store.streamSnapshot('demo', [0]);
    expect(snapshot?.held).toEqual([
      { channel: 'board-demo', prevId: expect.any(Number) },
      { channel: 'board-demo.p0', prevId: version },
    ]);
    await a.feed.stop();
    await b.feed.stop();
    a.client.disconnect();
    b.client.disconnect();
  });
});
