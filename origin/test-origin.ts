import { createHmac, type KeyObject, sign } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, type Redis } from 'ioredis';
import { inject } from 'vitest';
import { createApp } from './app.ts';
import { embeddedBackend, type StoreBackend } from './backend.ts';
import { type Config, loadConfig } from './config.ts';
import {
  type Database,
  emptyDatabase,
  type Limits,
  type NewId,
  seedDatabase,
} from './domain/board.ts';
import { createPublisher } from './grip.ts';
import { createLogger, type Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { redisBackend } from './redis-backend.ts';
import type { SeasonScheduler } from './seasons.ts';
import type { BoardStore } from './store/board-store.ts';
import { EmbeddedKeyStore } from './store/keys/embedded.ts';
import { connectRedis, whenReady } from './store/redis/connect.ts';
import { boardKeys } from './store/redis/keys.ts';
import { RedisBoardStore } from './store/redis/redis-store.ts';
import { fileStore, type Store } from './store/store.ts';

/** The admin token every test origin is started with. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
/** The HS256 key a test origin verifies `Grip-Sig` with unless told otherwise. */
export const HS256_KEY = 'test-grip-key-0123456789abcdefgh';

/** Where a test origin keeps its boards: the embedded store, one Redis node, or a Redis Cluster. */
export type TestStore = 'embedded' | 'redis' | 'cluster';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The store a vitest project runs the store-neutral suites on (see vitest.config.ts). */
    testStore?: TestStore;
    /** The Redis that project started for them: one URL, or a Cluster's seed URLs joined by ','. */
    redisUrl?: string;
  }
}

/** A store to start a test origin on: `{ store: 'embedded' }`, or a Redis kind and its URL. */
export interface StoreChoice {
  store: TestStore;
  redisUrl?: string;
}

/**
 * The store this vitest project runs the store-neutral suites on: the embedded one, unless the
 * project provides a Redis (vitest.config.ts). Suites spread it into every `startTestOrigin`.
 */
export function storeUnderTest(): StoreChoice {
  const store = inject('testStore') ?? 'embedded';
  const redisUrl = inject('redisUrl');
  return store === 'embedded' || redisUrl === undefined ? { store } : { store, redisUrl };
}

export interface TestOriginOptions {
  /** Environment for `loadConfig` (WEB_DIST defaults to a small built-app stand-in). */
  env?: Record<string, string>;
  verifyKey?: string;
  verifyIss?: string;
  /** Changes the seeded database before the origin stores it. */
  seed?: (db: Database) => void;
  clock?: { now(): number };
  /** Where the boards are kept (default: the embedded store, in a temporary data file). */
  store?: TestStore | undefined;
  /**
   * The Redis of `redis` and `cluster`, wiped (FLUSHALL on every master) when the origin starts:
   * one test origin at a time per Redis. Start one with local/redis.ts.
   */
  redisUrl?: string | undefined;
}

export interface SendInit {
  method?: string | undefined;
  headers?: Record<string, string> | undefined;
  body?: string | Buffer | undefined;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** What "unchanged" means, on every store. */
export interface Snapshot {
  /**
   * What is durable: the data file and its journal (embedded), or every Redis key with its DUMP,
   * in key order (the publishers' leases aside: they lapse by themselves).
   */
  stored: Buffer | string[];
  /** Every board as the store answers it. */
  memory: string;
  published: number;
}

interface TestOriginBase {
  url: string;
  /** Every publish request the origin sent to the GRIP proxy, parsed. */
  published: unknown[];
  /** Every line the origin logged (JSON). */
  logs: string[];
  /** The app's metrics (its registry is what the metrics port serves). */
  metrics: Metrics;
  /** The season scheduler (not started: a test checks it when its clock says so). */
  seasons: SeasonScheduler;
  /**
   * Every call the app made to its board store, by method name (`health` aside: it reads no
   * board): what "the database was read" means, on every store.
   */
  storeCalls: string[];
  /** Sends one request exactly as given (any method, any body, the path byte for byte). */
  send(path: string, init?: SendInit): Promise<Reply>;
  /**
   * Resolves once every change so far is published (a store may publish several changes as one;
   * the Redis store's publisher reads them from the change log a moment later).
   */
  settled(): Promise<void>;
  /**
   * What is stored, every board, and the publish count, once settled: equal snapshots mean
   * nothing changed.
   */
  snapshot(): Promise<Snapshot>;
  /**
   * The database as a fresh start reads it from where it is durable: the data file and its
   * journal reopened, or Redis through a new connection.
   */
  reopen(): Promise<Database>;
  close(): Promise<void>;
}

/** A test origin on the embedded store, whose file store tests of what is on disk can reach. */
export interface EmbeddedTestOrigin extends TestOriginBase {
  store: 'embedded';
  dataFile: string;
  /** The file store under the embedded board store. */
  fileStore: Store;
}

/** A test origin on Redis (one node or a Cluster). */
export interface RedisTestOrigin extends TestOriginBase {
  store: 'redis' | 'cluster';
  redisUrl: string;
}

export type TestOrigin = EmbeddedTestOrigin | RedisTestOrigin;

/** The data file of an origin on the embedded store: for the tests that need one. */
export function dataFileOf(origin: TestOrigin): string {
  if (origin.store !== 'embedded') {
    throw new Error(
      `this test needs the embedded store's data file; the origin is on ${origin.store}`,
    );
  }
  return origin.dataFile;
}

/** How the origin's store is kept, whichever it is. */
interface StoreParts {
  backend: StoreBackend;
  /** Resolves once every change the store took is handed to the broadcaster and published. */
  settled(): Promise<void>;
  stored(): Promise<Buffer | string[]>;
  memory(): Promise<string>;
  reopen(): Promise<Database>;
  close(): Promise<void>;
}

/** What every store is given. */
interface StoreSetup {
  config: Config;
  limits: Limits;
  newId: NewId;
  /** The database the store starts with: the demo board, players `p1` to `p5`, as changed. */
  seeded: () => Database;
  logger: Logger;
}

/**
 * A real origin on a free loopback port: the app factory with a store (by default the embedded
 * one, durable in a temporary directory; or a Redis, wiped) and a publisher whose publishes are
 * recorded instead of sent. Every store starts with the same seeded database, versions included:
 * ids count up from `p1`, so the demo board's players are `p1` to `p5`.
 */
export function startTestOrigin(
  options?: TestOriginOptions & { store?: 'embedded' | undefined },
): Promise<EmbeddedTestOrigin>;
export function startTestOrigin(options: TestOriginOptions): Promise<TestOrigin>;
export async function startTestOrigin(options: TestOriginOptions = {}): Promise<TestOrigin> {
  const dir = await mkdtemp(join(tmpdir(), 'origin-test-'));
  const webDist = join(dir, 'web');
  await mkdir(join(webDist, 'assets'), { recursive: true });
  await writeFile(join(webDist, 'index.html'), '<!doctype html><title>board</title>');
  await writeFile(join(webDist, 'assets', 'app.js'), 'console.log(1);');

  const store = options.store ?? 'embedded';
  const redisUrl = store === 'embedded' ? undefined : requireRedisUrl(options.redisUrl, store);
  const dataFile = join(dir, 'data', 'leaderboard.json');
  // Publishing at once (no coalescing timer) leaves no write pending after the last request.
  const config = loadConfig({
    WEB_DIST: webDist,
    DATA_FILE: dataFile,
    PUBLISH_INTERVAL_MS: '0',
    ...(redisUrl === undefined ? {} : redisEnv(redisUrl, store)),
    ...options.env,
  });
  let next = 0;
  const newId = () => `p${++next}`;
  const published: unknown[] = [];
  const verify = {
    verifyKey: options.verifyKey ?? HS256_KEY,
    verifyIss: options.verifyIss ?? 'pushpin',
  };
  // Given a GRIP_URL, the origin publishes there for real, as main.ts's publisher would;
  // otherwise publishes are recorded here instead of sent.
  const publisher =
    options.env?.GRIP_URL === undefined
      ? createPublisher({ ...config, ...verify }, async (_input, init) => {
          published.push(JSON.parse(String(init?.body)));
          return new Response('Published\n');
        })
      : createPublisher({ ...config, ...verify });
  const logs: string[] = [];
  // The origin's own logger (redaction and all), writing its lines here instead of stdout.
  const logger = createLogger(config.logLevel, { write: (line) => void logs.push(line.trimEnd()) });
  const setup: StoreSetup = {
    config,
    limits: { maxBoards: config.maxBoards, maxPlayersPerBoard: config.maxPlayersPerBoard },
    newId,
    seeded: () => {
      const db = seedDatabase(newId, new Date(0));
      options.seed?.(db);
      return db;
    },
    logger,
  };
  const embedded = redisUrl === undefined ? await embeddedParts(setup, dataFile) : undefined;
  const parts = embedded ?? (await redisParts(setup, redisUrl ?? ''));
  const storeCalls: string[] = [];
  const backend = { ...parts.backend, store: counted(parts.backend.store, storeCalls) };
  const { app, metrics, broadcaster, seasons } = createApp({
    config,
    backend,
    publisher,
    adminToken: ADMIN_TOKEN,
    logger,
    clock: options.clock,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve).once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const settled = async () => {
    await parts.settled();
    await broadcaster.drain();
  };

  const base: TestOriginBase = {
    url: `http://127.0.0.1:${port}`,
    published,
    logs,
    metrics,
    seasons,
    storeCalls,
    send: (path, init = {}) => send(port, path, init),
    settled,
    snapshot: async () => {
      await settled();
      return {
        stored: await parts.stored(),
        memory: await parts.memory(),
        published: published.length,
      };
    },
    reopen: () => parts.reopen(),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await parts.close();
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
  if (embedded !== undefined) {
    return { ...base, store: 'embedded', dataFile, fileStore: embedded.fileStore };
  }
  return { ...base, store: store === 'cluster' ? 'cluster' : 'redis', redisUrl: redisUrl ?? '' };
}

function requireRedisUrl(url: string | undefined, store: TestStore): string {
  if (url === undefined || url === '') {
    throw new Error(
      `a test origin on ${store} needs redisUrl: start a Redis with local/redis.ts (startRedis, startRedisCluster) and pass its url`,
    );
  }
  return url;
}

function redisEnv(url: string, store: TestStore): Record<string, string> {
  return {
    REDIS_URL: url,
    REDIS_CLUSTER: store === 'cluster' ? 'true' : 'false',
    // A Cluster's writes wait for a replica; a busy 2-core machine may take a while to answer.
    REDIS_WAIT_TIMEOUT_MS: '10000',
  };
}

/** The embedded store over a file store in `dataFile`. */
async function embeddedParts(
  setup: StoreSetup,
  dataFile: string,
): Promise<StoreParts & { fileStore: Store }> {
  let writeFailed = false;
  const store = await fileStore(dataFile, setup.seeded, () => {
    writeFailed = true;
  });
  const keys = await EmbeddedKeyStore.open(`${dataFile}.keys.json`);
  return {
    fileStore: store,
    backend: embeddedBackend(store, { limits: setup.limits, newId: setup.newId, keys }),
    // Each change goes to the broadcaster as it is made.
    settled: async () => {},
    // The data file and its journal: together they are what is on disk.
    stored: async () =>
      Buffer.concat([await readFile(dataFile), await readFile(`${dataFile}.journal`)]),
    memory: async () => JSON.stringify(store.data),
    reopen: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'origin-reopen-'));
      try {
        const copy = join(dir, 'db.json');
        await copyFile(dataFile, copy);
        await copyFile(`${dataFile}.journal`, `${copy}.journal`);
        return (await fileStore(copy, emptyDatabase)).data;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    // After a failed write the store refuses every commit (crash-only); nothing is left to flush.
    close: async () => {
      if (!writeFailed) await store.commit();
      await keys.close();
    },
  };
}

/** The Redis URLs test origins run on now: each wipes its Redis, so one at a time. */
const redisInUse = new Set<string>();

/**
 * The Redis store and its feed (as main.ts builds them) on a wiped Redis, holding the seeded
 * database, restored with its ids and versions.
 */
async function redisParts(setup: StoreSetup, url: string): Promise<StoreParts> {
  const settings = setup.config.redis;
  if (settings === undefined) throw new Error('REDIS_URL was not read into the config');
  if (redisInUse.has(url)) {
    throw new Error(
      `another test origin runs on ${url}: close it before starting the next (each wipes its Redis)`,
    );
  }
  redisInUse.add(url);
  // Its own connection, for what the origin's does not do: wipe, seed, fingerprint.
  const client = connectRedis(url);
  try {
    await whenReady(client, 10_000);
    await Promise.all(mastersOf(client).map((node) => node.flushall()));
    const db = setup.seeded();
    await new RedisBoardStore(client, { newId: setup.newId, limits: setup.limits }).restore(db);
    // The restore wrote a `restore` entry in each board's change log. The seed is where the
    // store starts, as a seeded data file is: an empty log, nothing to publish.
    await Promise.all(Object.keys(db.boards).map((id) => client.del(boardKeys(id).log)));
    const backend = await redisBackend(settings, {
      limits: setup.limits,
      newId: setup.newId,
      publishIntervalMs: setup.config.publishIntervalMs,
      seed: false,
      onError: (error, boardId) => setup.logger.warn({ err: error, boardId }, 'Redis error'),
    });
    return {
      backend,
      settled: () => logsPublished(client, 20_000),
      stored: () => fingerprint(client),
      memory: async () => JSON.stringify(await backend.store.dump()),
      reopen: () => reread(url, setup),
      close: async () => {
        await backend.stop();
        client.disconnect();
        redisInUse.delete(url);
      },
    };
  } catch (error) {
    client.disconnect();
    redisInUse.delete(url);
    throw error;
  }
}

/** The masters of a Cluster, or the one node. */
function mastersOf(client: Redis | Cluster): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Every key on every master, in key order. */
async function keysOf(client: Redis | Cluster): Promise<string[]> {
  const keys: string[] = [];
  for (const node of mastersOf(client)) {
    let cursor = '0';
    do {
      const [nextCursor, found] = await node.scan(cursor, 'COUNT', 1000);
      keys.push(...found);
      cursor = nextCursor;
    } while (cursor !== '0');
  }
  return keys.sort();
}

/**
 * Every key but the publishers' leases (they lapse by themselves), with its type and value, in
 * key order: `{board:demo}:meta hash {"createdAt":…,"name":…}`. Typed reads rather than DUMP
 * bytes, so that a failed comparison says what changed.
 */
async function fingerprint(client: Redis | Cluster): Promise<string[]> {
  const keys = (await keysOf(client)).filter((key) => !key.endsWith(':lease'));
  return Promise.all(keys.map(async (key) => `${key} ${await typedValue(client, key)}`));
}

async function typedValue(client: Redis | Cluster, key: string): Promise<string> {
  const type = await client.type(key);
  const value = await (async (): Promise<unknown> => {
    switch (type) {
      case 'string':
        return client.get(key);
      case 'hash':
        return Object.fromEntries(Object.entries(await client.hgetall(key)).sort());
      case 'zset':
        return client.zrange(key, '0', '-1', 'WITHSCORES');
      case 'stream':
        return client.xrange(key, '-', '+');
      case 'set':
        return (await client.smembers(key)).sort();
      case 'list':
        return client.lrange(key, 0, -1);
      default:
        return (await client.dumpBuffer(key))?.toString('base64');
    }
  })();
  return `${type} ${JSON.stringify(value)}`;
}

/**
 * Resolves once every board's change log is published to its end: the publisher's cursor in the
 * board's :pub hash is the log's last entry (the feed saves it only when nothing it read still
 * waits to be published). Throws after `timeoutMs`.
 */
async function logsPublished(client: Redis | Cluster, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const logs = (await keysOf(client)).filter((key) => key.endsWith(':log'));
    const behind: string[] = [];
    for (const log of logs) {
      const [last] = await client.xrevrange(log, '+', '-', 'COUNT', 1);
      const cursor = await client.hget(`${log.slice(0, -':log'.length)}:pub`, 'cursor');
      if (last !== undefined && last[0] !== cursor) behind.push(log);
    }
    if (behind.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`not published to its end within ${timeoutMs} ms: ${behind.join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every board as a new connection reads it. */
async function reread(url: string, setup: StoreSetup): Promise<Database> {
  const client = connectRedis(url);
  try {
    await whenReady(client, 10_000);
    return await new RedisBoardStore(client, { newId: setup.newId, limits: setup.limits }).dump();
  } finally {
    client.disconnect();
  }
}

/** The store, noting the name of every method called on it (but `health`). */
function counted(store: BoardStore, calls: string[]): BoardStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'health') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
}

function send(port: number, path: string, init: SendInit): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let replied = false;
    const headers = { ...init.headers };
    // Framed by length so that a body on GET or DELETE reaches the origin as that request's body.
    if (init.body !== undefined && headers['transfer-encoding'] === undefined) {
      headers['content-length'] ??= String(Buffer.byteLength(init.body));
    }
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers, agent: false },
      (res) => {
        replied = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    // The origin may answer (413, 415) and close before a large body is fully sent: the reply counts.
    req.on('error', (error) => {
      if (!replied) reject(error);
    });
    req.end(init.body);
  });
}

/**
 * A JWT signed with node:crypto the way a GRIP proxy signs `Grip-Sig`: HS256 with a shared secret
 * (Pushpin) or ES256 with an EC private key (Fastly Fanout). `header` overrides the JOSE header, so
 * tests can claim an algorithm the key does not match.
 */
export function signJwt(
  claims: Record<string, unknown>,
  key: string | KeyObject,
  header: Record<string, unknown> = {},
): string {
  const alg = typeof key === 'string' ? 'HS256' : 'ES256';
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg, typ: 'JWT', ...header })}.${encode(claims)}`;
  const signature =
    typeof key === 'string'
      ? createHmac('sha256', key).update(input).digest()
      : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** One request a recording server received. */
export interface Recorded {
  method: string;
  /** The request target as sent: path and query. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RecordingServer {
  url: string;
  requests: Recorded[];
  /** What the next requests are answered with (default 200 `Published`). */
  answer: { status: number; body: string };
  close(): Promise<void>;
}

/** A local HTTP server that records every request and answers as told: a GRIP proxy stand-in. */
export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: Recorded[] = [];
  const answer = { status: 200, body: 'Published\n' };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve).once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
