import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin } from './origin.ts';
import { freePort, type Service, ServiceError } from './processes.ts';
import { type PushpinService, startPushpin } from './pushpin.ts';

export interface StackOptions {
  /** Extra environment for the origin (e.g. `PUBLISH_INTERVAL_MS`); wins over the stack's own. */
  originEnv?: NodeJS.ProcessEnv;
  /** Delivery limits of the stack's Pushpin (defaults: sized for 10,000 subscribers). */
  messageRate?: number;
  messageHwm?: number;
  /** Print every line the services write, prefixed with their name. Also `STACK_LOGS=1`. */
  echo?: boolean;
  /** Every line the services write (instead of `echo`). */
  onLine?: (service: 'origin' | 'pushpin', line: string) => void;
  /** Pushpin's log level (local/pushpin.ts's default otherwise). */
  pushpinLogLevel?: number;
  /** Node flags for the origin that NODE_OPTIONS refuses (e.g. `--cpu-prof`). */
  originNodeFlags?: string[];
}

/** An origin behind a Pushpin, on free ports, with a fresh data dir of its own. */
export interface Stack {
  /** The origin itself, without Pushpin (no valid `Grip-Sig`: streams get 406). */
  originUrl: string;
  /** Through Pushpin: what a browser would use. */
  pushpinUrl: string;
  /** Pushpin's publish endpoint (`POST <publishUrl>publish/`). */
  publishUrl: string;
  pushpinPort: number;
  adminToken: string;
  /** The HS256 secret Pushpin signs with and the origin verifies with. */
  gripKey: string;
  dataFile: string;
  /** The temp dir holding the data file and Pushpin's files; removed by `stop()`. */
  dir: string;
  /** The current processes (they change when restarted). */
  origin(): Service | undefined;
  pushpin(): PushpinService | undefined;
  /** Graceful stop, then start again on the same port with the same data. */
  restartOrigin(): Promise<void>;
  /** `kill -9` of the origin: nothing flushed, nothing closed. */
  killOrigin(): Promise<void>;
  /** Starts the origin again after `killOrigin()` (same port, same data). */
  startOriginAgain(): Promise<void>;
  /** Stops Pushpin and starts a new one on the same ports: every held stream is cut. */
  restartPushpin(): Promise<void>;
  /** Stops everything and removes the temp dir. */
  stop(): Promise<void>;
}

/** Starts origin + Pushpin for one test file; call `stop()` in `afterAll`. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'leaderboard-'));
  const dataFile = join(dir, 'leaderboard.json');
  const gripKey = randomBytes(32).toString('base64url');
  const adminToken = randomBytes(32).toString('base64url');
  const [originPort, pushpinPort, publishPort] = await distinctFreePorts();
  const echo = options.echo ?? process.env.STACK_LOGS === '1';
  const printer = (name: 'origin' | 'pushpin') => {
    const { onLine } = options;
    if (onLine !== undefined) return (line: string) => onLine(name, line);
    return echo ? (line: string) => process.stdout.write(`[${name}] ${line}\n`) : undefined;
  };

  const originUrl = `http://127.0.0.1:${originPort}/`;
  const pushpinUrl = `http://127.0.0.1:${pushpinPort}/`;
  const publishUrl = `http://127.0.0.1:${publishPort}/`;

  let origin: Service | undefined;
  let pushpin: PushpinService | undefined;

  const launchOrigin = async () => {
    origin = await startOrigin({
      port: originPort,
      dataFile,
      gripUrl: publishUrl,
      gripVerifyKey: gripKey,
      adminToken,
      env: options.originEnv,
      onLine: printer('origin'),
      ...(options.originNodeFlags === undefined ? {} : { nodeFlags: options.originNodeFlags }),
    });
  };
  const launchPushpin = async () => {
    pushpin = await startPushpin({
      dir: join(dir, 'pushpin'),
      httpPort: pushpinPort,
      publishPort,
      originPort,
      sigKey: gripKey,
      messageRate: options.messageRate,
      messageHwm: options.messageHwm,
      onLine: printer('pushpin'),
      ...(options.pushpinLogLevel === undefined ? {} : { logLevel: options.pushpinLogLevel }),
    });
  };

  const stop = async () => {
    await Promise.allSettled([origin?.stop(), pushpin?.stop()]);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // Pushpin first: the origin publishes to it as soon as something changes.
    await launchPushpin();
    await launchOrigin();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    originUrl,
    pushpinUrl,
    publishUrl,
    pushpinPort,
    adminToken,
    gripKey,
    dataFile,
    dir,
    origin: () => origin,
    pushpin: () => pushpin,
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

// Ports the kernel hands out one after another can repeat once each is released.
async function distinctFreePorts(): Promise<[number, number, number]> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [a = 0, b = 0, c = 0] = ports;
  return [a, b, c];
}
