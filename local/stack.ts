import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiPaths } from '../contract/paths.ts';
import { startOrigin } from './origin.ts';
import { freePort, type Service, ServiceError, waitForHttp } from './processes.ts';
import { type PublishRelay, startPublishRelay } from './publish-relay.ts';
import { type PushpinService, startPushpin } from './pushpin.ts';
import { startViceroy, type ViceroyService } from './viceroy.ts';

/** The services of a stack, as named in `onLine`. */
export type StackServiceName = 'pushpin' | 'origin' | 'viceroy';

export interface StackPorts {
  origin: number;
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
  /** Every line the services write. */
  onLine?: ((service: StackServiceName, line: string) => void) | undefined;
}

export interface StackUrls {
  /** The origin itself, without Pushpin (no valid `Grip-Sig`: streams get 406). */
  origin: string;
  /** Through Pushpin: what a browser uses when there is no edge. */
  pushpin: string;
  /** Pushpin's publish endpoint (`POST <publish>publish/`). */
  publish: string;
  /** Through the edge in Viceroy, when the stack runs it. */
  edge: string | undefined;
  /** Where the origin publishes: the relay when there is one, else Pushpin's publish endpoint. */
  gripUrl: string;
}

/** An origin behind a Pushpin, and optionally the edge in front, on one machine. */
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
  /** The current processes (they change when restarted). */
  origin(): Service | undefined;
  pushpin(): PushpinService | undefined;
  viceroy(): ViceroyService | undefined;
  /** Every service running now, in the order they started. */
  services(): Service[];
  /** Graceful stop, then start again on the same port with the same data. */
  restartOrigin(): Promise<void>;
  /** `kill -9` of the origin: nothing flushed, nothing closed. */
  killOrigin(): Promise<void>;
  /** Starts the origin again after `killOrigin()` (same port, same data). */
  startOriginAgain(): Promise<void>;
  /** Stops Pushpin and starts a new one on the same ports: every held stream is cut. */
  restartPushpin(): Promise<void>;
  /** Stops everything, the edge first and Pushpin last, and removes the temporary dir. */
  stop(): Promise<void>;
}

/**
 * Starts Pushpin, then the origin behind it, then (when asked) the edge in Viceroy. The one way
 * the whole product is started on a machine: by `npm start`, the tests, the bench and the
 * screenshots. Call `stop()` when done; the temporary dir also goes when this process exits.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'leaderboard-'));
  // Once started, services are stopped by local/processes.ts at exit; their files go here.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const dataFile = options.dataFile ?? join(dir, 'leaderboard.json');
  const gripKey = options.gripKey ?? randomBytes(32).toString('base64url');
  const adminToken = options.adminToken ?? randomBytes(32).toString('base64url');
  const ports = await choosePorts(options);
  const publish = `http://127.0.0.1:${ports.publish}/`;
  const relay = options.relayPublishes ? await startPublishRelay(publish) : undefined;
  const urls: StackUrls = {
    origin: `http://127.0.0.1:${ports.origin}/`,
    pushpin: `http://127.0.0.1:${ports.pushpin}/`,
    publish,
    edge: ports.edge === undefined ? undefined : `http://127.0.0.1:${ports.edge}/`,
    gripUrl: relay?.url ?? publish,
  };
  const printer = (name: StackServiceName) => {
    const { onLine } = options;
    return onLine === undefined ? undefined : (line: string) => onLine(name, line);
  };

  let origin: Service | undefined;
  let pushpin: PushpinService | undefined;
  let viceroy: ViceroyService | undefined;

  const launchOrigin = async () => {
    origin = await startOrigin({
      port: ports.origin,
      dataFile,
      gripUrl: urls.gripUrl,
      gripVerifyKey: gripKey,
      adminToken,
      env: options.origin?.env,
      nodeFlags: options.origin?.nodeFlags,
      onLine: printer('origin'),
    });
    // The route too: Pushpin's zurl reaches the origin.
    const throughPushpin = new URL(apiPaths.health(), urls.pushpin).href;
    await waitForHttp(throughPushpin, { service: origin, status: 200, timeoutMs: 10_000 }).catch(
      (error: unknown) => {
        const why = error instanceof Error ? error.message : String(error);
        throw new ServiceError(`The origin answers at ${urls.origin}, not through Pushpin: ${why}`);
      },
    );
  };
  const launchPushpin = async () => {
    pushpin = await startPushpin({
      dir: join(dir, 'pushpin'),
      httpPort: ports.pushpin,
      publishPort: ports.publish,
      originPort: ports.origin,
      sigKey: gripKey,
      messageRate: options.pushpin?.messageRate,
      messageHwm: options.pushpin?.messageHwm,
      logLevel: options.pushpin?.logLevel,
      onLine: printer('pushpin'),
    });
  };
  const launchViceroy = async (edge: NonNullable<StackOptions['viceroy']>, port: number) => {
    viceroy = await startViceroy({
      port,
      pushpinProxyPort: ports.pushpin,
      originUrl: edge.backendUrl ?? urls.origin,
      wasm: edge.wasm,
      dir: join(dir, 'viceroy'),
      bin: edge.bin,
      onLine: printer('viceroy'),
    });
  };

  const stop = async () => {
    // The origin publishes what waits as it stops: Pushpin goes after it.
    for (const service of [viceroy, origin, pushpin]) await service?.stop().catch(() => {});
    await relay?.close();
    process.off('exit', removeDir);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // Pushpin first: the origin publishes to it as soon as something changes.
    await launchPushpin();
    await launchOrigin();
    if (options.viceroy !== undefined && ports.edge !== undefined) {
      await launchViceroy(options.viceroy, ports.edge);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    urls,
    ports,
    adminToken,
    gripKey,
    dataFile,
    dir,
    relay,
    origin: () => origin,
    pushpin: () => pushpin,
    viceroy: () => viceroy,
    services: () =>
      [pushpin, origin, viceroy].filter(
        (service): service is Service => service !== undefined && service.exit() === undefined,
      ),
    async restartOrigin() {
      await origin?.stop();
      await launchOrigin();
    },
    async killOrigin() {
      await origin?.kill9();
    },
    async startOriginAgain() {
      if (origin?.exit() === undefined)
        throw new ServiceError('startOriginAgain: the origin is still running');
      await launchOrigin();
    },
    async restartPushpin() {
      await pushpin?.stop();
      await launchPushpin();
    },
    stop,
  };
}

// The ports given, and free ones for the rest. Ports the kernel hands out one after another can
// repeat once each is released, so each new one is checked against those already chosen.
async function choosePorts(options: StackOptions): Promise<StackPorts> {
  const given = options.ports ?? {};
  const taken = new Set(Object.values(given).filter((port): port is number => port !== undefined));
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
  return {
    origin: await pick(given.origin),
    pushpin: await pick(given.pushpin),
    publish: await pick(given.publish),
    edge: options.viceroy === undefined ? undefined : await pick(given.edge),
  };
}
