import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../local/redis.ts';
import { apiKeyRecord, newApiKey } from '../domain/api-keys.ts';
import { createLogger } from '../log.ts';
import { EmbeddedKeyStore } from '../store/keys/embedded.ts';
import type { KeyStore } from '../store/keys/key-store.ts';
import { RedisKeyStore } from '../store/keys/redis.ts';
import { errorHandler } from './errors.ts';
import { ScoreAuth } from './score-auth.ts';

/*
 * ScoreAuth behind a real Express route, over each key store: who gets in, who gets 401, 403 or
 * 429, and that a key's use is noted.
 */

const ADMIN = 'admin-token-0123456789abcdef';
const t0 = Date.parse('2024-05-01T12:00:00.000Z');

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

interface Fixture {
  url: string;
  keys: KeyStore;
  clock: { now: number };
  /** A key's token, made and kept with these boards and rate. */
  key(boards?: string[], rate?: { ratePerSecond: number; burst: number }): Promise<string>;
  submit(boardId: string, authorization?: string): Promise<Response>;
  close(): Promise<void>;
}

async function fixture(keys: KeyStore): Promise<Fixture> {
  const clock = { now: t0 };
  const auth = new ScoreAuth({ adminToken: ADMIN, keys, now: () => clock.now });
  const app = express();
  app.post('/boards/:boardId/scores/', async (req, res) => {
    res.json(await auth.authorize(req, req.params.boardId));
  });
  app.use(errorHandler(createLogger('silent')));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    keys,
    clock,
    key: async (boards = ['demo'], rate = { ratePerSecond: 5, burst: 10 }) => {
      const key = newApiKey();
      await keys.create(apiKeyRecord(key, { name: 'Game', boards, ...rate }, new Date(t0)));
      return key.token;
    },
    submit: (boardId, authorization) =>
      fetch(`${url}/boards/${boardId}/scores/`, {
        method: 'POST',
        headers: authorization === undefined ? {} : { authorization },
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await keys.close();
    },
  };
}

async function expectError(reply: Response, status: number, code: string): Promise<void> {
  expect(reply.status).toBe(status);
  const body = (await reply.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  if (status === 401) expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
}

describe.each([
  ['embedded', async () => EmbeddedKeyStore.inMemory()],
  [
    'Redis',
    async () => {
      await client.flushall();
      return new RedisKeyStore(client, { touchIntervalMs: 20 });
    },
  ],
])('score submission auth on the %s key store', (_kind, makeKeys) => {
  it('lets the admin token in as the admin, on any board', async () => {
    const f = await fixture(await makeKeys());
    const reply = await f.submit('other', `Bearer ${ADMIN}`);
    expect(await reply.json()).toEqual({ kind: 'admin' });
    await f.close();
  });

  it('lets a key in on its boards, as that key, and notes its use', async () => {
    const f = await fixture(await makeKeys());
    const token = await f.key(['demo', 'cup']);
    const id = token.slice(4, 16);
    f.clock.now = t0 + 5_000;
    expect(await (await f.submit('cup', `Bearer ${token}`)).json()).toEqual({ kind: 'key', id });
    expect((await f.keys.get(id))?.lastUsedAt).toBe(new Date(t0 + 5_000).toISOString());
    await f.close();
  });

  it('refuses a key outside its boards with 403, naming nothing secret', async () => {
    const f = await fixture(await makeKeys());
    const token = await f.key(['demo']);
    const reply = await f.submit('cup', `Bearer ${token}`);
    const text = await reply.clone().text();
    await expectError(reply, 403, 'forbidden');
    expect(text).not.toContain(token.slice(17));
    await f.close();
  });

  it('refuses a revoked key with 401', async () => {
    const f = await fixture(await makeKeys());
    const token = await f.key();
    await f.keys.revoke(token.slice(4, 16), new Date(t0));
    await expectError(await f.submit('demo', `Bearer ${token}`), 401, 'unauthorized');
    await f.close();
  });

  it('refuses an unknown key and a known id with a wrong secret with 401', async () => {
    const f = await fixture(await makeKeys());
    const token = await f.key();
    const unknown = newApiKey().token;
    const wrongSecret = `${token.slice(0, 17)}${newApiKey().token.slice(17)}`;
    await expectError(await f.submit('demo', `Bearer ${unknown}`), 401, 'unauthorized');
    await expectError(await f.submit('demo', `Bearer ${wrongSecret}`), 401, 'unauthorized');
    await f.close();
  });

  it('refuses a missing, malformed or wrong bearer with 401', async () => {
    const f = await fixture(await makeKeys());
    const token = await f.key();
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `Basic ${ADMIN}`,
      `bearer${token}`,
      `Bearer ${token}x`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${ADMIN}x`,
      `Bearer ${'a'.repeat(513)}`,
    ]) {
      await expectError(await f.submit('demo', header), 401, 'unauthorized');
    }
    await f.close();
  });

  it("holds each key to its own rate, with Retry-After, and another key's bucket apart", async () => {
    const f = await fixture(await makeKeys());
    const slow = await f.key(['demo'], { ratePerSecond: 1, burst: 2 });
    const other = await f.key(['demo'], { ratePerSecond: 1, burst: 2 });
    expect((await f.submit('demo', `Bearer ${slow}`)).status).toBe(200);
    expect((await f.submit('demo', `Bearer ${slow}`)).status).toBe(200);
    const refused = await f.submit('demo', `Bearer ${slow}`);
    expect(refused.headers.get('retry-after')).toBe('1');
    await expectError(refused, 429, 'rate_limited');
    expect((await f.submit('demo', `Bearer ${other}`)).status).toBe(200);
    f.clock.now += 1_000;
    expect((await f.submit('demo', `Bearer ${slow}`)).status).toBe(200);
    await f.close();
  });
});
