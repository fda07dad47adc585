import type { StoreBackend } from './backend.ts';
import type { RedisSettings } from './config.ts';
import type { Limits, NewId } from './domain/board.ts';
import { RedisFeed } from './redis-feed.ts';
import type { BoardStore } from './store/board-store.ts';
import { RedisKeyStore } from './store/keys/redis.ts';
import { connectRedis, whenReady } from './store/redis/connect.ts';
import { RedisBoardStore } from './store/redis/redis-store.ts';

export interface RedisBackendOptions {
  limits: Limits;
  newId: NewId;
  /** How often a held board's log is read (the broadcaster's interval, at least 20 ms). */
  publishIntervalMs: number;
  /** Creates the demo board when Redis holds no board yet. */
  seed: boolean;
  /** How long to wait for Redis at start. */
  startTimeoutMs?: number | undefined;
  onError?: ((error: unknown, boardId: string | undefined) => void) | undefined;
  onTakeover?: ((boardId: string, cursor: string) => void) | undefined;
}

/**
 * Every store method, by what it does to boards: the feed must hear of every board a write
 * changed, so a method the table does not classify does not type-check. `board` writes name their
 * board as first argument; `restore` names its boards in its database; `new` makes a board that
 * nobody watches yet (version 0: nothing to publish); `none` writes no board.
 */
const WRITES: Record<keyof BoardStore, 'board' | 'restore' | 'new' | 'none'> = {
  kind: 'none',
  health: 'none',
  listBoards: 'none',
  counts: 'none',
  boardView: 'none',
  playerView: 'none',
  requireBoard: 'none',
  requirePlayer: 'none',
  positionOf: 'none',
  searchPlayers: 'none',
  pages: 'none',
  streamSnapshot: 'none',
  heldChannels: 'none',
  dump: 'none',
  versions: 'none',
  scheduledBoards: 'none',
  seasons: 'none',
  seasonView: 'none',
  checkImport: 'none',
  idempotent: 'none',
  idempotentAfter: 'none',
  close: 'none',
  createBoard: 'new',
  deleteBoard: 'board',
  resetBoard: 'board',
  addPlayer: 'board',
  updatePlayer: 'board',
  removePlayer: 'board',
  addScore: 'board',
  submitScores: 'board',
  importPlayers: 'board',
  setSchedule: 'board',
  rollSeason: 'board',
  restore: 'restore',
};

const writeOf = (property: string | symbol) =>
  typeof property === 'string' && Object.hasOwn(WRITES, property)
    ? WRITES[property as keyof BoardStore]
    : 'none';

/**
 * The Redis store and its feed: the store's scripts write every change to the board's log; the
 * feed publishes the logs of the boards this origin writes, under each board's lease.
 */
export async function redisBackend(
  settings: RedisSettings,
  options: RedisBackendOptions,
): Promise<StoreBackend & { feed: RedisFeed }> {
  const client = connectRedis(settings.urls.join(','), {
    cluster: settings.cluster,
    onError: (error) => options.onError?.(error, undefined),
  });
  try {
    await whenReady(client, options.startTimeoutMs ?? 10_000);
  } catch (error) {
    client.disconnect();
    throw error;
  }
  const store = new RedisBoardStore(client, {
    newId: options.newId,
    limits: options.limits,
    waitReplicas: settings.waitReplicas,
    waitTimeoutMs: settings.waitTimeoutMs,
  });
  if (options.seed) await store.seed(new Date());
  const keys = new RedisKeyStore(client, {
    waitReplicas: settings.waitReplicas,
    waitTimeoutMs: settings.waitTimeoutMs,
    onError: (error) => options.onError?.(error, undefined),
  });
  // The feed's own connection: a write's WAIT holds its connection until the replicas answer (up
  // to REDIS_WAIT_TIMEOUT_MS), and lease renewals must not queue behind it.
  const feedClient = connectRedis(settings.urls.join(','), {
    cluster: settings.cluster,
    onError: (error) => options.onError?.(error, undefined),
  });
  await whenReady(feedClient, options.startTimeoutMs ?? 10_000).catch((error: unknown) => {
    client.disconnect();
    feedClient.disconnect();
    throw error;
  });
  const feed = new RedisFeed({
    client: feedClient,
    leaseMs: settings.leaseMs,
    pollMs: Math.max(options.publishIntervalMs, 20),
    onError: options.onError,
    onTakeover: options.onTakeover,
  });
  return {
    store: notifyingWrites(store, feed),
    keys,
    feed,
    claim: (boardId, ids) => feed.claim(boardId, ids),
    connect: (broadcaster) => void feed.start(broadcaster),
    stop: async () => {
      await feed.stop();
      await keys.close();
      feedClient.disconnect();
      await store.close();
    },
  };
}

/**
 * The store, telling the feed of every board a write touched, whether the write answered or
 * failed (a write that failed after its script ran, waiting for replicas, is in the log).
 */
function notifyingWrites(store: RedisBoardStore, feed: RedisFeed): BoardStore {
  const wrote = (boardId: string) => feed.wrote(boardId);
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (writeOf(property) === 'restore') {
        return async (...args: Parameters<RedisBoardStore['restore']>) => {
          const before = await target.versions();
          try {
            return await target.restore(...args);
          } finally {
            for (const id of [...before.keys(), ...Object.keys(args[0].boards)]) wrote(id);
          }
        };
      }
      if (writeOf(property) !== 'board') return value.bind(target);
      return async (boardId: string, ...rest: unknown[]) => {
        try {
          return await value.call(target, boardId, ...rest);
        } finally {
          wrote(boardId);
        }
      };
    },
  });
}
