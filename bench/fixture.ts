import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RankedPlayer } from '../contract/board.ts';
import { type Client, createClient } from '../local/client.ts';
import type { Service } from '../local/processes.ts';
import type { PublishRelay } from '../local/publish-relay.ts';
import type { PushpinService } from '../local/pushpin.ts';
import { type Stack, type StackServiceName, startStack } from '../local/stack.ts';

/**
 * What the benchmark lifts from the origin's defaults, and why: every load client is 127.0.0.1,
 * so the per-client `+1` limit (10/s, burst 30) would measure the limiter, not the origin.
 */
export const LIFTED_RATE_LIMIT = { SCORE_RATE_PER_SECOND: '1000000', SCORE_BURST: '1000000' };

/** A real origin behind a real Pushpin, with the recording relay on the publish path. */
export interface BenchStack {
  originUrl: string;
  pushpinUrl: string;
  origin: Service;
  pushpin: PushpinService;
  relay: PublishRelay;
  /** The stack itself (to restart the origin); `origin` is always its current process. */
  stack: Stack;
  /** Straight to the origin, with the admin token. */
  direct: Client;
  publishIntervalMs: number;
  /** Where the origin writes heap snapshots on SIGUSR2 (see heap.ts). */
  heapDir: string;
  /** Pushpin's settings as written in its config file. */
  pushpinSettings: { logLevel: number; messageRate: number; messageHwm: number };
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  publishIntervalMs: number;
  /**
   * Pushpin's log level, set here so a `PUSHPIN_LOG_LEVEL` left in the environment does not change
   * the figures. At 2 (info) it logs three lines per proxied request, which costs the proxy and
   * its runner CPU; 1 (warnings, local/pushpin.ts's default) logs none.
   */
  pushpinLogLevel: number;
  /** Delivery rate and queue; undefined keeps local/pushpin.ts's defaults. */
  messageRate?: number | undefined;
  messageHwm?: number | undefined;
  /** More origin environment. */
  originEnv?: NodeJS.ProcessEnv | undefined;
  /** Node flags for the origin that NODE_OPTIONS refuses (e.g. `--cpu-prof`). */
  originNodeFlags?: readonly string[] | undefined;
  /** Every line the services write; `BENCH_LOGS=1` prints them to stderr. */
  onLine?: ((service: StackServiceName, line: string) => void) | undefined;
  /** A data file to start from (default: a new empty one in the stack's temporary dir). */
  dataFile?: string | undefined;
}

/**
 * Starts Pushpin and the origin with local/stack.ts's `startStack` (as `npm start` does, but on
 * free ports, in a temporary directory); publishes go through the recording relay.
 */
export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const heapDir = await mkdtemp(join(tmpdir(), 'bench-heap-'));
  const onLine =
    options.onLine ??
    (process.env.BENCH_LOGS === '1'
      ? (service: string, line: string) => process.stderr.write(`[${service}] ${line}\n`)
      : undefined);
  let stack: Stack;
  try {
    stack = await startStack({
      relayPublishes: true,
      dataFile: options.dataFile,
      pushpin: {
        logLevel: options.pushpinLogLevel,
        messageRate: options.messageRate,
        messageHwm: options.messageHwm,
      },
      origin: {
        nodeFlags: options.originNodeFlags,
        env: {
          ...LIFTED_RATE_LIMIT,
          PUBLISH_INTERVAL_MS: String(options.publishIntervalMs),
          ...options.originEnv,
          NODE_OPTIONS: [
            `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${heapDir}`,
            options.originEnv?.NODE_OPTIONS ?? '',
          ].join(' '),
        },
      },
      onLine,
    });
  } catch (error) {
    await rm(heapDir, { recursive: true, force: true });
    throw error;
  }
  const origin = stack.origin();
  const pushpin = stack.pushpin();
  const { relay } = stack;
  if (origin === undefined || pushpin === undefined || relay === undefined) {
    throw new Error('the stack did not start');
  }
  const config = await readFile(pushpin.configFile, 'utf8');
  const setting = (name: string) =>
    Number(new RegExp(`^${name}=(\\d+)$`, 'm').exec(config)?.[1] ?? -1);
  return {
    originUrl: stack.urls.origin,
    pushpinUrl: stack.urls.pushpin,
    get origin() {
      return stack.origin() ?? origin;
    },
    pushpin,
    relay,
    stack,
    direct: createClient(stack.urls.origin, stack.adminToken),
    publishIntervalMs: options.publishIntervalMs,
    heapDir,
    pushpinSettings: {
      logLevel: setting('log_level'),
      messageRate: setting('message_rate'),
      messageHwm: setting('message_hwm'),
    },
    stop: async () => {
      await stack.stop();
      await rm(heapDir, { recursive: true, force: true });
    },
  };
}

/**
 * A new board with `players` players, created through the admin API (`concurrency` requests in
 * flight, so the origin's group commit shares the file writes as it would under real use).
 */
export async function createBoardWithPlayers(
  api: Client,
  name: string,
  players: number,
  concurrency = 32,
): Promise<{ boardId: string; playerIds: string[] }> {
  const board = await api.createBoard(name);
  const created: RankedPlayer[] = [];
  let next = 0;
  const width = String(players).length;
  const lane = async () => {
    while (next < players) {
      const index = next++;
      created.push(
        await api.addPlayer(board.id, `Player ${String(index + 1).padStart(width, '0')}`),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, players) }, lane));
  return { boardId: board.id, playerIds: created.map((p) => p.id) };
}
