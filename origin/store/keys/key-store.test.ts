import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../../local/redis.ts';
import { apiKeyRecord, newApiKey, parseApiKeyToken } from '../../domain/api-keys.ts';
import { DataFileError } from '../json-file.ts';
import { EmbeddedKeyStore } from './embedded.ts';
import type { KeyStore } from './key-store.ts';
import { KEYS_HASH, RedisKeyStore } from './redis.ts';

/*
 * Both key stores against the same expectations: a key kept as a hash only, listed, revoked once,
 * its last use written in the background. Each case also reads back what the store holds at rest
 * (the file's bytes, the Redis hash) to prove the secret is not there.
 */

const details = { name: 'Game server', boards: ['demo'], ratePerSecond: 5, burst: 10 };
const t0 = new Date('2024-05-01T12:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

interface Harness {
  /** A fresh, empty store, and another view of the same storage (a restart, another origin). */
  open(touchIntervalMs?: number): Promise<KeyStore>;
  reopen(touchIntervalMs?: number): Promise<KeyStore>;
  /** Everything the storage holds, as text. */
  atRest(): Promise<string>;
}

let redis: RedisServer;
let client: Redis;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keys-test-'));
  redis = await startRedis();
  client = new Redis(redis.url);
});

afterAll(async () => {
  client.disconnect();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

let fileCount = 0;
function embedded(): Harness {
  const path = join(dir, `data-${++fileCount}`, 'leaderboard.json.keys.json');
  return {
    open: (touchIntervalMs) => EmbeddedKeyStore.open(path, { touchIntervalMs }),
    reopen: (touchIntervalMs) => EmbeddedKeyStore.open(path, { touchIntervalMs }),
    atRest: async () => readFile(path, 'utf8').catch(() => ''),
  };
}

function inRedis(): Harness {
  return {
    open: async (touchIntervalMs) => {
      await client.flushall();
      return new RedisKeyStore(client, { touchIntervalMs });
    },
    reopen: async (touchIntervalMs) => new RedisKeyStore(client, { touchIntervalMs }),
    atRest: async () => JSON.stringify(await client.hgetall(KEYS_HASH)),
  };
}

describe.each([
  ['embedded', embedded],
  ['Redis', inRedis],
])('the %s key store', (_kind, harness) => {
  it('keeps a key by id and hash, never its secret', async () => {
    const h = harness();
    const store = await h.open();
    const key = newApiKey();
    await store.create(apiKeyRecord(key, details, t0));
    const secret = parseApiKeyToken(key.token)?.secret ?? 'no secret';
    const stored = await h.atRest();
    expect(stored).toContain(key.secretHash);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(key.token);
    const again = await h.reopen();
    expect(await again.get(key.id)).toEqual(apiKeyRecord(key, details, t0));
    expect(await again.get('AAAAAAAAAAAA')).toBeUndefined();
    await store.close();
    await again.close();
  });

  it('lists keys oldest first, revoked ones too', async () => {
    const h = harness();
    const store = await h.open();
    const first = newApiKey();
    const second = newApiKey();
    await store.create(apiKeyRecord(first, details, t0));
    await store.create(apiKeyRecord(second, { ...details, name: 'Other' }, at(1)));
    await store.revoke(first.id, at(2));
    const listed = await (await h.reopen()).list();
    expect(listed.map((k) => [k.id, k.revokedAt])).toEqual([
      [first.id, at(2).toISOString()],
      [second.id, undefined],
    ]);
    await store.close();
  });

  it('refuses a second key with the same id', async () => {
    const h = harness();
    const store = await h.open();
    const key = newApiKey();
    await store.create(apiKeyRecord(key, details, t0));
    await expect(store.create(apiKeyRecord(key, details, t0))).rejects.toThrow(/exists/);
    await store.close();
  });

  it('revokes once: a second revoke keeps the first time; an unknown key is undefined', async () => {
    const h = harness();
    const store = await h.open();
    const key = newApiKey();
    await store.create(apiKeyRecord(key, details, t0));
    expect((await store.revoke(key.id, at(5)))?.revokedAt).toBe(at(5).toISOString());
    expect((await store.revoke(key.id, at(9)))?.revokedAt).toBe(at(5).toISOString());
    expect((await (await h.reopen()).get(key.id))?.revokedAt).toBe(at(5).toISOString());
    expect(await store.revoke('AAAAAAAAAAAA', at(5))).toBeUndefined();
    await store.close();
  });

  it('shows the last use at once and writes it later, never moving it back', async () => {
    const h = harness();
    const store = await h.open(50);
    const key = newApiKey();
    await store.create(apiKeyRecord(key, details, t0));
    store.touch(key.id, at(10));
    store.touch(key.id, at(3));
    expect((await store.get(key.id))?.lastUsedAt).toBe(at(10).toISOString());
    expect((await store.list())[0]?.lastUsedAt).toBe(at(10).toISOString());
    // Not written yet: the storage still has no last use.
    expect((await (await h.reopen()).get(key.id))?.lastUsedAt).toBeUndefined();
    await expect
      .poll(async () => (await (await h.reopen()).get(key.id))?.lastUsedAt)
      .toBe(at(10).toISOString());
    await store.close();
  });

  it('writes the last uses still waiting when closed', async () => {
    const h = harness();
    const store = await h.open(60_000);
    const key = newApiKey();
    await store.create(apiKeyRecord(key, details, t0));
    store.touch(key.id, at(7));
    await store.close();
    expect((await (await h.reopen()).get(key.id))?.lastUsedAt).toBe(at(7).toISOString());
  });

  it('keeps a revoke and a last use written at about the same time', async () => {
    const h = harness();
    const store = await h.open(10);
    const key = newApiKey();
    await store.create(apiKeyRecord(key, details, t0));
    store.touch(key.id, at(1));
    await store.revoke(key.id, at(2));
    await store.close();
    const record = await (await h.reopen()).get(key.id);
    expect([record?.lastUsedAt, record?.revokedAt]).toEqual([
      at(1).toISOString(),
      at(2).toISOString(),
    ]);
  });
});

describe('the embedded key file', () => {
  it('is no keys when missing (a data directory of an earlier version)', async () => {
    const store = await EmbeddedKeyStore.open(join(dir, 'none', 'leaderboard.json.keys.json'));
    expect(await store.list()).toEqual([]);
    await store.close();
  });

  it('stops the start when it does not parse, and is left as it is', async () => {
    const path = join(dir, 'broken.keys.json');
    await writeFile(path, '{"format": 1, "keys": [{"id": 1}]}');
    await expect(EmbeddedKeyStore.open(path)).rejects.toThrow(DataFileError);
    expect(await readFile(path, 'utf8')).toContain('"id": 1');
  });

  it('is written whole and leaves no temporary file', async () => {
    const sub = join(dir, 'whole');
    const path = join(sub, 'leaderboard.json.keys.json');
    const store = await EmbeddedKeyStore.open(path);
    await store.create(apiKeyRecord(newApiKey(), details, t0));
    expect(await readdir(sub)).toEqual(['leaderboard.json.keys.json']);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ format: 1 });
    await store.close();
  });

  it('keeps nothing in memory that the disk refused', async () => {
    const sub = join(dir, 'refused');
    const path = join(sub, 'leaderboard.json.keys.json');
    const store = await EmbeddedKeyStore.open(path);
    // A directory where the file should be: the rename fails.
    await rm(sub, { recursive: true, force: true });
    await writeFile(sub, 'not a directory');
    await expect(store.create(apiKeyRecord(newApiKey(), details, t0))).rejects.toThrow();
    expect(await store.list()).toEqual([]);
    await rm(sub);
  });
});
