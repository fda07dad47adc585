import { createHmac, type KeyObject, sign } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from './app.ts';
import { embeddedBackend } from './backend.ts';
import { loadConfig } from './config.ts';
import { type Database, seedDatabase } from './domain/board.ts';
import { createPublisher } from './grip.ts';
import { createLogger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { SeasonScheduler } from './seasons.ts';
import { EmbeddedKeyStore } from './store/keys/embedded.ts';
import { fileStore, type Store } from './store/store.ts';

/** The admin token every test origin is started with. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
/** The HS256 key a test origin verifies `Grip-Sig` with unless told otherwise. */
export const HS256_KEY = 'test-grip-key-0123456789abcdefgh';

export interface TestOriginOptions {
  /** Environment for `loadConfig` (WEB_DIST defaults to a small built-app stand-in). */
  env?: Record<string, string>;
  verifyKey?: string;
  verifyIss?: string;
  /** Changes the seeded database before the origin writes it. */
  seed?: (db: Database) => void;
  clock?: { now(): number };
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

export interface Snapshot {
  file: Buffer;
  memory: string;
  published: number;
}

export interface TestOrigin {
  url: string;
  dataFile: string;
  store: Store;
  /** Every publish request the origin sent to the GRIP proxy, parsed. */
  published: unknown[];
  /** Every line the origin logged (JSON). */
  logs: string[];
  /** The app's metrics (its registry is what the metrics port serves). */
  metrics: Metrics;
  /** The season scheduler (not started: a test checks it when its clock says so). */
  seasons: SeasonScheduler;
  /** Sends one request exactly as given (any method, any body, the path byte for byte). */
  send(path: string, init?: SendInit): Promise<Reply>;
  /** The data file's bytes, the database in memory, and the publish count: what "unchanged" means. */
  snapshot(): Promise<Snapshot>;
  close(): Promise<void>;
}

/**
 * A real origin on a free loopback port: the app factory with a durable file store in a temporary
 * directory and a publisher whose publishes are recorded instead of sent. Ids count up from `p1`,
 * so the seeded demo board's players are `p1` to `p5`.
 */
export async function startTestOrigin(options: TestOriginOptions = {}): Promise<TestOrigin> {
  const dir = await mkdtemp(join(tmpdir(), 'origin-test-'));
  const webDist = join(dir, 'web');
  await mkdir(join(webDist, 'assets'), { recursive: true });
  await writeFile(join(webDist, 'index.html'), '<!doctype html><title>board</title>');
  await writeFile(join(webDist, 'assets', 'app.js'), 'console.log(1);');

  const dataFile = join(dir, 'data', 'leaderboard.json');
  // Publishing at once (no coalescing timer) leaves no write pending after the last request.
  const config = loadConfig({
    WEB_DIST: webDist,
    DATA_FILE: dataFile,
    PUBLISH_INTERVAL_MS: '0',
    ...options.env,
  });
  let next = 0;
  const newId = () => `p${++next}`;
  let writeFailed = false;
  const store = await fileStore(
    dataFile,
    () => {
      const db = seedDatabase(newId, new Date(0));
      options.seed?.(db);
      return db;
    },
    () => {
      writeFailed = true;
    },
  );
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
  const limits = { maxBoards: config.maxBoards, maxPlayersPerBoard: config.maxPlayersPerBoard };
  const keys = await EmbeddedKeyStore.open(`${dataFile}.keys.json`);
  const backend = embeddedBackend(store, { limits, newId, keys });
  const { app, metrics, seasons } = createApp({
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

  return {
    url: `http://127.0.0.1:${port}`,
    dataFile,
    store,
    published,
    logs,
    metrics,
    seasons,
    send: (path, init = {}) => send(port, path, init),
    snapshot: async () => ({
      // The data file and its journal: together they are what is on disk.
      file: Buffer.concat([await readFile(dataFile), await readFile(`${dataFile}.journal`)]),
      memory: JSON.stringify(store.data),
      published: published.length,
    }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      // After a failed write the store refuses every commit (crash-only); nothing is left to flush.
      if (!writeFailed) await store.commit();
      await keys.close();
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
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
