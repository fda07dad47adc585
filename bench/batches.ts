import { Agent, request } from 'node:http';
import { apiPaths } from '../contract/paths.ts';
import { createdApiKeySchema } from '../contract/scores.ts';
import { createClient } from '../local/client.ts';
import { type Stack, type StackOptions, startStack } from '../local/stack.ts';
import { markdownTable } from './markdown.ts';
import { runHeader, type SectionRun, startSection } from './section.ts';
import { summarize } from './stats.ts';

// Score batches from game servers (`POST /boards/:id/scores/` with an API key): entries per second
// durable at batch sizes 1, 100 and 1,000, on the embedded store and on one Redis node. Straight
// to the origin's port (a batch is a plain JSON request: the edge and Pushpin only pass it on).
// A 200 comes only once the batch is durable (embedded: journal fsynced; Redis: `appendfsync
// always`), so acknowledged entries per second are durable entries per second.

/** How long and how hard each figure loads the origin. */
export interface BatchPlan {
  mode: 'full' | 'quick';
  /** Batch sizes measured, in entries. */
  sizes: readonly number[];
  /** Game servers sending batches at once, each its next as soon as the last is answered. */
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /** Players on the board (by external key) before the run; batches score random ones of them. */
  players: number;
}

const FULL: BatchPlan = {
  mode: 'full',
  sizes: [1, 100, 1_000],
  connections: 4,
  seconds: 5,
  warmupSeconds: 1,
  players: 10_000,
};

const QUICK: BatchPlan = { ...FULL, mode: 'quick', seconds: 1, warmupSeconds: 0.3, players: 2_000 };

export function batchPlan(mode: 'full' | 'quick'): BatchPlan {
  return mode === 'full' ? FULL : QUICK;
}

/** One figure: closed-loop batches of one size on one store. */
export interface BatchFigure {
  store: 'embedded' | 'redis';
  size: number;
  /** Batches answered 200 (durable), and the entries they carried. */
  batches: number;
  entries: number;
  batchesPerSecond: number;
  entriesPerSecond: number;
  /** Latency of one batch, request to answer, over the 200s. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers other than 200, and requests that got no answer. */
  non200: number;
  errors: number;
  seconds: number;
}

export interface BatchResult extends SectionRun {
  plan: BatchPlan;
  rows: BatchFigure[];
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Runs the `batches` section (`npm run bench -- --only batches`). */
export async function runBatches(plan: BatchPlan, command: string): Promise<BatchResult> {
  const section = await startSection('batches', plan.mode, command);
  const rows: BatchFigure[] = [];
  for (const store of ['embedded', 'redis'] as const) {
    say(`batches: ${store === 'embedded' ? 'embedded store' : 'Redis (one node)'}, 1 origin`);
    await withStack(store === 'redis' ? { redis: true } : {}, async (stack) => {
      const target = await prepare(stack, plan);
      for (const size of plan.sizes) {
        const bodies = batchBodies(plan.players, size);
        await closedLoop(target, bodies, plan.connections, plan.warmupSeconds);
        const run = await closedLoop(target, bodies, plan.connections, plan.seconds);
        const latency = summarize(run.latencies);
        const batches = run.latencies.length;
        rows.push({
          store,
          size,
          batches,
          entries: batches * size,
          batchesPerSecond: batches / run.seconds,
          entriesPerSecond: (batches * size) / run.seconds,
          p50Ms: latency.p50Ms,
          p99Ms: latency.p99Ms,
          maxMs: latency.maxMs,
          non200: run.non200,
          errors: run.errors,
          seconds: run.seconds,
        });
        say(`  ${size} per batch: ${Math.round(batches / run.seconds)} batches/s`);
      }
    });
  }
  return { ...section.finish(), plan, rows };
}

/** Where batches go: the origin, the board's scores path, and the API key's header. */
interface Target {
  url: URL;
  authorization: string;
}

/**
 * A `set` board (every entry moves its player) holding `plan.players` players made by external
 * key, and an API key for it with a rate no run reaches.
 */
async function prepare(stack: Stack, plan: BatchPlan): Promise<Target> {
  const api = createClient(stack.urls.origin, stack.adminToken);
  const made = await api.request('POST', apiPaths.boards(), {
    admin: true,
    body: { name: 'Batches', operator: 'set' },
  });
  if (made.status !== 201) throw new Error(`batches: board -> ${made.status}: ${made.text}`);
  const boardId = (made.body as { id: string }).id;
  for (let from = 0; from < plan.players; from += 1_000) {
    const entries = Array.from({ length: Math.min(1_000, plan.players - from) }, (_, i) => ({
      externalKey: `game:${from + i}`,
      name: `Gamer ${from + i}`,
      score: from + i,
    }));
    const seeded = await api.request('POST', apiPaths.scores(boardId), {
      admin: true,
      body: { entries },
    });
    if (seeded.status !== 200) throw new Error(`batches: seed -> ${seeded.status}: ${seeded.text}`);
  }
  const key = await api.request('POST', apiPaths.apiKeys(), {
    admin: true,
    body: { name: 'Bench', boards: [boardId], ratePerSecond: 100_000, burst: 100_000 },
  });
  if (key.status !== 201) throw new Error(`batches: API key -> ${key.status}: ${key.text}`);
  const { token } = createdApiKeySchema.parse(key.body);
  return {
    url: new URL(apiPaths.scores(boardId), stack.urls.origin),
    authorization: `Bearer ${token}`,
  };
}

/** Request bodies of `size` entries each: distinct random players, random scores. */
function batchBodies(players: number, size: number): string[] {
  return Array.from({ length: 64 }, () => {
    const picked = new Set<number>();
    while (picked.size < Math.min(size, players)) picked.add(Math.floor(Math.random() * players));
    const entries = [...picked].map((i) => ({
      externalKey: `game:${i}`,
      score: Math.floor(Math.random() * 1_000_000),
    }));
    return JSON.stringify({ entries });
  });
}

interface LoopRun {
  /** Milliseconds each 200 took. */
  latencies: number[];
  non200: number;
  errors: number;
  seconds: number;
}

/** `connections` senders, each posting its next batch as soon as the last is answered. */
async function closedLoop(
  target: Target,
  bodies: readonly string[],
  connections: number,
  seconds: number,
): Promise<LoopRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const run: LoopRun = { latencies: [], non200: 0, errors: 0, seconds };
  const started = performance.now();
  const until = started + seconds * 1000;
  let next = 0;
  const sender = async () => {
    while (performance.now() < until) {
      const body = bodies[next++ % bodies.length] ?? '';
      const from = performance.now();
      try {
        const status = await post(target, body, agent);
        if (status === 200) run.latencies.push(performance.now() - from);
        else run.non200++;
      } catch {
        run.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, sender));
  run.seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return run;
}

/** One batch; resolves with the status once the whole answer is read. */
function post(target: Target, body: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      target.url,
      {
        method: 'POST',
        agent,
        headers: {
          Authorization: target.authorization,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          Accept: 'application/json',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function withStack<T>(options: StackOptions, body: (stack: Stack) => Promise<T>): Promise<T> {
  const stack = await startStack({
    ...options,
    pushpin: { logLevel: 1 },
    onLine:
      process.env.BENCH_LOGS === '1'
        ? (service, line) => process.stderr.write(`[${service}] ${line}\n`)
        : undefined,
  });
  try {
    return await body(stack);
  } finally {
    await stack.stop();
  }
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(1) : int(n));

/** The section as Markdown: the run, then one row per store and batch size. */
export function formatBatches(result: BatchResult): string {
  const { plan } = result;
  const table = markdownTable(
    [
      'store',
      'entries/batch',
      'entries/s durable',
      'batches/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'non-200',
      'errors',
    ],
    result.rows.map((row) => [
      row.store === 'embedded' ? 'embedded (data file)' : 'Redis, one node',
      int(row.size),
      int(row.entriesPerSecond),
      int(row.batchesPerSecond),
      ms(row.p50Ms),
      ms(row.p99Ms),
      ms(row.maxMs),
      int(row.non200),
      int(row.errors),
    ]),
  );
  return [
    ...runHeader(result),
    `- Load: \`POST /boards/:id/scores/\` with an API key, straight to the origin's port, from ${plan.connections} senders in the bench process ` +
      `(each sends its next batch once the last is answered); a \`set\` board of ${int(plan.players)} players, each batch scoring distinct random ones ` +
      `by external key; ${plan.warmupSeconds} s warm-up, then ${plan.seconds} s measured per row. A 200 comes only once the batch is durable ` +
      '(embedded: journal fsynced; Redis: `appendfsync always`).',
    '',
    table,
  ].join('\n');
}
