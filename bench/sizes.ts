import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boardChannel, pageChannel } from '../contract/events.ts';
import { apiPaths } from '../contract/paths.ts';
import { freePort } from '../local/processes.ts';
import { preciseNow, type SeenPublish } from '../local/publish-relay.ts';
import { startBenchStack } from './fixture.ts';
import { scoreAddLoad } from './load.ts';
import { processMemory, watchCpu } from './proc.ts';
import type { ResetFigure, SizeRun } from './result.ts';
import { summarize } from './stats.ts';

// Boards of several sizes side by side, each on a fresh origin started from a data file written
// before it starts: +1 throughput, read latency, a stream's opening, bytes published per +1, RSS,
// start time, event-loop delay; then what a reset with N held viewers costs the origin.

export interface SizesOptions {
  boards: readonly number[];
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /** Sequential GETs per read figure (one at a time, nothing else running). */
  reads: number;
  /** Isolated +1s whose publishes are counted, one per `2 x publishIntervalMs`. */
  isolatedPlusOnes: number;
  publishIntervalMs: number;
  pushpinLogLevel: number;
  reset: { players: number; viewers: number; spreadMs: number };
}

const BOARD = 'b';
const say = (line: string) => process.stderr.write(`${line}\n`);

function database(players: number): string {
  const list = Array.from({ length: players }, (_, i) => ({
    id: `p${i}`,
    name: `Player ${i + 1}`,
    score: 10 * (players - i),
    scoredAt: i + 1,
  }));
  return JSON.stringify({
    boards: {
      [BOARD]: {
        id: BOARD,
        name: `${players} players`,
        order: 'desc',
        version: players,
        createdAt: new Date(0).toISOString(),
        players: list,
      },
    },
  });
}

async function withStack<T>(
  options: SizesOptions,
  players: number,
  extraEnv: NodeJS.ProcessEnv,
  body: (
    bench: Awaited<ReturnType<typeof startBenchStack>>,
    started: { ms: number; metricsUrl: string },
  ) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-sizes-'));
  try {
    const dataFile = join(dir, 'leaderboard.json');
    await writeFile(dataFile, database(players));
    const metricsPort = await freePort();
    const bench = await startBenchStack({
      publishIntervalMs: options.publishIntervalMs,
      pushpinLogLevel: options.pushpinLogLevel,
      dataFile,
      originEnv: {
        MAX_PLAYERS_PER_BOARD: String(Math.max(1_000_000, players)),
        METRICS_PORT: String(metricsPort),
        ...extraEnv,
      },
    });
    try {
      // Start time: the origin again from its data file, from spawn until /healthz answers.
      const stack = bench.stack;
      await stack.killOrigin();
      const from = preciseNow();
      await stack.startOriginAgain();
      const ms = preciseNow() - from;
      return await body(bench, {
        ms,
        metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      });
    } finally {
      await bench.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const name = match[1] as string;
    out.set(name, (out.get(name) ?? 0) + Number(match[3]));
  }
  return out;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(bytes)
          : reject(new Error(`${res.statusCode} from ${url}`)),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function readLatency(url: string, count: number) {
  for (let i = 0; i < Math.min(20, count); i++) await get(url); // warm-up
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const from = preciseNow();
    bytes = await get(url);
    samples.push(preciseNow() - from);
  }
  return { ...summarize(samples), bytes };
}

/**
 * Opens a stream through Pushpin: the time and bytes to its whole opening, a `board` event and
 * the window's pages (four for the top 100, fewer on a smaller board). Should fewer come, the
 * last byte received within 2 s is taken as the end.
 */
function openStream(url: string, pages: number): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const from = preciseNow();
    let bytes = 0;
    let lastAt = from;
    let text = '';
    const done = () => {
      clearTimeout(timer);
      req.destroy();
      resolve({ ms: lastAt - from, bytes });
    };
    const timer = setTimeout(done, 2_000);
    const req = httpRequest(url, { headers: { Accept: 'text/event-stream' } }, (res) => {
      res.on('data', (chunk: Buffer) => {
        lastAt = preciseNow();
        bytes += chunk.length;
        text += chunk.toString('utf8');
        const seen = text.split('\n\n').filter((block) => /^event: page$/m.test(block));
        if (seen.length >= pages && text.endsWith('\n\n')) done();
      });
      res.on('error', () => undefined);
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

function publishedBytes(
  seen: readonly SeenPublish[],
  from: number,
  to: number,
): { all: number; viewer: number; count: number } {
  const own = boardChannel(BOARD);
  const viewerChannels = new Set([own, ...[0, 1, 2, 3].map((p) => pageChannel(BOARD, p))]);
  let all = 0;
  let viewer = 0;
  let count = 0;
  for (const publish of seen) {
    if (publish.at < from || publish.at >= to) continue;
    if (publish.channel !== own && !publish.channel.startsWith(`${own}.p`)) continue;
    all += publish.bytes;
    count++;
    if (viewerChannels.has(publish.channel)) viewer += publish.bytes;
  }
  return { all, viewer, count };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureSizes(options: SizesOptions): Promise<SizeRun[]> {
  const runs: SizeRun[] = [];
  for (const players of options.boards) {
    say(`  board sizes: ${players.toLocaleString('en-US')} players`);
    const run = await withStack(options, players, {}, async (bench, started) => {
      const rssBytes = processMemory(bench.origin.pid).rssBytes;
      const boardUrl = new URL(apiPaths.board(BOARD), bench.originUrl);
      const top = await readLatency(`${boardUrl.href}?limit=100`, options.reads);
      const deep = `p${Math.floor(players * 0.75)}`;
      const around = await readLatency(`${boardUrl.href}?around=${deep}`, options.reads);
      const stream = await openStream(
        new URL(`${apiPaths.board(BOARD)}?limit=100`, bench.pushpinUrl).href,
        Math.min(4, Math.ceil(players / 25)),
      );

      // Isolated +1s, uniformly over the board: what one +1 publishes, uncoalesced.
      const ids = Array.from({ length: Math.min(players, 10_000) }, (_, i) =>
        players <= 10_000 ? `p${i}` : `p${Math.floor(Math.random() * players)}`,
      );
      const isoFrom = preciseNow();
      for (let i = 0; i < options.isolatedPlusOnes; i++) {
        await bench.direct.scoreAdd(BOARD, ids[(i * 7919) % ids.length] as string);
        await sleep(options.publishIntervalMs * 2);
      }
      await sleep(options.publishIntervalMs * 4);
      const iso = publishedBytes(bench.relay.seen, isoFrom, preciseNow());

      // +1 load straight to the origin, with the event loop's delay from its own metrics
      // (prom-client's monitorEventLoopDelay, reset at each scrape).
      const paths = ids.map((id) => apiPaths.scoreAdd(BOARD, id));
      const load = scoreAddLoad(bench.originUrl, paths, options.connections);
      if (options.warmupSeconds > 0) await load(options.warmupSeconds);
      await scrape(started.metricsUrl);
      const from = preciseNow();
      const cpu = watchCpu({ origin: () => [bench.origin.pid] });
      const measured = await load(options.seconds);
      const shares = cpu();
      const to = preciseNow();
      const metrics = await scrape(started.metricsUrl);
      await sleep(options.publishIntervalMs * 4);
      const underLoad = publishedBytes(bench.relay.seen, from, to + options.publishIntervalMs * 4);
      return {
        players,
        startMs: started.ms,
        rssBytes,
        rssAfterLoadBytes: processMemory(bench.origin.pid).rssBytes,
        plusOne: measured,
        originCpuPercent: shares.byPart.origin,
        ratioToSmallest: 0,
        eventLoopP99Ms: (metrics.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
        eventLoopMaxMs: (metrics.get('nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000,
        top100: top,
        around: around,
        streamOpen: stream,
        isolated: {
          plusOnes: options.isolatedPlusOnes,
          bytesPerPlusOne: iso.all / options.isolatedPlusOnes,
          viewerBytesPerPlusOne: iso.viewer / options.isolatedPlusOnes,
          publishesPerPlusOne: iso.count / options.isolatedPlusOnes,
        },
        underLoad: {
          bytesPerPlusOne: underLoad.all / Math.max(1, measured.ok),
          viewerBytesPerPlusOne: underLoad.viewer / Math.max(1, measured.ok),
        },
      } satisfies SizeRun;
    });
    runs.push(run);
  }
  const smallest = runs[0]?.plusOne.perSecond ?? 1;
  for (const run of runs) run.ratioToSmallest = run.plusOne.perSecond / smallest;
  return runs;
}

/** N held viewers of the top 100 through Pushpin; each reopens its stream after a `reload`. */
class Viewers {
  received = 0;
  reopened = 0;
  connected = 0;
  private readonly requests = new Set<ReturnType<typeof httpRequest>>();
  private closed = false;

  constructor(private readonly url: string) {}

  open(query: string, onOpened: () => void): void {
    if (this.closed) return;
    const req = httpRequest(
      `${this.url}?${query}`,
      { headers: { Accept: 'text/event-stream' } },
      (res: IncomingMessage) => {
        let buffer = '';
        let opened = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          if (!opened && buffer.includes('\n\n')) {
            opened = true;
            onOpened();
          }
          const reload = /event: reload\n(?:id: \d+\n)?data: (\{[^\n]*\})/.exec(buffer);
          if (reload !== null) {
            buffer = '';
            const data = JSON.parse(reload[1] as string) as { version: number; spreadMs: number };
            this.received++;
            req.destroy();
            this.requests.delete(req);
            setTimeout(() => {
              this.open(`limit=100&v=${data.version}`, () => {
                this.reopened++;
              });
            }, Math.random() * data.spreadMs);
          } else if (buffer.length > 1_000_000) {
            buffer = buffer.slice(-10_000);
          }
        });
        res.on('error', () => undefined);
      },
    );
    req.on('error', () => undefined);
    this.requests.add(req);
    req.end();
  }

  close(): void {
    this.closed = true;
    for (const req of this.requests) req.destroy();
    this.requests.clear();
  }
}

export async function measureReset(options: SizesOptions): Promise<ResetFigure> {
  const { players, viewers, spreadMs } = options.reset;
  say(`  reset: ${viewers} viewers of a ${players.toLocaleString('en-US')}-player board`);
  return withStack(
    options,
    players,
    { RELOAD_SPREAD_MS: String(spreadMs) },
    async (bench, started) => {
      const pool = new Viewers(new URL(apiPaths.board(BOARD), bench.pushpinUrl).href);
      try {
        const deadline = preciseNow() + 60_000;
        for (let i = 0; i < viewers; i++) {
          pool.open('limit=100', () => {
            pool.connected++;
          });
          if (i % 50 === 49) await sleep(20);
        }
        while (pool.connected < viewers && preciseNow() < deadline) await sleep(50);
        await sleep(500);
        const count = (m: Map<string, number>) =>
          m.get('leaderboard_http_request_duration_seconds_count') ?? 0;
        const before = count(await scrape(started.metricsUrl));
        const cpu = watchCpu({ origin: () => [bench.origin.pid] });
        const from = preciseNow();
        const reset = await bench.direct.request('POST', `boards/${BOARD}/reset/`, { admin: true });
        const resetMs = preciseNow() - from;
        if (reset.status !== 200) throw new Error(`reset answered ${reset.status}`);
        await sleep(spreadMs + 1_000);
        const shares = cpu();
        const after = count(await scrape(started.metricsUrl));
        return {
          players,
          viewers,
          connected: pool.connected,
          spreadMs,
          resetMs,
          reloadsReceived: pool.received,
          reopened: pool.reopened,
          // The reset request itself is one of them.
          originRequests: after - before - 1,
          originCpuPercent: shares.byPart.origin,
          originCpuMs: (shares.byPart.origin / 100) * shares.seconds * 1000,
          windowSeconds: shares.seconds,
        };
      } finally {
        pool.close();
      }
    },
  );
}
