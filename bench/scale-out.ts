import { importResultSchema } from '../contract/board.ts';
import { apiPaths } from '../contract/paths.ts';
import { createClient } from '../local/client.ts';
import { parseInfo, type RedisServer, startRedisCluster } from '../local/redis.ts';
import { type Stack, type StackOptions, startStack } from '../local/stack.ts';
import { clockTicksPerSecond, startCpuWindow } from './cpu-time.ts';
import { LIFTED_RATE_LIMIT } from './fixture.ts';
import { runLoad } from './load.ts';
import { sessionOf } from './proc.ts';
import type { LoadFigure } from './result.ts';
import { type SectionRun, startSection } from './section.ts';

// Scaling the origin out: durable `+1`s on the embedded store against Redis with one, two and
// three origins, the CPU each process spends per `+1`, a 1,000,000-player board on Redis, what
// WAIT costs on a Redis Cluster, and what one core per origin would give. Loopback only; the load
// goes to each origin's own port, since Pushpin sends a route's requests to its first origin only.

/** How long and how hard each figure loads the origins. */
export interface ScaleOutPlan {
  mode: 'full' | 'quick';
  /** Connections in all, split evenly over the origins loaded (48 divides by 1, 2 and 3). */
  connections: number;
  seconds: number;
  warmupSeconds: number;
  smallBoard: number;
  bigBoard: number;
  /** Origin counts on one Redis. */
  origins: readonly number[];
}

const FULL: ScaleOutPlan = {
  mode: 'full',
  connections: 48,
  seconds: 8,
  warmupSeconds: 2,
  smallBoard: 10,
  bigBoard: 1_000_000,
  origins: [1, 2, 3],
};

const QUICK: ScaleOutPlan = {
  ...FULL,
  mode: 'quick',
  connections: 24,
  seconds: 1.5,
  warmupSeconds: 0.5,
  bigBoard: 20_000,
};

export function scaleOutPlan(mode: 'full' | 'quick'): ScaleOutPlan {
  return mode === 'full' ? FULL : QUICK;
}

/** One figure: durable `+1`s against a stack's origins, and the CPU each process spent on them. */
export interface PlusOneFigure {
  store: 'embedded' | 'redis' | 'cluster';
  origins: number;
  players: number;
  /** `REDIS_WAIT_REPLICAS` the origins ran with (null: the embedded store). */
  waitReplicas: number | null;
  /** Acknowledged (2xx) `+1`s per second, all origins together. */
  perSecond: number;
  acked: number;
  /** The load of each origin, in order. */
  perOrigin: LoadFigure[];
  /** CPU ms each process spent over the measured window (Pushpin: all its programs). */
  cpuMs: { origins: number[]; redis: number; pushpin: number; bench: number };
  machineBusy: number;
  windowSeconds: number;
  /** Whether a Redis node was rewriting its append-only file during the window (a fork). */
  aofRewrite: boolean;
}

export interface ScaleOutResult extends SectionRun {
  clockTicks: number;
  plan: ScaleOutPlan;
  /** Embedded store, then one Redis with each origin count of the plan. */
  rows: PlusOneFigure[];
  /**
   * The big board, on the Redis and single origin of the first Redis row, measured between two
   * runs on that row's small board (before: the row itself), so that both sizes see the same
   * machine.
   */
  big: {
    players: number;
    importSeconds: number;
    importBytes: number;
    idsSeconds: number;
    row: PlusOneFigure;
    smallAfter: PlusOneFigure;
  };
  /** One origin on a six-node cluster, `REDIS_WAIT_REPLICAS` 1 then 0. */
  wait: PlusOneFigure[];
}

const say = (line: string) => process.stderr.write(`${line}\n`);
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const originCount = (n: number) => `${n} origin${n === 1 ? '' : 's'}`;

/** Runs the `scale-out` section (`npm run bench -- --only scale-out`). */
export async function runScaleOut(plan: ScaleOutPlan, command: string): Promise<ScaleOutResult> {
  const section = await startSection('scale-out', plan.mode, command);

  say('scale-out: embedded store, 1 origin');
  const rows = [
    await withStack({}, async (stack) => {
      const { paths } = await smallBoard(stack, plan.smallBoard);
      const players = plan.smallBoard;
      return measure(stack, plan, {
        redis: undefined,
        players,
        paths,
        store: 'embedded',
        waitReplicas: null,
      });
    }),
  ];
  let big: ScaleOutResult['big'] | undefined;
  for (const origins of plan.origins) {
    say(`scale-out: Redis (one node), ${originCount(origins)}`);
    await withStack({ redis: true, origins }, async (stack) => {
      const small = await smallBoard(stack, plan.smallBoard);
      rows.push(await measure(stack, plan, redisLoad(stack, plan.smallBoard, small.paths)));
      if (origins === 1) big = await bigBoard(stack, plan, small);
    });
  }
  if (big === undefined) {
    throw new Error('scale-out: the plan has no single-origin Redis row for the big board');
  }
  const wait = await waitFigures(plan);
  return {
    ...section.finish(),
    clockTicks: clockTicksPerSecond(),
    plan,
    rows,
    big,
    wait,
  };
}

/** One origin on a private six-node cluster, the same board with WAIT for one replica, then none. */
async function waitFigures(plan: ScaleOutPlan): Promise<PlusOneFigure[]> {
  say('scale-out: Redis Cluster (six nodes), 1 origin, REDIS_WAIT_REPLICAS 1 and 0');
  const cluster = await startRedisCluster({ onLine: benchLogger() });
  try {
    const figures: PlusOneFigure[] = [];
    let board: SmallBoard | undefined;
    for (const replicas of [1, 0]) {
      const options: StackOptions = {
        redis: { url: cluster.url },
        origin: { env: { REDIS_WAIT_REPLICAS: String(replicas) } },
      };
      await withStack(options, async (stack) => {
        board ??= await smallBoard(stack, plan.smallBoard);
        figures.push(
          await measure(stack, plan, {
            redis: cluster,
            players: plan.smallBoard,
            paths: board.paths,
            store: 'cluster',
            waitReplicas: replicas,
          }),
        );
      });
    }
    return figures;
  } finally {
    await cluster.stop();
  }
}

interface SmallBoard {
  boardId: string;
  paths: string[];
}

async function smallBoard(stack: Stack, players: number): Promise<SmallBoard> {
  const { boardId } = await importBoard(stack, players);
  const ids = await playerIds(stack, boardId);
  return { boardId, paths: randomPaths(boardId, ids, 10_000) };
}

/** What `measure` loads: a board of the stack's own Redis (one node, no WAIT). */
function redisLoad(stack: Stack, players: number, paths: readonly string[]): Load {
  return { redis: stack.redis, players, paths, store: 'redis', waitReplicas: 0 };
}

/**
 * Imports the big board, reads its ids back, loads it, then loads the small board again: the
 * machine is shared, and a figure far from its comparison would compare two machines.
 */
async function bigBoard(
  stack: Stack,
  plan: ScaleOutPlan,
  small: SmallBoard,
): Promise<ScaleOutResult['big']> {
  say(`scale-out: importing a board of ${plan.bigBoard.toLocaleString('en-US')} players`);
  const imported = await importBoard(stack, plan.bigBoard);
  say(`  imported in ${imported.seconds.toFixed(1)} s; reading its ids back (CSV export)`);
  const from = performance.now();
  const ids = await playerIds(stack, imported.boardId);
  const idsSeconds = (performance.now() - from) / 1000;
  if (ids.length !== plan.bigBoard) {
    throw new Error(`scale-out: the export holds ${ids.length} players, not ${plan.bigBoard}`);
  }
  say(
    `  ${ids.length} ids in ${idsSeconds.toFixed(1)} s; +1s on it, then on the small board again`,
  );
  const paths = randomPaths(imported.boardId, ids, 200_000);
  const row = await measure(stack, plan, redisLoad(stack, plan.bigBoard, paths));
  const smallAfter = await measure(stack, plan, redisLoad(stack, plan.smallBoard, small.paths));
  return {
    players: plan.bigBoard,
    importSeconds: imported.seconds,
    importBytes: imported.bytes,
    idsSeconds,
    row,
    smallAfter,
  };
}

interface Load {
  redis: Stack['redis'];
  players: number;
  paths: readonly string[];
  store: PlusOneFigure['store'];
  waitReplicas: number | null;
}

/**
 * Durable `+1`s on `paths`, the connections split evenly over every origin of the stack, each
 * origin loaded on its own port: a warm-up, then the measured run, with the CPU time of every
 * process read from /proc just before and just after it.
 */
async function measure(stack: Stack, plan: ScaleOutPlan, what: Load): Promise<PlusOneFigure> {
  const { paths } = what;
  const origins = stack.origins.map((origin) => {
    const pid = origin.service()?.pid;
    if (pid === undefined) throw new Error(`scale-out: ${origin.name} does not run`);
    return { url: origin.url, pid };
  });
  const pushpinPid = stack.pushpin()?.pid;
  if (pushpinPid === undefined) throw new Error('scale-out: Pushpin does not run');
  const connections = Math.max(1, Math.floor(plan.connections / origins.length));
  const load = (seconds: number) =>
    Promise.all(
      origins.map(({ url }, i) =>
        runLoad({
          url,
          method: 'POST',
          headers: { Accept: 'application/json' },
          // Each origin starts at another point of the same random sequence.
          paths: rotate(paths, Math.floor((i * paths.length) / origins.length)),
          connections,
          seconds,
        }),
      ),
    );
  await load(plan.warmupSeconds);
  const rewrites = await aofRewrites(redisNodes(what.redis));
  const window = startCpuWindow({
    origins: origins.map((o) => o.pid),
    redis: redisNodes(what.redis).map((node) => node.pid),
    pushpin: sessionOf(pushpinPid)(),
    bench: [process.pid],
  });
  const perOrigin = await load(plan.seconds);
  const cpu = window();
  const rewritesAfter = await aofRewrites(redisNodes(what.redis));
  return {
    store: what.store,
    origins: origins.length,
    players: what.players,
    waitReplicas: what.waitReplicas,
    perSecond: sum(perOrigin.map((run) => run.perSecond)),
    acked: sum(perOrigin.map((run) => run.ok)),
    perOrigin,
    cpuMs: {
      origins: cpu.ms.origins,
      redis: sum(cpu.ms.redis),
      pushpin: sum(cpu.ms.pushpin),
      bench: sum(cpu.ms.bench),
    },
    machineBusy: cpu.machineBusy,
    windowSeconds: cpu.seconds,
    aofRewrite: rewrites.busy || rewritesAfter.busy || rewrites.done !== rewritesAfter.done,
  };
}

function redisNodes(redis: Stack['redis']): readonly RedisServer[] {
  if (redis === undefined) return [];
  return redis.kind === 'cluster' ? redis.nodes : [redis];
}

/** AOF rewrites the nodes finished so far, and whether one is running or due now. */
async function aofRewrites(
  nodes: readonly RedisServer[],
): Promise<{ done: number; busy: boolean }> {
  let done = 0;
  let busy = false;
  for (const node of nodes) {
    const info = parseInfo(String(await node.command('INFO', 'persistence')));
    done += Number(info.get('aof_rewrites') ?? 0);
    busy ||=
      info.get('aof_rewrite_in_progress') === '1' || info.get('aof_rewrite_scheduled') === '1';
  }
  return { done, busy };
}

function rotate<T>(items: readonly T[], by: number): T[] {
  return [...items.slice(by), ...items.slice(0, by)];
}

/** `count` score-add paths of players drawn at random (with repeats) from `ids`. */
function randomPaths(boardId: string, ids: readonly string[], count: number): string[] {
  return Array.from({ length: count }, () => {
    const id = ids[Math.floor(Math.random() * ids.length)] ?? '';
    return apiPaths.scoreAdd(boardId, id);
  });
}

/**
 * A new board with `players` players, through the API import (`POST /boards/:id/import/`,
 * NDJSON, one request), with scores spread so that the ranking has work to do.
 */
async function importBoard(
  stack: Stack,
  players: number,
): Promise<{ boardId: string; seconds: number; bytes: number }> {
  const api = createClient(stack.urls.origin, stack.adminToken);
  const board = await api.createBoard(`${players.toLocaleString('en-US')} players`);
  const width = String(players).length;
  const lines: string[] = [];
  for (let i = 0; i < players; i++) {
    const name = `Player ${String(i + 1).padStart(width, '0')}`;
    lines.push(JSON.stringify({ name, score: (i * 7919) % 1_000_003 }));
  }
  const body = `${lines.join('\n')}\n`;
  const from = performance.now();
  const response = await fetch(new URL(apiPaths.import(board.id), stack.urls.origin), {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${stack.adminToken}`,
      'Content-Type': 'application/x-ndjson',
      Accept: 'application/json',
    },
    body,
  });
  const text = await response.text();
  const seconds = (performance.now() - from) / 1000;
  const result = importResultSchema.safeParse(safeJson(text));
  if (response.status !== 200 || !result.success || result.data.added !== players) {
    throw new Error(`scale-out: import of ${players} players -> ${response.status}: ${text}`);
  }
  return { boardId: board.id, seconds, bytes: Buffer.byteLength(body) };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Every player id of a board, from its CSV export (admin); the last column is the id. */
async function playerIds(stack: Stack, boardId: string): Promise<string[]> {
  const response = await fetch(
    new URL(`${apiPaths.boardExport(boardId)}?format=csv`, stack.urls.origin),
    { headers: { Authorization: `Bearer ${stack.adminToken}` } },
  );
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`scale-out: export of ${boardId} -> ${response.status}: ${text.slice(0, 300)}`);
  }
  return (
    text
      .split('\r\n')
      .slice(1)
      .filter((line) => line !== '')
      // An id starting with `-` (base64url) is exported with a leading apostrophe, which keeps a
      // spreadsheet from reading it as a formula; ids never hold commas or quotes.
      .map((line) => line.slice(line.lastIndexOf(',') + 1).replace(/^'/, ''))
  );
}

function benchLogger(): ((service: string, line: string) => void) | undefined {
  return process.env.BENCH_LOGS === '1'
    ? (service, line) => process.stderr.write(`[${service}] ${line}\n`)
    : undefined;
}

/** A stack for one figure (Pushpin at log level 1, the `+1` rate limit lifted), stopped after. */
async function withStack<T>(options: StackOptions, body: (stack: Stack) => Promise<T>): Promise<T> {
  const stack = await startStack({
    ...options,
    pushpin: { logLevel: 1 },
    origin: { env: { ...LIFTED_RATE_LIMIT, ...options.origin?.env } },
    onLine: benchLogger(),
  });
  try {
    return await body(stack);
  } finally {
    await stack.stop();
  }
}
