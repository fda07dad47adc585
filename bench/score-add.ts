import { boardChannel, pageChannel } from '../contract/events.ts';
import { apiPaths } from '../contract/paths.ts';
import { MAX_MESSAGE_BYTES } from '../contract/windows.ts';
import { preciseNow, type SeenPublish } from '../local/publish-relay.ts';
import { type BenchStack, createBoardWithPlayers } from './fixture.ts';
import { scoreAddLoad } from './load.ts';
import { benchParts, watchCpu } from './proc.ts';
import type { BenchResult, ScoreAddRun } from './result.ts';
import type { SubscriberPool } from './subscriber-pool.ts';

export interface ScoreAddOptions {
  /** Players on each measured board, e.g. [10, 10_000]. */
  boards: readonly number[];
  connections: number;
  seconds: number;
  warmupSeconds: number;
}

/**
 * Durable `+1` throughput, straight to the origin and through Pushpin, on boards of each size:
 * every answer counted is a 200, sent only once the write is fsynced. One SSE subscriber per
 * board (its top 100 rows) counts the page events that come out the other end; the relay counts
 * the publishes of every channel of the board.
 */
export async function measureScoreAdd(
  bench: BenchStack,
  pool: SubscriberPool,
  ceiling: BenchResult['ceiling'],
  options: ScoreAddOptions,
): Promise<ScoreAddRun[]> {
  const { relay, direct } = bench;
  const runs: ScoreAddRun[] = [];
  for (const players of options.boards) {
    const started = preciseNow();
    const { boardId, playerIds } = await createBoardWithPlayers(
      direct,
      `${players} players`,
      players,
    );
    const setupSeconds = (preciseNow() - started) / 1000;
    console.error(`  board of ${players} players created in ${setupSeconds.toFixed(1)} s`);
    const paths = playerIds.map((id) => apiPaths.scoreAdd(boardId, id));
    await pool.open(new URL(apiPaths.board(boardId), bench.pushpinUrl).href, 1);
    await pool.waitForVersion((await direct.getBoard(boardId, { limit: 1 })).version, 30_000);
    for (const via of ['origin', 'pushpin'] as const) {
      const url = via === 'origin' ? bench.originUrl : bench.pushpinUrl;
      const load = scoreAddLoad(url, paths, options.connections);
      if (options.warmupSeconds > 0) await load(options.warmupSeconds);
      await pool.mark();
      const from = preciseNow();
      const cpu = watchCpu(benchParts(bench.origin.pid, bench.pushpin.pid, () => pool.pids));
      const measured = await load(options.seconds);
      const shares = cpu();
      const to = preciseNow();
      const publishes = countPublishes(relay.seen, boardId, from, to);
      // Count what the subscriber got for this run, including the deliveries still on their way:
      // it has them once it has the last message published on its window's channels.
      await pool.waitForVersion(lastPublished(relay.seen, boardId, [0, 1, 2, 3]), 10_000);
      const report = await pool.report([]);
      runs.push({
        via,
        players,
        setupSeconds,
        load: measured,
        ratioToHttp: measured.perSecond / ceiling.http.perSecond,
        ratioToExpress: measured.perSecond / ceiling.express.perSecond,
        publishesPerSecond: publishes.count / ((to - from) / 1000),
        maxPublishesInOneSecond: publishes.maxInOneSecond,
        largestPublishBytes: publishes.largestBytes,
        updatesSeenPerSecond: report.updates / ((to - from) / 1000),
        cpu: { ...shares.byPart, machineBusy: shares.machineBusy, processes: shares.byProcess },
        originCpuMsPerScoreAdd: (shares.byPart.origin * 10) / Math.max(1, measured.perSecond),
      });
    }
    await pool.closeAll();
  }
  return runs;
}

/**
 * How many messages of one board, on its own channel or any of its pages', reached the relay in
 * [from, to): in total, on its busiest channel in the busiest whole second, and the largest.
 */
function countPublishes(
  seen: readonly SeenPublish[],
  boardId: string,
  from: number,
  to: number,
): { count: number; maxInOneSecond: number; largestBytes: number } {
  const own = boardChannel(boardId);
  const perChannelSecond = new Map<string, number>();
  let count = 0;
  let largestBytes = 0;
  for (const publish of seen) {
    if (publish.channel !== own && !publish.channel.startsWith(`${own}.p`)) continue;
    if (publish.at < from || publish.at >= to) continue;
    count++;
    largestBytes = Math.max(largestBytes, publish.bytes);
    const key = `${publish.channel} ${Math.floor((publish.at - from) / 1000)}`;
    perChannelSecond.set(key, (perChannelSecond.get(key) ?? 0) + 1);
  }
  return { count, maxInOneSecond: Math.max(0, ...perChannelSecond.values()), largestBytes };
}

/** The id of the last message published on the board's channel or these pages' channels. */
function lastPublished(seen: readonly SeenPublish[], boardId: string, pages: number[]): number {
  const channels = new Set([boardChannel(boardId), ...pages.map((p) => pageChannel(boardId, p))]);
  let last = -1;
  for (const publish of seen) {
    if (channels.has(publish.channel) && !Number.isNaN(publish.id)) {
      last = Math.max(last, publish.id);
    }
  }
  return last;
}

/** Publishes per second per channel at the highest `+1` rate measured, against the bound. */
export function amplification(
  runs: readonly ScoreAddRun[],
  publishIntervalMs: number,
): BenchResult['amplification'] {
  const fastest = runs.reduce((best, run) =>
    run.load.perSecond > best.load.perSecond ? run : best,
  );
  // At most one publish per channel per interval, and a second can hold the start of one more.
  const boundPerSecond =
    publishIntervalMs > 0 ? 1000 / publishIntervalMs + 1 : Number.POSITIVE_INFINITY;
  return {
    publishIntervalMs,
    boundPerSecond: Number.isFinite(boundPerSecond) ? boundPerSecond : -1,
    atScoreAddsPerSecond: fastest.load.perSecond,
    publishesPerSecond: fastest.publishesPerSecond,
    maxPublishesInOneSecond: fastest.maxPublishesInOneSecond,
    bounded: fastest.maxPublishesInOneSecond <= boundPerSecond,
    largestPublishBytes: Math.max(...runs.map((run) => run.largestPublishBytes ?? 0)),
    publishCapBytes: MAX_MESSAGE_BYTES,
  };
}
