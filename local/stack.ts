import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiPaths } from '../contract/paths.ts';
import { startOrigin } from './origin.ts';
import { formatLogs, freePort, type Service, ServiceError, waitForHttp } from './processes.ts';
import { type PublishRelay, startPublishRelay } from './publish-relay.ts';
import { type PushpinService, type StartPushpinOptions, startPushpin } from './pushpin.ts';
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from './redis.ts';
import { startViceroy, type ViceroyService } from './viceroy.ts';

/**
 * The services of a stack, as named in `onLine`: the first origin is `origin`, the others
 * `origin-1`, `origin-2`…; a private Redis is `redis`, a private cluster's nodes `redis-1`…
 */
export type StackServiceName =
  | 'pushpin'
  | 'origin'
  | `origin-${number}`
  | 'viceroy'
  | 'redis'
  | `redis-${number}`;

export interface StackPorts {
  /** The first origin's port. */
  origin: number;
  /** Every origin's port, the first being `origin`. */
  origins: readonly number[];
  /** Pushpin's client port: what a browser uses when there is no edge. */
  pushpin: number;
  /** Pushpin's publish endpoint. */
  publish: number;
  /** Viceroy's port, when the stack runs the edge. */
  edge: number | undefined;
}

export interface StackOptions {
  /** Ports to listen on (`npm start` has fixed ones); a free port for each one not given. */
  ports?: Partial<StackPorts> | undefined;
  /** The data file; by default a new one in the stack's temporary dir, gone after `stop()`. */
  dataFile?: string | undefined;
  /** The admin token (default: a random one). */
  adminToken?: string | undefined;
  /** The HS256 secret Pushpin signs `Grip-Sig` with and the origin verifies (default: random). */
  gripKey?: string | undefined;
  origin?:
    | {
        /** More environment (e.g. `PUBLISH_INTERVAL_MS`); wins over the stack's own. */
        env?: NodeJS.ProcessEnv | undefined;
        /** Node flags that NODE_OPTIONS refuses (e.g. `--cpu-prof`). */
        nodeFlags?: readonly string[] | undefined;
      }
    | undefined;
  /**
   * Puts a recording relay (local/publish-relay.ts) between the origin and Pushpin's publish
   * endpoint, so a test or the bench sees every published message and its size.
   */
  relayPublishes?: boolean | undefined;
  /**
   * Pushpin's delivery limits and log level (local/pushpin.ts's defaults otherwise; the log level
   * defaults to `PUSHPIN_LOG_LEVEL`, else 1).
   */
  pushpin?:
    | {
        messageRate?: number | undefined;
        messageHwm?: number | undefined;
        logLevel?: number | undefined;
      }
    | undefined;
  /** Runs the edge too: its wasm in Viceroy, handing streams to this stack's Pushpin. */
  viceroy?:
    | {
        /** The edge's wasm (see `buildEdgeWasm`). */
        wasm: string;
        /** The `viceroy` binary (default: `findViceroy()`). */
        bin?: string | undefined;
        /** Where the edge's `origin` backend points (default: this stack's origin). */
        backendUrl?: string | undefined;
      }
    | undefined;
  /**
   * Where the origins keep boards: `true` starts a private redis-server for this stack, an
   * object chooses (see `StackRedisOptions`); without it the origins get no `REDIS_URL` and each
   * keeps the embedded store in its data file.
   */
  redis?: boolean | StackRedisOptions | undefined;
  /**
   * How many origins run behind Pushpin (default 1), each on its own port; more than one needs
   * `redis`. Pushpin sends every request to the first one that accepts the connection and moves
   * on to the next only when one refuses it (failover, not load balancing).
   */
  origins?: number | undefined;
  /** Every line the services write. */
  onLine?: ((service: StackServiceName, line: string) => void) | undefined;
}

/** The Redis a stack's origins share. */
export interface StackRedisOptions {
  /** A Redis that runs already: one URL, or a cluster's seed URLs separated by commas. */
  url?: string | undefined;
  /** A private Redis Cluster of six (three masters, a replica each) instead of one server. */
  cluster?: boolean | undefined;
  /** Where a private Redis keeps its files (default: in the stack's temporary dir). */
  dir?: string | undefined;
}

export interface StackUrls {
  /** The (first) origin itself, without Pushpin (no valid `Grip-Sig`: streams get 406). */
  origin: string;
  /** Every origin itself, the first being `origin`. */
  origins: readonly string[];
  /** The `REDIS_URL` the origins get, when they share a Redis. */
  redis: string | undefined;
  /** Through Pushpin: what a browser uses when there is no edge. */
  pushpin: string;
  /** Pushpin's publish endpoint (`POST <publish>publish/`). */
  publish: string;
  /** Through the edge in Viceroy, when the stack runs it. */
  edge: string | undefined;
  /** Where the origin publishes: the relay when there is one, else Pushpin's publish endpoint. */
  gripUrl: string;
}

/** One origin of a stack, by index; the same object across its restarts. */
export interface StackOrigin {
  readonly index: number;
  /** `origin` for the first, then `origin-1`, `origin-2`… */
  readonly name: StackServiceName;
  readonly port: number;
  readonly url: string;
  /** Its `DATA_FILE`: the stack's for the first, one of its own in the stack's dir for the others. */
  readonly dataFile: string;
  /** The current process (it changes when restarted). */
  service(): Service | undefined;
  running(): boolean;
  /** `kill -9`: nothing flushed, nothing closed. */
  kill(): Promise<void>;
  /** Graceful stop (SIGTERM). */
  stop(): Promise<void>;
  /** Starts it again after `kill()` or `stop()` (same port, same data); refuses while it runs. */
  start(): Promise<void>;
  /** Graceful stop when it runs, then start again. */
  restart(): Promise<void>;
}

/** Origins behind a Pushpin, and optionally Redis behind them and the edge in front, on one machine. */
export interface Stack {
  urls: StackUrls;
  ports: StackPorts;
  adminToken: string;
  gripKey: string;
  dataFile: string;
  /** The temporary dir of Pushpin's and Viceroy's files (and the default data file). */
  dir: string;
  /** The relay every publish goes through, when `relayPublishes` asked for one. */
  relay: PublishRelay | undefined;
  /** Every origin, in the order Pushpin tries them. */
  origins: readonly StackOrigin[];
  /** The Redis (server or cluster) this stack started for its origins, if it started one. */
  redis: RedisServer | RedisCluster | undefined;
  /** The current processes (they change when restarted); `origin()` is the first origin's. */
  origin(): Service | undefined;
  pushpin(): PushpinService | undefined;
  viceroy(): ViceroyService | undefined;
  /** Every service running now, in the order they started. */
  services(): Service[];
  /** The first origin: graceful stop, then start again on the same port with the same data. */
  restartOrigin(): Promise<void>;
  /** `kill -9` of the first origin: nothing flushed, nothing closed. */
  killOrigin(): Promise<void>;
  /** Starts the first origin again after `killOrigin()` (same port, same data). */
  startOriginAgain(): Promise<void>;
  /** Stops Pushpin and starts a new one on the same ports: every held stream is cut. */
  restartPushpin(): Promise<void>;
  /**
   * Stops everything, the edge first, then the origins, Pushpin and Redis, and removes the
   * temporary dir.
   */
  stop(): Promise<void>;
}

/**
 * Starts Redis when asked, then Pushpin, then the origins behind it, then (when asked) the edge
 * in Viceroy. The one way the whole product is started on a machine: by `npm start`, the tests,
 * the bench and the screenshots. Call `stop()` when done; the temporary dir also goes when this
 * process exits.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const originCount = checkOrigins(options);
  const dir = await mkdtemp(join(tmpdir(), 'leaderboard-'));
  // Once started, services are stopped by local/processes.ts at exit; their files go here.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const dataFile = options.dataFile ?? join(dir, 'leaderboard.json');
  const gripKey = options.gripKey ?? randomBytes(32).toString('base64url');
  const adminToken = options.adminToken ?? randomBytes(32).toString('base64url');
  const ports = await choosePorts(options, originCount);
  const publish = `http://127.0.0.1:${ports.publish}/`;
  const relay = options.relayPublishes ? await startPublishRelay(publish) : undefined;
  const urls = stackUrls(ports, relay);
  const printer = (name: StackServiceName) => {
    const { onLine } = options;
    return onLine === undefined ? undefined : (line: string) => onLine(name, line);
  };

  let redis: RedisServer | RedisCluster | undefined;
  let pushpin: PushpinService | undefined;
  let viceroy: ViceroyService | undefined;
  const stackOrigins = ports.origins.map((port, index) =>
    stackOrigin({
      index,
      port,
      dataFile: index === 0 ? dataFile : join(dir, `leaderboard.origin-${index}.json`),
      several: originCount > 1,
      start: (name, originDataFile) =>
        startOrigin({
          name,
          port,
          dataFile: originDataFile,
          gripUrl: urls.gripUrl,
          gripVerifyKey: gripKey,
          adminToken,
          redisUrl: urls.redis,
          env: options.origin?.env,
          nodeFlags: options.origin?.nodeFlags,
          onLine: printer(name),
        }),
      pushpinUrl: urls.pushpin,
    }),
  );

  const launchPushpin = async () => {
    pushpin = await startPushpin(pushpinOptions(options, dir, ports, gripKey, printer('pushpin')));
  };

  const stop = async () => {
    // The origins publish what waits as they stop: Pushpin goes after them, Redis last.
    await viceroy?.stop().catch(() => {});
    await Promise.allSettled(stackOrigins.map((origin) => origin.stop()));
    await pushpin?.stop().catch(() => {});
    await redis?.stop().catch(() => {});
    await relay?.close();
    process.off('exit', removeDir);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    if (options.redis !== undefined && options.redis !== false) {
      const started = await startStackRedis(options.redis, dir, printer);
      redis = started.redis;
      urls.redis = started.url;
    }
    // Pushpin before the origins: they publish to it as soon as something changes.
    await launchPushpin();
    for (const origin of stackOrigins) await origin.start();
    if (options.viceroy !== undefined && ports.edge !== undefined) {
      viceroy = await startViceroy({
        port: ports.edge,
        pushpinProxyPort: ports.pushpin,
        originUrl: options.viceroy.backendUrl ?? urls.origin,
        wasm: options.viceroy.wasm,
        dir: join(dir, 'viceroy'),
        bin: options.viceroy.bin,
        onLine: printer('viceroy'),
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const first = stackOrigins[0];
  if (first === undefined) throw new ServiceError('startStack: no origin');
  return {
    urls,
    ports,
    adminToken,
    gripKey,
    dataFile,
    dir,
    relay,
    origins: stackOrigins,
    redis,
    origin: () => first.service(),
    pushpin: () => pushpin,
    viceroy: () => viceroy,
    services: () =>
      [
        ...redisServices(redis),
        pushpin,
        ...stackOrigins.map((origin) => origin.service()),
        viceroy,
      ].filter(
        (service): service is Service => service !== undefined && service.exit() === undefined,
      ),
    restartOrigin: () => first.restart(),
    killOrigin: () => first.kill(),
    startOriginAgain: () => first.start(),
    async restartPushpin() {
      await pushpin?.stop();
      await launchPushpin();
    },
    stop,
  };
}

function pushpinOptions(
  options: StackOptions,
  dir: string,
  ports: StackPorts,
  sigKey: string,
  onLine: ((line: string) => void) | undefined,
): StartPushpinOptions {
  return {
    dir: join(dir, 'pushpin'),
    httpPort: ports.pushpin,
    publishPort: ports.publish,
    originPort: ports.origin,
    fallbackOriginPorts: ports.origins.slice(1),
    sigKey,
    messageRate: options.pushpin?.messageRate,
    messageHwm: options.pushpin?.messageHwm,
    logLevel: options.pushpin?.logLevel,
    onLine,
  };
}

// Every URL but Redis's, which is known once Redis runs.
function stackUrls(ports: StackPorts, relay: PublishRelay | undefined): StackUrls {
  const local = (port: number) => `http://127.0.0.1:${port}/`;
  const origins = ports.origins.map(local);
  const publish = local(ports.publish);
  return {
    origin: local(ports.origin),
    origins,
    redis: undefined,
    pushpin: local(ports.pushpin),
    publish,
    edge: ports.edge === undefined ? undefined : local(ports.edge),
    gripUrl: relay?.url ?? publish,
  };
}

// How many origins, refusing what cannot work.
function checkOrigins(options: StackOptions): number {
  const count = options.origins ?? 1;
  if (!Number.isInteger(count) || count < 1) {
    throw new ServiceError(`startStack: origins must be a whole number from 1, got ${count}.`);
  }
  const redis = options.redis ?? false;
  if (count > 1 && redis === false) {
    throw new ServiceError(
      `startStack: ${count} origins need redis (every origin sharing one Redis); with the embedded store each origin would keep boards of its own.`,
    );
  }
  if (typeof redis === 'object' && redis.url !== undefined && redis.cluster === true) {
    throw new ServiceError(
      'startStack: redis takes a url (a Redis that runs) or cluster: true (a private one), not both.',
    );
  }
  return count;
}

// The Redis the stack starts, or the URL it was given; and the REDIS_URL the origins get.
async function startStackRedis(
  choice: true | StackRedisOptions,
  dir: string,
  printer: (name: StackServiceName) => ((line: string) => void) | undefined,
): Promise<{ redis: RedisServer | RedisCluster | undefined; url: string }> {
  const wanted = choice === true ? {} : choice;
  if (wanted.url !== undefined) return { redis: undefined, url: wanted.url };
  if (wanted.cluster === true) {
    const cluster = await startRedisCluster({
      dir: wanted.dir ?? join(dir, 'redis-cluster'),
      onLine: (node, line) => printer(node as StackServiceName)?.(line),
    });
    return { redis: cluster, url: cluster.url };
  }
  const server = await startRedis({
    dir: wanted.dir ?? join(dir, 'redis'),
    onLine: printer('redis'),
  });
  return { redis: server, url: server.url };
}

function redisServices(redis: RedisServer | RedisCluster | undefined): Service[] {
  if (redis === undefined) return [];
  return redis.kind === 'cluster' ? [...redis.nodes] : [redis];
}

interface StackOriginSettings {
  index: number;
  port: number;
  dataFile: string;
  /** Whether the stack runs several origins: then each is checked through its own route. */
  several: boolean;
  start: (name: StackServiceName, dataFile: string) => Promise<Service>;
  pushpinUrl: string;
}

function stackOrigin(settings: StackOriginSettings): StackOrigin {
  const { index, port, dataFile } = settings;
  const name: StackServiceName = index === 0 ? 'origin' : `origin-${index}`;
  const url = `http://127.0.0.1:${port}/`;
  let service: Service | undefined;
  const running = () => service !== undefined && service.exit() === undefined;
  const start = async () => {
    if (running()) throw new ServiceError(`${name} is still running: stop or kill it first.`);
    service = await settings.start(name, dataFile);
    await waitThroughPushpin(settings, service);
  };
  return {
    index,
    name,
    port,
    url,
    dataFile,
    service: () => service,
    running,
    async kill() {
      await service?.kill9();
    },
    async stop() {
      await service?.stop();
    },
    start,
    async restart() {
      if (running()) await service?.stop();
      await start();
    },
  };
}

// Until the origin answers its health path through Pushpin: Pushpin's zurl reaches it. With
// several origins, through its own route (`Pushpin-Route: origin-<i>`), so that the answer is
// this origin's and not the first one's.
async function waitThroughPushpin(settings: StackOriginSettings, service: Service): Promise<void> {
  const throughPushpin = new URL(apiPaths.health(), settings.pushpinUrl).href;
  const fail = (why: string) =>
    new ServiceError(`${service.name} answers at ${service.url}, not through Pushpin: ${why}`);
  if (!settings.several) {
    await waitForHttp(throughPushpin, { service, status: 200, timeoutMs: 10_000 }).catch(
      (error: unknown) => {
        throw fail(error instanceof Error ? error.message : String(error));
      },
    );
    return;
  }
  const headers = { 'Pushpin-Route': `origin-${settings.index}` };
  const deadline = Date.now() + 10_000;
  let last = 'no answer';
  while (Date.now() < deadline && service.exit() === undefined) {
    try {
      const response = await fetch(throughPushpin, { headers, signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw fail(
    `${throughPushpin} (${headers['Pushpin-Route']}) gave ${last}.\n${formatLogs(service)}`,
  );
}

// The ports given, and free ones for the rest. Ports the kernel hands out one after another can
// repeat once each is released, so each new one is checked against those already chosen.
async function choosePorts(options: StackOptions, originCount: number): Promise<StackPorts> {
  const given = options.ports ?? {};
  const taken = new Set(
    [given.origin, given.pushpin, given.publish, given.edge, ...(given.origins ?? [])].filter(
      (port): port is number => port !== undefined,
    ),
  );
  const pick = async (port: number | undefined): Promise<number> => {
    if (port !== undefined) return port;
    for (;;) {
      const free = await freePort();
      if (!taken.has(free)) {
        taken.add(free);
        return free;
      }
    }
  };
  const origins: number[] = [];
  for (let i = 0; i < originCount; i++) {
    origins.push(await pick(given.origins?.[i] ?? (i === 0 ? given.origin : undefined)));
  }
  return {
    origin: origins[0] ?? (await pick(undefined)),
    origins,
    pushpin: await pick(given.pushpin),
    publish: await pick(given.publish),
    edge: options.viceroy === undefined ? undefined : await pick(given.edge),
  };
}
