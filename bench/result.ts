import { z } from 'zod';

// The shape of one benchmark run as written to bench/results/*.json. The chart, the table and the
// test all read it through this schema, so a run that is missing a section fails loudly.

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const loadAverages = z.tuple([finite, finite, finite]);

/** One closed-loop load run (autocannon): what came back, how fast, how late. */
export const loadFigure = z.object({
  /** 2xx answers per second over the measured duration. */
  perSecond: finite,
  p50Ms: finite,
  p99Ms: finite,
  maxMs: finite,
  ok: z.number().int(),
  non2xx: z.number().int(),
  errors: z.number().int(),
  seconds: finite,
  connections: z.number().int(),
});
export type LoadFigure = z.infer<typeof loadFigure>;

/**
 * CPU used while a figure was measured, in percent of one core per part (a part at ~100 on its
 * single thread is the limit), and the whole machine's busy share (other users included).
 */
export const cpuShares = z.object({
  origin: finite,
  pushpin: finite,
  /** The measuring process: autocannon, the publish relay, the `+1` sender. */
  bench: finite,
  subscribers: finite,
  machineBusy: finite,
  /** Percent of one core per program, keyed `part/program` (e.g. `pushpin/condure`). */
  processes: z.record(z.string(), finite),
});
export type CpuSharesFigure = z.infer<typeof cpuShares>;

export const ceilingRun = loadFigure.extend({
  /** The server process's CPU in % of one core, and per request. */
  serverCpu: finite,
  serverCpuMsPerRequest: finite,
  machineBusy: finite,
});

export const latencySummary = z.object({
  count: z.number().int(),
  p50Ms: finite,
  p99Ms: finite,
  maxMs: finite,
  meanMs: finite,
});
export type LatencySummary = z.infer<typeof latencySummary>;

export const scoreAddRun = z.object({
  via: z.enum(['origin', 'pushpin']),
  players: z.number().int(),
  /** How long creating the board and its players through the admin API took (32 at a time). */
  setupSeconds: finite,
  load: loadFigure,
  ratioToHttp: finite,
  ratioToExpress: finite,
  /**
   * Messages of this board (its own channel and its pages') that reached Pushpin's publish
   * endpoint, per second.
   */
  publishesPerSecond: finite,
  /** The most publishes one channel of the board got in any one whole second of the run. */
  maxPublishesInOneSecond: z.number().int(),
  /**
   * The largest publish request body of the run, in bytes (Fanout refuses over 65,536). Absent
   * from results written before messages were measured.
   */
  largestPublishBytes: z.number().int().optional(),
  /** Events per second seen by one SSE subscriber on the board's top 100 rows, through Pushpin. */
  updatesSeenPerSecond: finite,
  cpu: cpuShares,
  /** Origin CPU time per acknowledged `+1`. */
  originCpuMsPerScoreAdd: finite,
});
export type ScoreAddRun = z.infer<typeof scoreAddRun>;

export const fanoutRun = z.object({
  subscribers: z.number().int(),
  /** How many of them were connected when the updates were sent. */
  connected: z.number().int(),
  updates: z.number().int(),
  spacingMs: z.number().int(),
  /** From the publish reaching Pushpin (timed at the counting relay) to each subscriber's read. */
  publishToReceive: latencySummary,
  /** From the `+1` request being sent to the origin to each subscriber's read. */
  scoreAddToReceive: latencySummary,
  /** Subscribers that reached the last version without any channel going back, still open. */
  deliveredAll: z.number().int(),
  deliveredShare: finite,
  /** Subscriber connections that ended during the run. */
  dropped: z.number().int(),
  cpu: cpuShares,
  /** How long the step's CPU was measured: from the first `+1` to the last delivery. */
  seconds: finite,
});
export type FanoutRun = z.infer<typeof fanoutRun>;

export const processMemory = z.object({
  name: z.string(),
  pid: z.number().int(),
  rssBytes: z.number().int(),
});
export type ProcessMemory = z.infer<typeof processMemory>;

export const heldFigure = z.object({
  subscribers: z.number().int(),
  connectSeconds: finite,
  /** Subscribe attempts Pushpin refused while they were being opened (each was retried). */
  connectRefused: z.number().int(),
  /** Subscribers that could not be opened in 10 attempts. */
  connectFailed: z.number().int(),
  pushpinBefore: z.array(processMemory),
  pushpinAfter: z.array(processMemory),
  pushpinBytesPerConnection: finite,
  originBeforeBytes: z.number().int(),
  originAfterBytes: z.number().int(),
  originGrowthBytes: z.number().int(),
  /** The origin's RSS once the largest step's updates were delivered (RSS shrinks lazily). */
  originAfterUpdatesBytes: z.number().int(),
  /**
   * The origin's live heap after a full collection (heap.ts) with every subscriber held, and again
   * once they have all gone: what it keeps per held connection, where RSS shows what it grew.
   */
  originLiveHeapHeldBytes: z.number().int(),
  originLiveHeapClosedBytes: z.number().int(),
  /** Pushpin's total RSS at each subscriber count reached on the way (idle, before updates). */
  pushpinRssBySubscribers: z.array(
    z.object({ subscribers: z.number().int(), rssBytes: z.number().int() }),
  ),
});
export type HeldFigure = z.infer<typeof heldFigure>;

const commitRate = z.object({
  bytes: z.number().int(),
  perSecond: finite,
  p50Ms: finite,
  p99Ms: finite,
});

/** What one durable commit costs on this disk, measured without the origin (disk.ts). */
export const diskFigure = z.object({
  /** The directory measured (the OS temp dir, where the bench's data file lives too). */
  dir: z.string(),
  small: commitRate,
  large: commitRate,
  /** JSON.stringify of the large database, p50 of 20. */
  stringifyLargeMs: finite,
});
export type DiskFigure = z.infer<typeof diskFigure>;

/** One board size of the `board sizes` section (sizes.ts), each on a fresh origin. */
export const sizeRun = z.object({
  players: z.number().int(),
  /** The origin from its data file, from spawn until /healthz answers (and through Pushpin). */
  startMs: finite,
  /** The origin's RSS once started, and after the +1 load. */
  rssBytes: z.number().int(),
  rssAfterLoadBytes: z.number().int(),
  /** Durable +1 straight to the origin. */
  plusOne: loadFigure,
  originCpuPercent: finite,
  /** +1/s against the smallest board of the run. */
  ratioToSmallest: finite,
  /** The origin's event-loop delay over the +1 load (its prom-client metrics). */
  eventLoopP99Ms: z.number(),
  eventLoopMaxMs: z.number(),
  /** GET of the top 100 and around a player at 3/4 of the board, one at a time, no other load. */
  top100: latencySummary.extend({ bytes: z.number().int() }),
  around: latencySummary.extend({ bytes: z.number().int() }),
  /** A stream of the top 100 through Pushpin: time and bytes to its whole opening. */
  streamOpen: z.object({ ms: finite, bytes: z.number().int() }),
  /** Isolated +1s (one per two publish intervals) on players across the board. */
  isolated: z.object({
    plusOnes: z.number().int(),
    bytesPerPlusOne: finite,
    /** What a viewer of the top 100 is sent per +1 (board channel and pages 0 to 3). */
    viewerBytesPerPlusOne: finite,
    publishesPerPlusOne: finite,
  }),
  /** The same under the +1 load, coalesced, per acknowledged +1. */
  underLoad: z.object({ bytesPerPlusOne: finite, viewerBytesPerPlusOne: finite }),
});
export type SizeRun = z.infer<typeof sizeRun>;

/** What a reset with N held viewers costs the origin (sizes.ts). */
export const resetFigure = z.object({
  players: z.number().int(),
  viewers: z.number().int(),
  /** Viewers that had their stream's opening when the reset was sent. */
  connected: z.number().int(),
  spreadMs: z.number().int(),
  resetMs: finite,
  reloadsReceived: z.number().int(),
  reopened: z.number().int(),
  /** Requests the origin answered from the reset to a second after the spread, the reset excluded. */
  originRequests: z.number().int(),
  originCpuPercent: finite,
  originCpuMs: finite,
  windowSeconds: finite,
});
export type ResetFigure = z.infer<typeof resetFigure>;

export const sizesFigure = z.object({ runs: z.array(sizeRun).min(1), reset: resetFigure });
export type SizesFigure = z.infer<typeof sizesFigure>;

export const goal = z.object({
  name: z.string(),
  target: z.string(),
  measured: z.string(),
  met: z.boolean(),
});
export type Goal = z.infer<typeof goal>;

export const benchResult = z.object({
  schema: z.literal(1),
  mode: z.enum(['full', 'quick']),
  command: z.string(),
  date: z.string(),
  seconds: finite,
  /** The commit measured, and files of origin/, shared/, local/ that differed from it. */
  source: z.object({ commit: z.string(), uncommitted: z.array(z.string()) }).optional(),
  machine: z.object({
    cores: z.number().int(),
    cpuModel: z.string(),
    memoryBytes: z.number().int(),
    os: z.string(),
    node: z.string(),
    pushpin: z.string(),
    openFilesLimit: z.number().int(),
  }),
  load: z.object({
    before: loadAverages,
    after: loadAverages,
    uptimeBefore: z.string(),
    uptimeAfter: z.string(),
  }),
  settings: z.object({
    connections: z.number().int(),
    loadSeconds: finite,
    publishIntervalMs: z.number().int(),
    scoreRateLimit: z.string(),
    pushpinLogLevel: z.number().int(),
    pushpinMessageRate: z.number().int(),
    pushpinMessageHwm: z.number().int(),
    subscriberProcesses: z.number().int(),
  }),
  ceiling: z.object({ http: ceilingRun, express: ceilingRun }),
  disk: diskFigure,
  scoreAdd: z.array(scoreAddRun).min(1),
  fanout: z.array(fanoutRun).min(1),
  held: heldFigure,
  amplification: z.object({
    publishIntervalMs: z.number().int(),
    /** The most publishes per second per channel the coalescing interval allows. */
    boundPerSecond: finite,
    atScoreAddsPerSecond: finite,
    publishesPerSecond: finite,
    maxPublishesInOneSecond: z.number().int(),
    bounded: z.boolean(),
    /**
     * The largest message published in any `+1` run, and Fanout's cap on one message. Absent
     * from results written before messages were measured.
     */
    largestPublishBytes: z.number().int().optional(),
    publishCapBytes: z.number().int().optional(),
  }),
  /** Boards of several sizes side by side; absent from results written before it existed. */
  sizes: sizesFigure.optional(),
  goals: z.array(goal).min(1),
});
export type BenchResult = z.infer<typeof benchResult>;

/** `npm run bench -- --only sizes`: the board-sizes section alone, with the run's machine. */
export const sizesOnlyResult = benchResult
  .pick({ schema: true, mode: true, command: true, date: true, seconds: true, source: true })
  .extend({
    machine: benchResult.shape.machine,
    load: benchResult.shape.load,
    sizes: sizesFigure,
    goals: z.array(goal),
  });
export type SizesOnlyResult = z.infer<typeof sizesOnlyResult>;
