import type { Cluster, Redis } from 'ioredis';
import * as z from 'zod/mini';
import type { ApiKeyRecord } from '../../domain/api-keys.ts';
import { StoreUnavailableError, storeError } from '../redis/errors.ts';
import { masterOf } from '../redis/redis-store.ts';
import { apiKeyRecordSchema, type KeyStore, laterOf, TOUCH_INTERVAL_MS } from './key-store.ts';

/*
 * API keys in Redis: one HASH, `apikeys` (a slot of its own, no hash tag), key id -> the record
 * as JSON. Revoking and last-used times are Lua scripts, so an origin revoking a key and another
 * noting its use never undo each other. Last-used times wait in each origin's memory and are
 * written at most every `TOUCH_INTERVAL_MS`.
 */

/** The hash of every key record. */
export const KEYS_HASH = 'apikeys';

// Sets revokedAt unless set already; returns the record as it is now, or nil for no such key.
const REVOKE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local record = cjson.decode(raw)
if record.revokedAt then return raw end
record.revokedAt = ARGV[2]
raw = cjson.encode(record)
redis.call('HSET', KEYS[1], ARGV[1], raw)
return raw
`;

// ARGV: id, time, id, time, ...: each key's lastUsedAt moved forward, never back; a key that is
// gone (or never was) stays gone.
const TOUCH = `
for i = 1, #ARGV, 2 do
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  if raw then
    local record = cjson.decode(raw)
    if not record.lastUsedAt or record.lastUsedAt < ARGV[i + 1] then
      record.lastUsedAt = ARGV[i + 1]
      redis.call('HSET', KEYS[1], ARGV[i], cjson.encode(record))
    end
  end
end
return #ARGV / 2
`;

export interface RedisKeyStoreOptions {
  /** Replicas that must hold a created or revoked key before it resolves (WAIT); 0 does not wait. */
  waitReplicas?: number | undefined;
  waitTimeoutMs?: number | undefined;
  touchIntervalMs?: number | undefined;
  /** Hears a background write of last-used times that failed (it is tried again later). */
  onError?: ((error: unknown) => void) | undefined;
}

/** API keys in Redis, shared by every origin on it. */
export class RedisKeyStore implements KeyStore {
  private readonly used = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Redis | Cluster,
    private readonly options: RedisKeyStoreOptions = {},
  ) {}

  async create(record: ApiKeyRecord): Promise<void> {
    const added = await this.redis(() =>
      this.client.hsetnx(KEYS_HASH, record.id, JSON.stringify(record)),
    );
    if (added !== 1) throw new Error(`an API key with id ${record.id} exists`);
    await this.durable();
  }

  async list(): Promise<ApiKeyRecord[]> {
    const all = await this.redis(() => this.client.hgetall(KEYS_HASH));
    return Object.values(all)
      .map((raw) => this.withUse(parseRecord(raw)))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const raw = await this.redis(() => this.client.hget(KEYS_HASH, id));
    return raw === null ? undefined : this.withUse(parseRecord(raw));
  }

  async revoke(id: string, at: Date): Promise<ApiKeyRecord | undefined> {
    const raw = await this.redis(() =>
      this.client.eval(REVOKE, 1, KEYS_HASH, id, at.toISOString()),
    );
    if (typeof raw !== 'string') return undefined;
    await this.durable();
    return this.withUse(parseRecord(raw));
  }

  touch(id: string, at: Date): void {
    const later = laterOf(this.used.get(id), at.toISOString());
    if (later !== undefined) this.used.set(id, later);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushUse().catch((error: unknown) => this.options.onError?.(error));
    }, this.options.touchIntervalMs ?? TOUCH_INTERVAL_MS).unref();
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    if (this.used.size > 0) await this.flushUse();
  }

  /** Writes the last-used times waiting, in one script; those written are no longer waiting. */
  private async flushUse(): Promise<void> {
    const written = [...this.used];
    if (written.length === 0) return;
    await this.redis(() => this.client.eval(TOUCH, 1, KEYS_HASH, ...written.flat()));
    for (const [id, at] of written) {
      if (this.used.get(id) === at) this.used.delete(id);
    }
  }

  private withUse(record: ApiKeyRecord): ApiKeyRecord {
    const lastUsedAt = laterOf(record.lastUsedAt, this.used.get(record.id));
    return lastUsedAt === undefined || lastUsedAt === record.lastUsedAt
      ? record
      : { ...record, lastUsedAt };
  }

  private async redis<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw storeError(error);
    }
  }

  /** Waits for `waitReplicas` replicas of the hash's master to hold the change, as boards do. */
  private async durable(): Promise<void> {
    const replicas = this.options.waitReplicas ?? 0;
    if (replicas <= 0) return;
    const timeoutMs = this.options.waitTimeoutMs ?? 1_000;
    const node = masterOf(this.client, KEYS_HASH);
    const acked = await this.redis(() => node.wait(replicas, timeoutMs));
    if (acked < replicas) {
      throw new StoreUnavailableError(
        `the API key change is not on ${replicas} replicas (${acked} acknowledged within ${timeoutMs} ms)`,
      );
    }
  }
}

function parseRecord(raw: string): ApiKeyRecord {
  return z.parse(apiKeyRecordSchema, JSON.parse(raw));
}
