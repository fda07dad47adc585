import { markdownTable } from './markdown.ts';
import type {
  BenchResult,
  CpuSharesFigure,
  LatencySummary,
  SizesFigure,
  SizesOnlyResult,
} from './result.ts';

// The run as Markdown tables: readable on a terminal, and pasted as is into docs/performance.md.

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(1) : int(n));
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const pct = (ratio: number) => `${(ratio * 100).toFixed(0)}%`;

const latency = (l: LatencySummary) => [ms(l.p50Ms), ms(l.p99Ms), ms(l.maxMs)];

/** Pushpin's programs by CPU, busiest first: which one of them is the limit. */
const pushpinPrograms = (c: CpuSharesFigure) =>
  Object.entries(c.processes)
    .filter(([key, share]) => key.startsWith('pushpin/') && share >= 1)
    .sort((a, b) => b[1] - a[1])
    .map(([key, share]) => `${key.replace(/^pushpin\/(pushpin-)?/, '')} ${int(share)}`)
    .join(', ');
const cpu = (c: CpuSharesFigure) => [
  ...[c.origin, c.pushpin, c.bench, c.subscribers, c.machineBusy].map(int),
  pushpinPrograms(c),
];
/** CPU time each program spent per update delivered to all N: a single-threaded one near the spacing is the limit. */
const cpuPerUpdate = (run: BenchResult['fanout'][number]) =>
  Object.entries(run.cpu.processes)
    .filter(([key]) => key.startsWith('pushpin/') || key.startsWith('subscribers/'))
    .map(([key, share]): [string, number] => [key, (share * run.seconds * 10) / run.updates])
    .filter(([, ms]) => ms >= 1)
    .sort((a, b) => b[1] - a[1])
    .map(
      ([key, ms]) =>
        `${key.replace(/^pushpin\/(pushpin-)?/, '').replace(/^subscribers\/node/, 'subscribers')} ${int(ms)}`,
    )
    .join(', ');
const CPU_HEAD = [
  'CPU% origin',
  'Pushpin',
  'bench',
  'subscribers',
  'machine busy %',
  'Pushpin CPU% by program',
];

/** Every figure of one run, section by section. */
export function formatResult(result: BenchResult): string {
  return [
    ...runLines(result),
    '',
    ...ceilingAndDisk(result),
    '',
    ...durableScoreAdd(result),
    '',
    ...fanout(result),
    '',
    ...held(result),
    '',
    ...(result.sizes === undefined ? [] : [...boardSizes(result.sizes), '']),
    ...amplificationAndGoals(result),
  ].join('\n');
}

/** The `board sizes` section: one column per board size, one row per figure. */
export function boardSizes(sizes: SizesFigure): string[] {
  const { runs, reset } = sizes;
  const f2 = (n: number) => n.toFixed(2);
  const row = (name: string, cell: (run: SizesFigure['runs'][number]) => string) => [
    name,
    ...runs.map(cell),
  ];
  const rows = [
    row('durable +1/s, straight to the origin', (r) => int(r.plusOne.perSecond)),
    row('  as % of the smallest board', (r) => pct(r.ratioToSmallest)),
    row('  +1 latency p50 / p99 (ms)', (r) => `${ms(r.plusOne.p50Ms)} / ${ms(r.plusOne.p99Ms)}`),
    row('  origin CPU (% of a core)', (r) => int(r.originCpuPercent)),
    row(
      '  event-loop delay p99 / max (ms)',
      (r) => `${ms(r.eventLoopP99Ms)} / ${ms(r.eventLoopMaxMs)}`,
    ),
    row('GET top 100, p50 / p99 (ms)', (r) => `${f2(r.top100.p50Ms)} / ${f2(r.top100.p99Ms)}`),
    row('  body (KB)', (r) => kb(r.top100.bytes)),
    row(
      'GET around a player at 3/4, p50 / p99 (ms)',
      (r) => `${f2(r.around.p50Ms)} / ${f2(r.around.p99Ms)}`,
    ),
    row('  body (KB)', (r) => kb(r.around.bytes)),
    row('stream open (top 100) via Pushpin (ms)', (r) => ms(r.streamOpen.ms)),
    row('  opening (KB)', (r) => kb(r.streamOpen.bytes)),
    row('bytes published per isolated +1', (r) => int(r.isolated.bytesPerPlusOne)),
    row('  to a top-100 viewer', (r) => int(r.isolated.viewerBytesPerPlusOne)),
    row('bytes published per +1 under load', (r) => f2(r.underLoad.bytesPerPlusOne)),
    row('  to a top-100 viewer', (r) => f2(r.underLoad.viewerBytesPerPlusOne)),
    row(
      'origin RSS started / after load (MB)',
      (r) => `${mb(r.rssBytes)} / ${mb(r.rssAfterLoadBytes)}`,
    ),
    row('origin start to /healthz (ms)', (r) => int(r.startMs)),
  ];
  return [
    `**Board sizes** (each on a fresh origin started from its data file; +1 load: ${runs[0]?.plusOne.connections ?? 0} connections, ${runs[0]?.plusOne.seconds ?? 0} s)`,
    '',
    markdownTable(['', ...runs.map((r) => `${int(r.players)} players`)], rows),
    '',
    `**Reset with held viewers**: ${int(reset.connected)} of ${int(reset.viewers)} viewers of the top 100 of a ${int(reset.players)}-player board, RELOAD_SPREAD_MS=${int(reset.spreadMs)}`,
    '',
    markdownTable(
      [
        'reset (ms)',
        'reloads received',
        'streams reopened',
        'origin requests in the window',
        'origin CPU (ms)',
        'origin CPU (% of a core)',
        'window (s)',
      ],
      [
        [
          ms(reset.resetMs),
          int(reset.reloadsReceived),
          int(reset.reopened),
          int(reset.originRequests),
          int(reset.originCpuMs),
          int(reset.originCpuPercent),
          reset.windowSeconds.toFixed(1),
        ],
      ],
    ),
  ];
}

function runLines(result: BenchResult): string[] {
  const { machine, load, settings } = result;
  const loadavg = (l: readonly number[]) => l.map((n) => n.toFixed(2)).join(', ');
  return [
    `- Run ${result.date} (${result.mode}, ${result.seconds.toFixed(0)} s): ${machine.cores} x ${machine.cpuModel}, ` +
      `${(machine.memoryBytes / 1024 ** 3).toFixed(0)} GB, ${machine.os}, Node ${machine.node}, Pushpin ${machine.pushpin}.`,
    `- Load averages (1, 5, 15 min): ${loadavg(load.before)} before, ${loadavg(load.after)} after.`,
    result.source === undefined
      ? '- Code: not recorded by this run.'
      : `- Code: commit ${result.source.commit.slice(0, 12)}${result.source.uncommitted.length > 0 ? ` with uncommitted changes to ${result.source.uncommitted.join(', ')}` : ''}.`,
    `- autocannon, ${settings.connections} connections, ${settings.loadSeconds} s per run; +1 rate limit ${settings.scoreRateLimit}; ` +
      `PUBLISH_INTERVAL_MS=${settings.publishIntervalMs}; Pushpin log_level=${settings.pushpinLogLevel}, message_rate=${int(settings.pushpinMessageRate)}, ` +
      `message_hwm=${int(settings.pushpinMessageHwm)}; ${settings.subscriberProcesses} subscriber processes.`,
  ];
}

function ceilingAndDisk(result: BenchResult): string[] {
  const { ceiling } = result;
  return [
    '**Ceiling** (minimal servers, same load generator, POST with no body)',
    '',
    markdownTable(
      ['server', 'req/s', 'p50 ms', 'p99 ms', 'server CPU %', 'CPU ms/req', 'machine busy %'],
      (
        [
          ['node:http', ceiling.http],
          ['Express 5', ceiling.express],
        ] as const
      ).map(([name, run]) => [
        name,
        int(run.perSecond),
        ms(run.p50Ms),
        ms(run.p99Ms),
        int(run.serverCpu),
        run.serverCpuMsPerRequest.toFixed(3),
        int(run.machineBusy),
      ]),
    ),
    '',
    '**Disk** (durable replace as the origin folds its journal into the data file: write temp, fsync, rename, fsync dir; one at a time)',
    '',
    markdownTable(
      ['data file', 'commits/s', 'p50 ms', 'p99 ms'],
      [result.disk.small, result.disk.large].map((c) => [
        `${kb(c.bytes)} KB`,
        int(c.perSecond),
        ms(c.p50Ms),
        ms(c.p99Ms),
      ]),
    ),
    '',
    `JSON.stringify of the ${kb(result.disk.large.bytes)} KB database: ${ms(result.disk.stringifyLargeMs)} ms.`,
  ];
}

function durableScoreAdd(result: BenchResult): string[] {
  return [
    '**Durable +1** (acknowledged after fsync; CPU in % of one core while measured)',
    '',
    `Boards set up through the admin API, 32 requests at a time: ${result.scoreAdd
      .filter((run) => run.via === 'origin')
      .map((run) => `${int(run.players)} players in ${run.setupSeconds.toFixed(1)} s`)
      .join(', ')}.`,
    '',
    markdownTable(
      [
        'via',
        'board',
        '+1/s',
        'x node:http',
        'x Express',
        'p50 ms',
        'p99 ms',
        'non-2xx',
        'errors',
        'publishes/s',
        'events seen/s',
        'origin CPU ms/+1',
        ...CPU_HEAD,
      ],
      result.scoreAdd.map((run) => [
        run.via === 'origin' ? 'origin' : 'Pushpin',
        `1 x ${int(run.players)}`,
        int(run.load.perSecond),
        pct(run.ratioToHttp),
        pct(run.ratioToExpress),
        ms(run.load.p50Ms),
        ms(run.load.p99Ms),
        int(run.load.non2xx),
        int(run.load.errors),
        run.publishesPerSecond.toFixed(1),
        run.updatesSeenPerSecond.toFixed(1),
        run.originCpuMsPerScoreAdd.toFixed(2),
        ...cpu(run.cpu),
      ]),
    ),
  ];
}

function fanout(result: BenchResult): string[] {
  return [
    `**Fan-out** through Pushpin (${result.fanout[0]?.updates} updates per N; latency from the publish reaching Pushpin, and from the +1 being sent)`,
    '',
    markdownTable(
      [
        'N',
        'spacing ms',
        'p50 ms',
        'p99 ms',
        'max ms',
        '+1 to screen p50',
        'p99',
        'max',
        'got every update',
        'dropped',
        ...CPU_HEAD,
        'CPU ms per update',
      ],
      result.fanout.map((run) => [
        int(run.subscribers),
        int(run.spacingMs),
        ...latency(run.publishToReceive),
        ...latency(run.scoreAddToReceive),
        `${int(run.deliveredAll)} (${(run.deliveredShare * 100).toFixed(run.deliveredShare === 1 ? 0 : 2)}%)`,
        int(run.dropped),
        ...cpu(run.cpu),
        cpuPerUpdate(run),
      ]),
    ),
  ];
}

function held(result: BenchResult): string[] {
  return [
    `**Held subscribers**: ${int(result.held.subscribers)} idle SSE connections through Pushpin (opened in ${result.held.connectSeconds.toFixed(1)} s, 64 at a time per subscriber process; ${int(result.held.connectRefused)} attempts refused and retried, ${int(result.held.connectFailed)} never opened)`,
    '',
    markdownTable(
      ['process', 'RSS before MB', `RSS at ${int(result.held.subscribers)} MB`],
      [
        ...result.held.pushpinAfter.map((p) => {
          const before = result.held.pushpinBefore.find((b) => b.pid === p.pid)?.rssBytes ?? 0;
          return [p.name, mb(before), mb(p.rssBytes)];
        }),
        [
          'Pushpin total',
          mb(result.held.pushpinBefore.reduce((s, p) => s + p.rssBytes, 0)),
          mb(result.held.pushpinAfter.reduce((s, p) => s + p.rssBytes, 0)),
        ],
        ['origin', mb(result.held.originBeforeBytes), mb(result.held.originAfterBytes)],
      ],
    ),
    '',
    `Pushpin: ${kb(result.held.pushpinBytesPerConnection)} KB per held connection. Origin: RSS grew ${mb(result.held.originGrowthBytes)} MB ` +
      `(${mb(result.held.originAfterUpdatesBytes)} MB after the last step's updates); ` +
      `live heap after a full GC ${mb(result.held.originLiveHeapHeldBytes)} MB with them held, ${mb(result.held.originLiveHeapClosedBytes)} MB once all had closed. ` +
      `Pushpin RSS by N: ${result.held.pushpinRssBySubscribers.map((r) => `${int(r.subscribers)}: ${mb(r.rssBytes)} MB`).join(', ')}.`,
  ];
}

function amplificationAndGoals(result: BenchResult): string[] {
  return [
    `**Publish amplification**: at ${int(result.amplification.atScoreAddsPerSecond)} +1/s on one board, ` +
      `${result.amplification.publishesPerSecond.toFixed(1)} publishes/s over its channels (busiest channel's busiest second: ${result.amplification.maxPublishesInOneSecond}; ` +
      `bound ${result.amplification.boundPerSecond} with PUBLISH_INTERVAL_MS=${result.amplification.publishIntervalMs})` +
      (result.amplification.largestPublishBytes === undefined
        ? '.'
        : `; largest message ${int(result.amplification.largestPublishBytes)} bytes (cap ${int(result.amplification.publishCapBytes ?? 0)}).`),
    '',
    '**Goals**',
    '',
    markdownTable(
      ['goal', 'target', 'measured', 'met'],
      result.goals.map((g) => [g.name, g.target, g.measured, g.met ? 'yes' : 'NO']),
    ),
  ];
}

/** `--only sizes`: the machine, the section and its goals. */
export function formatSizesOnly(result: SizesOnlyResult): string {
  const { machine, load } = result;
  const loadavg = (l: readonly number[]) => l.map((n) => n.toFixed(2)).join(', ');
  return [
    `- Run ${result.date} (\`${result.command}\`, ${result.seconds.toFixed(0)} s): ${machine.cores} x ${machine.cpuModel}, ` +
      `${(machine.memoryBytes / 1024 ** 3).toFixed(0)} GB, ${machine.os}, Node ${machine.node}, Pushpin ${machine.pushpin}.`,
    `- Load averages (1, 5, 15 min): ${loadavg(load.before)} before, ${loadavg(load.after)} after.`,
    result.source === undefined
      ? '- Code: not recorded by this run.'
      : `- Code: commit ${result.source.commit.slice(0, 12)}${result.source.uncommitted.length > 0 ? ` with uncommitted changes to ${result.source.uncommitted.join(', ')}` : ''}.`,
    '',
    ...boardSizes(result.sizes),
    '',
    '**Goals**',
    '',
    markdownTable(
      ['goal', 'target', 'measured', 'met'],
      result.goals.map((g) => [g.name, g.target, g.measured, g.met ? 'yes' : 'NO']),
    ),
  ].join('\n');
}
