import { preciseNow } from '../local/publish-relay.ts';
import { detectPushpin } from '../local/pushpin.ts';
import { measureCeiling } from './ceiling.ts';
import { measureDisk } from './disk.ts';
import { measureFanout } from './fanout.ts';
import { LIFTED_RATE_LIMIT, startBenchStack } from './fixture.ts';
import { describeMachine, machineLoad, openFilesLimit, sourceState } from './machine.ts';
import type { BenchPlan } from './plan.ts';
import type { BenchResult, Goal, SizesFigure, SizesOnlyResult } from './result.ts';
import { amplification, measureScoreAdd } from './score-add.ts';
import { measureReset, measureSizes } from './sizes.ts';
import { SubscriberPool } from './subscriber-pool.ts';

/** Progress lines go to stderr so stdout holds only the table. */
const say = (line: string) => process.stderr.write(`${line}\n`);

/** Runs every section of the benchmark once, in an order that keeps each one fair. */
export async function runSuite(plan: BenchPlan, command: string): Promise<BenchResult> {
  const started = preciseNow();
  const loadBefore = machineLoad();
  const source = sourceState();
  const version = await detectPushpin();
  const machine = describeMachine(`${version.major}.${version.minor}.${version.patch}`);
  const biggest = Math.max(...plan.fanout.steps.map((s) => s.subscribers));
  // Pushpin holds one descriptor per subscriber; each subscriber process holds its share.
  if (machine.openFilesLimit >= 0 && machine.openFilesLimit < biggest + 1_000) {
    say(
      `warning: the open-files limit is ${openFilesLimit()}, too low for ${biggest} subscribers: ` +
        'raise it with `ulimit -n` in the shell that runs the bench',
    );
  }
  say(`bench (${plan.mode}) on ${machine.cores} cores, ${loadBefore.uptime}`);

  say('ceiling: minimal node:http and Express apps');
  const ceiling = await measureCeiling({
    connections: plan.connections,
    seconds: plan.loadSeconds,
    warmupSeconds: plan.warmupSeconds,
  });

  say('disk: durable replace of a small and a large data file');
  const disk = await measureDisk({ seconds: plan.diskSeconds });

  const bench = await startBenchStack({
    publishIntervalMs: plan.publishIntervalMs,
    pushpinLogLevel: plan.pushpinLogLevel,
  });
  const pool = await SubscriberPool.start(plan.subscriberProcesses);
  let sections: Omit<BenchResult, 'goals' | 'sizes'>;
  try {
    // Fan-out first, on a fresh origin: the held-memory figure should not carry the garbage of
    // the `+1` storms.
    say(
      `fan-out: ${plan.fanout.steps.map((s) => s.subscribers).join(', ')} subscribers through Pushpin`,
    );
    const { fanout, held } = await measureFanout(bench, pool, plan.fanout);
    say(`+1: boards of ${plan.scoreAdd.boards.join(' and ')} players`);
    const scoreAdd = await measureScoreAdd(bench, pool, ceiling, plan.scoreAdd);
    const loadAfter = machineLoad();
    sections = {
      ...runHeader({ plan, command, started, source, machine, loadBefore, loadAfter }),
      settings: {
        connections: plan.connections,
        loadSeconds: plan.loadSeconds,
        publishIntervalMs: plan.publishIntervalMs,
        scoreRateLimit: `lifted: SCORE_RATE_PER_SECOND=${LIFTED_RATE_LIMIT.SCORE_RATE_PER_SECOND}, SCORE_BURST=${LIFTED_RATE_LIMIT.SCORE_BURST}`,
        pushpinLogLevel: bench.pushpinSettings.logLevel,
        pushpinMessageRate: bench.pushpinSettings.messageRate,
        pushpinMessageHwm: bench.pushpinSettings.messageHwm,
        subscriberProcesses: plan.subscriberProcesses,
      },
      ceiling,
      disk,
      scoreAdd,
      fanout,
      held,
      amplification: amplification(scoreAdd, plan.publishIntervalMs),
    };
  } finally {
    await pool.stop();
    await bench.stop();
  }
  // Each board size on an origin of its own, once the shared stack is gone.
  const sizes = await measureAllSizes(plan);
  const result: BenchResult = {
    ...sections,
    seconds: (preciseNow() - started) / 1000,
    load: { ...sections.load, after: machineLoad().averages, uptimeAfter: machineLoad().uptime },
    sizes,
    goals: [],
  };
  result.goals = goalsOf(result);
  return result;
}

/** The `board sizes` section alone (`npm run bench -- --only sizes`). */
export async function measureAllSizes(plan: BenchPlan): Promise<SizesFigure> {
  const options = {
    ...plan.sizes,
    publishIntervalMs: plan.publishIntervalMs,
    pushpinLogLevel: plan.pushpinLogLevel,
  };
  say(`board sizes: ${plan.sizes.boards.join(', ')} players, each on a fresh origin`);
  const runs = await measureSizes(options);
  const reset = await measureReset(options);
  return { runs, reset };
}

/** The board-size goals of issue 11 (printed, never asserted). */
export function sizeGoals(sizes: SizesFigure): Goal[] {
  const int = (n: number) => Math.round(n).toLocaleString('en-US');
  const goals: Goal[] = [];
  const smallest = sizes.runs[0];
  const largest = sizes.runs.at(-1);
  if (smallest !== undefined && largest !== undefined && largest !== smallest) {
    goals.push({
      name: `durable +1/s, ${int(largest.players)} players against ${int(smallest.players)}`,
      target: '>= 80%',
      measured: `${int(largest.plusOne.perSecond)}/s against ${int(smallest.plusOne.perSecond)}/s (${Math.round(largest.ratioToSmallest * 100)}%)`,
      met: largest.ratioToSmallest >= 0.8,
    });
  }
  for (const run of sizes.runs) {
    const worst = Math.max(run.top100.p99Ms, run.around.p99Ms);
    goals.push({
      name: `GET top 100 and around a player, p99, ${int(run.players)} players`,
      target: '<= 5 ms',
      measured: `${run.top100.p99Ms.toFixed(2)} ms and ${run.around.p99Ms.toFixed(2)} ms`,
      met: worst <= 5,
    });
  }
  return goals;
}

/** The goals, checked against what was measured (printed, never asserted). */
export function goalsOf(result: BenchResult): Goal[] {
  const goals: Goal[] = [];
  const int = (n: number) => Math.round(n).toLocaleString('en-US');
  for (const run of result.scoreAdd) {
    if (run.via === 'origin') {
      goals.push({
        name: `durable +1 straight to the origin, 1 board x ${int(run.players)}`,
        target: `>= 50% of minimal Express (${int(result.ceiling.express.perSecond / 2)}/s)`,
        measured: `${int(run.load.perSecond)}/s (${Math.round(run.ratioToExpress * 100)}%)`,
        met: run.ratioToExpress >= 0.5,
      });
    } else {
      goals.push({
        name: `durable +1 through Pushpin, 1 board x ${int(run.players)}`,
        target: '>= 2,000/s',
        measured: `${int(run.load.perSecond)}/s`,
        met: run.load.perSecond >= 2_000,
      });
    }
  }
  const limits: Record<number, number> = { 1000: 50, 10000: 250 };
  for (const run of result.fanout) {
    const limit = limits[run.subscribers];
    if (limit === undefined) continue;
    goals.push({
      name: `fan-out p99 at N=${int(run.subscribers)}`,
      target: `<= ${limit} ms`,
      measured: `${run.publishToReceive.p99Ms.toFixed(1)} ms`,
      met: run.publishToReceive.p99Ms <= limit,
    });
  }
  const delivered = result.fanout.every((run) => run.deliveredAll === run.subscribers);
  goals.push({
    name: 'every subscriber got every update, at every N',
    target: '100%',
    measured: result.fanout
      .map((run) => `${(run.deliveredShare * 100).toFixed(run.deliveredShare === 1 ? 0 : 2)}%`)
      .join(', '),
    met: delivered,
  });
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const kept = result.held.originLiveHeapHeldBytes - result.held.originLiveHeapClosedBytes;
  goals.push({
    name: `origin RSS growth for ${int(result.held.subscribers)} held subscribers`,
    target: '< 10 MB',
    measured: `${mb(result.held.originGrowthBytes)} (live heap kept for them: ${mb(kept)})`,
    met: result.held.originGrowthBytes < 10 * 1024 * 1024,
  });
  goals.push({
    name: 'publishes per channel per second at the highest +1 rate',
    target: `<= ${result.amplification.boundPerSecond} (one per ${result.amplification.publishIntervalMs} ms)`,
    measured: `${result.amplification.maxPublishesInOneSecond} in the busiest second at ${int(result.amplification.atScoreAddsPerSecond)} +1/s`,
    met: result.amplification.bounded,
  });
  if (result.sizes !== undefined) goals.push(...sizeGoals(result.sizes));
  const { largestPublishBytes, publishCapBytes } = result.amplification;
  if (largestPublishBytes !== undefined && publishCapBytes !== undefined) {
    goals.push({
      name: 'largest message published under +1 load',
      target: `<= ${int(publishCapBytes)} bytes (Fanout's cap)`,
      measured: `${int(largestPublishBytes)} bytes`,
      met: largestPublishBytes <= publishCapBytes,
    });
  }
  return goals;
}

/** Only the board-sizes section, with what says where it ran. */
export async function runSizesOnly(plan: BenchPlan, command: string): Promise<SizesOnlyResult> {
  const started = preciseNow();
  const loadBefore = machineLoad();
  const source = sourceState();
  const version = await detectPushpin();
  const machine = describeMachine(`${version.major}.${version.minor}.${version.patch}`);
  say(`bench (${plan.mode}, board sizes only) on ${machine.cores} cores, ${loadBefore.uptime}`);
  const sizes = await measureAllSizes(plan);
  const loadAfter = machineLoad();
  return {
    ...runHeader({ plan, command, started, source, machine, loadBefore, loadAfter }),
    sizes,
    goals: sizeGoals(sizes),
  };
}

/** What every result file says of its run: which, when, how long, on what, under what load. */
function runHeader(run: {
  plan: BenchPlan;
  command: string;
  started: number;
  source: ReturnType<typeof sourceState>;
  machine: ReturnType<typeof describeMachine>;
  loadBefore: ReturnType<typeof machineLoad>;
  loadAfter: ReturnType<typeof machineLoad>;
}) {
  return {
    schema: 1 as const,
    mode: run.plan.mode,
    command: run.command,
    date: new Date().toISOString(),
    seconds: (preciseNow() - run.started) / 1000,
    source: run.source,
    machine: run.machine,
    load: {
      before: run.loadBefore.averages,
      after: run.loadAfter.averages,
      uptimeBefore: run.loadBefore.uptime,
      uptimeAfter: run.loadAfter.uptime,
    },
  };
}
