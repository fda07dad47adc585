import type { FanoutOptions } from './fanout.ts';
import type { ScoreAddOptions } from './score-add.ts';
import type { SizesOptions } from './sizes.ts';

/** Everything that sizes one run; `full` is what the published figures use. */
export interface BenchPlan {
  mode: 'full' | 'quick';
  connections: number;
  loadSeconds: number;
  warmupSeconds: number;
  /** Split between the small and the large data file. */
  diskSeconds: number;
  /** The origin's default coalescing interval, stated so the result says what it ran with. */
  publishIntervalMs: number;
  subscriberProcesses: number;
  /** 1 = warnings only: at 2 Pushpin logs every proxied request (see fixture.ts). */
  pushpinLogLevel: number;
  scoreAdd: ScoreAddOptions;
  fanout: FanoutOptions;
  /** The `board sizes` section (sizes.ts); publish interval and log level are the run's. */
  sizes: Omit<SizesOptions, 'publishIntervalMs' | 'pushpinLogLevel'>;
}

const FULL: BenchPlan = {
  mode: 'full',
  connections: 50,
  loadSeconds: 10,
  warmupSeconds: 2,
  diskSeconds: 4,
  publishIntervalMs: 50,
  subscriberProcesses: 2,
  pushpinLogLevel: 1,
  scoreAdd: { boards: [10, 10_000], connections: 50, seconds: 10, warmupSeconds: 2 },
  fanout: {
    steps: [
      { subscribers: 100, spacingMs: 250 },
      { subscribers: 1_000, spacingMs: 250 },
      { subscribers: 5_000, spacingMs: 500 },
      { subscribers: 10_000, spacingMs: 1_000 },
    ],
    updates: 20,
    settleMs: 10_000,
  },
  sizes: {
    boards: [10, 10_000, 100_000, 1_000_000],
    connections: 50,
    seconds: 10,
    warmupSeconds: 2,
    reads: 1_000,
    isolatedPlusOnes: 40,
    reset: { players: 10_000, viewers: 1_000, spreadMs: 10_000 },
  },
};

// Small enough for CI (well under a minute), large enough that every code path runs: several
// subscriber processes, more than one step, boards of two sizes, coalescing under load.
const QUICK: BenchPlan = {
  mode: 'quick',
  connections: 20,
  loadSeconds: 1.5,
  warmupSeconds: 0.5,
  diskSeconds: 1,
  publishIntervalMs: 50,
  subscriberProcesses: 2,
  pushpinLogLevel: 1,
  scoreAdd: { boards: [10, 200], connections: 20, seconds: 1.5, warmupSeconds: 0.5 },
  fanout: {
    steps: [
      { subscribers: 20, spacingMs: 150 },
      { subscribers: 100, spacingMs: 150 },
    ],
    updates: 5,
    settleMs: 5_000,
  },
  sizes: {
    boards: [10, 10_000],
    connections: 20,
    seconds: 1.5,
    warmupSeconds: 0.5,
    reads: 200,
    isolatedPlusOnes: 10,
    reset: { players: 10_000, viewers: 100, spreadMs: 2_000 },
  },
};

export function benchPlan(mode: 'full' | 'quick'): BenchPlan {
  return mode === 'full' ? FULL : QUICK;
}
