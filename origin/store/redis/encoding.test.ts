import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SCORE, type Order, type PlayerState } from '../../../contract/board.ts';
import { comparePlayers, rankPlayers } from '../../../contract/ranking.ts';
import { type RedisServer, startRedis } from '../../../local/redis.ts';
import { seededRandom } from '../../domain/seeded-random.ts';
import {
  decodePlayer,
  encodePlayer,
  formatMoved,
  MAX_SCORED_AT,
  parseMoved,
  parseRankMember,
  rankMember,
  sortScore,
} from './encoding.ts';
import { keySlot } from './keys.ts';

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** Players at the edges of the encoding: ±10^12, scoredAt up to 2^53 - 1, ties of both kinds. */
function edgePlayers(seed: number, count: number): PlayerState[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const scores = [MAX_SCORE, -MAX_SCORE, MAX_SCORE - 1, -MAX_SCORE + 1, 0, 1, -1, 2, 7];
  const scoredAts = [0, 1, 2, 9, 10, 99, 100, MAX_SCORED_AT, MAX_SCORED_AT - 1, 10 ** 15];
  const players = new Map<string, PlayerState>();
  while (players.size < count) {
    const length = 1 + Math.floor(random() * (random() < 0.5 ? 3 : 32));
    const id = Array.from({ length }, () => pick([...ID_CHARS])).join('');
    const score = random() < 0.6 ? pick(scores) : Math.round((random() * 2 - 1) * MAX_SCORE);
    const scoredAt = random() < 0.6 ? pick(scoredAts) : Math.floor(random() * MAX_SCORED_AT);
    players.set(id, { id, name: id, score, scoredAt });
  }
  return [...players.values()];
}

/** How a Redis sorted set orders (score, member): by score, then member bytes. */
function zsetOrder(order: Order) {
  return (a: PlayerState, b: PlayerState) =>
    sortScore(a.score, order) - sortScore(b.score, order) ||
    Buffer.compare(
      Buffer.from(rankMember(a.scoredAt, a.id)),
      Buffer.from(rankMember(b.scoredAt, b.id)),
    );
}

describe('the ranking encoding', () => {
  it.each(['desc', 'asc'] as const)('orders a %s board as comparePlayers does', (order) => {
    for (let seed = 1; seed <= 20; seed++) {
      const players = edgePlayers(seed, 500);
      const expected = [...players].sort(comparePlayers(order)).map((p) => p.id);
      expect([...players].sort(zsetOrder(order)).map((p) => p.id)).toEqual(expected);
    }
  });

  it('gives scoredAt 16 digits, enough for every safe integer, and reads members back', () => {
    expect(rankMember(MAX_SCORED_AT, 'a-Z_9')).toBe('9007199254740991:a-Z_9');
    expect(rankMember(0, 'x')).toBe('0000000000000000:x');
    expect(parseRankMember(rankMember(MAX_SCORED_AT, 'a:b'))).toEqual({
      scoredAt: MAX_SCORED_AT,
      id: 'a:b',
    });
  });

  it('never writes -0 as a sorted-set score, and keeps ±10^12 exact in a double', () => {
    expect(Object.is(sortScore(0, 'desc'), 0)).toBe(true);
    expect(sortScore(MAX_SCORE, 'desc')).toBe(-1_000_000_000_000);
    expect(sortScore(-MAX_SCORE, 'desc') - sortScore(-MAX_SCORE + 1, 'desc')).toBe(1);
  });

  it('reads a player record back, whatever the name holds', () => {
    for (const name of ['Ada', 'Zoë 🦄', 'a:b:c', '1:2:3:', 'İstanbul']) {
      const player = { score: -MAX_SCORE, scoredAt: MAX_SCORED_AT, name };
      const record = encodePlayer(player, name.toLocaleLowerCase('en-US'));
      expect(decodePlayer('p1', record)).toEqual({
        id: 'p1',
        ...player,
        folded: name.toLocaleLowerCase('en-US'),
      });
    }
    expect(decodePlayer('p1', 'not a record')).toBeUndefined();
  });

  it('writes moved ranges as first-last joined by commas', () => {
    expect(formatMoved([[3, 40]])).toBe('3-40');
    expect(formatMoved([])).toBe('');
    expect(parseMoved('3-40,0-0')).toEqual([
      [3, 40],
      [0, 0],
    ]);
    expect(parseMoved('')).toEqual([]);
  });

  it('finds the Cluster slot of a key as Redis does (CRC16 of the hash tag)', () => {
    // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
    expect(keySlot('123456789')).toBe(0x31c3);
    expect(keySlot('foo')).toBe(12_182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('{board:demo}:meta')).toBe(keySlot('{board:demo}:rank'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
    expect(keySlot('{}x')).not.toBe(keySlot('x'));
  });
});

describe('the ranking encoding in a real Redis', () => {
  let redis: RedisServer;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });

  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });

  it.each(['desc', 'asc'] as const)(
    'ZRANGE is rankPlayers order and 1 + ZCOUNT is the rank (%s)',
    async (order) => {
      for (let seed = 1; seed <= 5; seed++) {
        const players = edgePlayers(seed * 100, 2_000);
        const key = `{test}:rank:${order}:${seed}`;
        const pairs = players.flatMap((p) => [
          String(sortScore(p.score, order)),
          rankMember(p.scoredAt, p.id),
        ]);
        await client.zadd(key, ...pairs);
        const expected = rankPlayers(players, order);
        const members = await client.zrange(key, 0, '-1');
        expect(members.map((m) => parseRankMember(m))).toEqual(
          expected.map((p) => ({ scoredAt: p.scoredAt, id: p.id })),
        );
        const ranks = await Promise.all(
          expected.map(
            async (p) => 1 + (await client.zcount(key, '-inf', `(${sortScore(p.score, order)}`)),
          ),
        );
        expect(ranks).toEqual(expected.map((p) => p.rank));
      }
    },
  );
});
