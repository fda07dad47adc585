import { Cluster, Redis } from 'ioredis';
import type { Limits, NewId } from '../../domain/board.ts';
import { StoreUnavailableError } from './errors.ts';
import { RedisBoardStore } from './redis-store.ts';

/** How the connection behaves: fail fast while Redis is away, reconnect by itself. */
export interface RedisConnectionOptions {
  /** How long a connection attempt may take. */
  connectTimeoutMs?: number | undefined;
  /**
   * How long a command may wait for its answer before it fails (StoreUnavailableError). Longer
   * than any WAIT and any whole-board script.
   */
  commandTimeoutMs?: number | undefined;
  /** Hears every connection error (the store keeps going and reconnects). */
  onError?: ((error: Error) => void) | undefined;
  /** Whether the URL names a Redis Cluster (default: when it lists several seed nodes). */
  cluster?: boolean | undefined;
}

const DEFAULTS = { connectTimeoutMs: 2_000, commandTimeoutMs: 10_000 };

interface ConnectionBasics {
  connectTimeout: number;
  commandTimeout: number;
  maxRetriesPerRequest: number;
}

/** Reconnects after 50 ms, then backs off to one attempt every 2 s, for ever. */
const backoff = (times: number) => Math.min(times * 50, 2_000);

/**
 * An ioredis client for `url`: one `Redis` for one URL (`redis://host:port`, `rediss://` for
 * TLS, user and password in the URL), a `Cluster` for a comma-separated list of seed URLs.
 * While disconnected, commands fail at once (no offline queue, no retries of a command whose
 * connection dropped) instead of piling up; the client keeps reconnecting in the background.
 */
export function connectRedis(url: string, options: RedisConnectionOptions = {}): Redis | Cluster {
  const connectTimeout = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  const commandTimeout = options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs;
  const common = { connectTimeout, commandTimeout, maxRetriesPerRequest: 0 };
  const seeds = url
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const client =
    (options.cluster ?? seeds.length > 1)
      ? new Cluster(seeds.map(seedNode), clusterOptions(seeds[0] ?? '', common))
      : new Redis(seeds[0] ?? url, {
          ...common,
          enableOfflineQueue: false,
          retryStrategy: backoff,
        });
  client.on('error', (error: Error) => options.onError?.(error));
  return client;
}

function clusterOptions(firstSeed: string, common: ConnectionBasics) {
  const seed = new URL(firstSeed);
  return {
    enableOfflineQueue: false,
    clusterRetryStrategy: backoff,
    slotsRefreshTimeout: common.connectTimeout,
    redisOptions: {
      ...common,
      ...(seed.username === '' ? {} : { username: decodeURIComponent(seed.username) }),
      ...(seed.password === '' ? {} : { password: decodeURIComponent(seed.password) }),
      ...(seed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  };
}

function seedNode(seed: string): { host: string; port: number } {
  const parsed = new URL(seed);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL: ${seed} is not a redis:// or rediss:// URL`);
  }
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}

/** Resolves once the client is ready; StoreUnavailableError after `timeoutMs`. */
export function whenReady(client: Redis | Cluster, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', ready);
      reject(
        new StoreUnavailableError(
          `Redis did not answer within ${timeoutMs} ms (status ${client.status}); check that it runs and that REDIS_URL points to it`,
        ),
      );
    }, timeoutMs);
    const ready = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', ready);
  });
}

export interface CreateRedisStoreOptions extends RedisConnectionOptions {
  /** One URL, or a comma-separated list of a Cluster's seed URLs. */
  url: string;
  newId: NewId;
  limits: Limits;
  /** Replicas that must hold a write before it resolves (WAIT); 0 does not wait. */
  waitReplicas?: number | undefined;
  waitTimeoutMs?: number | undefined;
  /** Create the demo board when Redis holds no board yet. */
  seed?: boolean | undefined;
  /** How long to wait for Redis at start before giving up. */
  startTimeoutMs?: number | undefined;
  now?: (() => Date) | undefined;
}

/**
 * Connects to Redis, waits until it answers, seeds the demo board when asked and none is
 * there, and gives the store. Throws StoreUnavailableError (and closes the client) when Redis
 * does not answer within `startTimeoutMs`.
 */
export async function createRedisStore(options: CreateRedisStoreOptions): Promise<RedisBoardStore> {
  const client = connectRedis(options.url, options);
  const store = new RedisBoardStore(client, options);
  try {
    await whenReady(client, options.startTimeoutMs ?? 10_000);
    if (options.seed === true) await store.seed((options.now ?? (() => new Date()))());
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return store;
}
