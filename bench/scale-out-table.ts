import { LIFTED_RATE_LIMIT } from './fixture.ts';
import { markdownTable } from './markdown.ts';
import type { PlusOneFigure, ScaleOutResult } from './scale-out.ts';
import { runHeader } from './section.ts';

// The `scale-out` section as Markdown: the run, a table per figure, where the CPU goes, and what
// one core per origin would give, with the arithmetic written out.

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(1) : int(n));
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const per = (cpuMs: number, acked: number) => (acked > 0 ? cpuMs / acked : 0);
const msPerPlusOne = (cpuMs: number, acked: number) => per(cpuMs, acked).toFixed(3);
const origins = (n: number) => `${n} origin${n === 1 ? '' : 's'}`;

/** CPU ms of every measured process together. */
const allCpuMs = (row: PlusOneFigure) =>
  sum(row.cpuMs.origins) + row.cpuMs.redis + row.cpuMs.pushpin + row.cpuMs.bench;
/** Cores the measured processes kept busy over the window. */
const ourCores = (row: PlusOneFigure) => allCpuMs(row) / 1000 / row.windowSeconds;
/** Cores everything else on the machine kept busy meanwhile: other users, the kernel. */
const otherCores = (row: PlusOneFigure, cores: number) =>
  Math.max(0, (row.machineBusy / 100) * cores - ourCores(row));

function storeName(row: PlusOneFigure): string {
  if (row.store === 'embedded') return 'embedded (data file)';
  if (row.store === 'redis') return 'Redis, one node';
  return 'Redis Cluster, 6 nodes';
}

/** The slowest origin's latency: autocannon gives percentiles per run, not a histogram to merge. */
function latency(row: PlusOneFigure): [string, string] {
  return [
    ms(Math.max(...row.perOrigin.map((run) => run.p50Ms))),
    ms(Math.max(...row.perOrigin.map((run) => run.p99Ms))),
  ];
}

function failures(row: PlusOneFigure): [string, string] {
  return [
    int(sum(row.perOrigin.map((run) => run.non2xx))),
    int(sum(row.perOrigin.map((run) => run.errors))),
  ];
}

function machine(row: PlusOneFigure, cores: number): [string, string] {
  return [int(row.machineBusy), otherCores(row, cores).toFixed(2)];
}

/** The section as Markdown. */
export function formatScaleOut(result: ScaleOutResult): string {
  return [
    ...runLines(result),
    '',
    ...throughputTable(result),
    '',
    ...cpuTable(result),
    '',
    ...bigBoardTable(result),
    '',
    ...waitTable(result),
    '',
    ...whereTheTimeGoes(result),
    '',
    ...projection(result),
  ].join('\n');
}

function runLines(result: ScaleOutResult): string[] {
  const { plan } = result;
  return [
    ...runHeader(result),
    `- Load: autocannon in the bench process, ${plan.connections} connections split evenly over the origins, each origin on its own port (not through Pushpin); ` +
      `${plan.warmupSeconds} s warm-up, then ${plan.seconds} s measured per figure. Every row sends the same request, the public ` +
      `\`POST /boards/:id/players/:playerId/score-add/\` on random players of the board, rate limit lifted (SCORE_RATE_PER_SECOND=${LIFTED_RATE_LIMIT.SCORE_RATE_PER_SECOND}, ` +
      `SCORE_BURST=${LIFTED_RATE_LIMIT.SCORE_BURST}); a 200 comes only once the +1 is durable (embedded: journal fsynced; Redis: \`appendfsync always\`). ` +
      'Boards made through the import API. Origins at LOG_LEVEL=info (a line per request, as in the other sections), PUBLISH_INTERVAL_MS=50; Pushpin log_level=1.',
    `- CPU: utime + stime of each process from /proc/<pid>/stat (CLK_TCK ${result.clockTicks}) just before and after the measured run, divided by the +1s acknowledged in it; Pushpin is all its programs. ` +
      '"others, cores" is what the rest of the machine (other users, the kernel) kept busy meanwhile: machine busy x cores - these processes.',
  ];
}

function throughputTable(result: ScaleOutResult): string[] {
  const base = result.rows[0]?.perSecond ?? 0;
  return [
    `**Durable +1/s**: a ${int(result.plan.smallBoard)}-player board, the embedded store against one Redis (AOF, \`appendfsync always\`, REDIS_WAIT_REPLICAS=0) behind 1 to ${Math.max(...result.plan.origins)} origins`,
    '',
    markdownTable(
      [
        'store',
        'origins',
        '+1/s',
        'x embedded',
        '+1/s per origin',
        'p50 ms',
        'p99 ms',
        'non-2xx',
        'errors',
        'machine busy %',
        'others, cores',
      ],
      result.rows.map((row) => [
        storeName(row),
        String(row.origins),
        int(row.perSecond),
        base > 0 ? `${(row.perSecond / base).toFixed(2)}x` : '',
        row.perOrigin.map((run) => int(run.perSecond)).join(', '),
        ...latency(row),
        ...failures(row),
        ...machine(row, result.machine.cores),
      ]),
    ),
    '',
    "p50 and p99 are the slowest origin's when there are several. The first origin took the import, so it holds the board's publisher lease: it also reads the change log and publishes for every origin's +1s.",
  ];
}

/** Every figure of the run, each with a name that says which it is. */
function labelled(result: ScaleOutResult): [string, PlusOneFigure][] {
  const name = (row: PlusOneFigure, note = '') =>
    `${storeName(row)}, ${int(row.players)} players${note}${row.store === 'cluster' ? `, WAIT ${row.waitReplicas}` : ''}`;
  return [
    ...result.rows.map((row): [string, PlusOneFigure] => [name(row), row]),
    [name(result.big.row), result.big.row],
    [name(result.big.smallAfter, ' (after the big board)'), result.big.smallAfter],
    ...result.wait.map((row): [string, PlusOneFigure] => [name(row), row]),
  ];
}

function cpuTable(result: ScaleOutResult): string[] {
  return [
    '**CPU ms per acknowledged +1**, per process (each origin: its CPU over the +1s it answered; the sum: all origins over all +1s)',
    '',
    markdownTable(
      [
        'figure',
        'origins',
        'origins (sum)',
        'each origin',
        'redis-server',
        'Pushpin',
        'load generator',
        'all',
        'cores busy',
        'others, cores',
      ],
      labelled(result).map(([label, row]) => [
        label,
        String(row.origins),
        msPerPlusOne(sum(row.cpuMs.origins), row.acked),
        row.cpuMs.origins.map((cpu, i) => msPerPlusOne(cpu, row.perOrigin[i]?.ok ?? 0)).join(', '),
        row.store === 'embedded' ? '' : msPerPlusOne(row.cpuMs.redis, row.acked),
        msPerPlusOne(row.cpuMs.pushpin, row.acked),
        msPerPlusOne(row.cpuMs.bench, row.acked),
        msPerPlusOne(allCpuMs(row), row.acked),
        ourCores(row).toFixed(2),
        otherCores(row, result.machine.cores).toFixed(2),
      ]),
    ),
    '',
    "redis-server on the cluster is its six nodes together. Pushpin only takes the origins' publishes here: the load does not go through it. " +
      rewrites(result),
  ];
}

function rewrites(result: ScaleOutResult): string {
  const during = labelled(result).filter(([, row]) => row.aofRewrite);
  return during.length === 0
    ? 'No Redis node rewrote its append-only file during a measured window.'
    : `A Redis node was rewriting its append-only file (a fork) during: ${during.map(([label]) => label).join('; ')}.`;
}

/** `a` against `b` in CPU ms per +1 of every measured process: what a CPU-bound machine would see. */
function cpuRatio(
  a: readonly PlusOneFigure[],
  b: PlusOneFigure,
): { a: number; b: number; ratio: number } {
  const mean = sum(a.map((row) => per(allCpuMs(row), row.acked))) / Math.max(1, a.length);
  const other = per(allCpuMs(b), b.acked);
  return { a: mean, b: other, ratio: other > 0 ? mean / other : 0 };
}

function bigBoardTable(result: ScaleOutResult): string[] {
  const { big } = result;
  const before = result.rows.find((row) => row.store === 'redis' && row.origins === 1);
  const smallRate =
    before === undefined
      ? big.smallAfter.perSecond
      : (before.perSecond + big.smallAfter.perSecond) / 2;
  const ratio = big.row.perSecond / smallRate;
  const cpu = cpuRatio(before === undefined ? [big.smallAfter] : [before, big.smallAfter], big.row);
  const line = (label: string, r: PlusOneFigure) => [
    label,
    int(r.perSecond),
    ...latency(r),
    msPerPlusOne(sum(r.cpuMs.origins), r.acked),
    msPerPlusOne(r.cpuMs.redis, r.acked),
    ...failures(r),
    ...machine(r, result.machine.cores),
  ];
  const small = int(result.plan.smallBoard);
  return [
    `**A ${int(big.players)}-player board on Redis** (one node, 1 origin, the stack of the first Redis row): ` +
      `imported through \`POST /boards/:id/import/\` (NDJSON, ${(big.importBytes / 1e6).toFixed(1)} MB, one request) in ${big.importSeconds.toFixed(1)} s; ` +
      `its ids read back through the CSV export in ${big.idsSeconds.toFixed(1)} s; +1s on players drawn at random from the whole board, ` +
      `between two runs on the ${small}-player board`,
    '',
    markdownTable(
      [
        'board',
        '+1/s',
        'p50 ms',
        'p99 ms',
        'origin CPU ms/+1',
        'redis CPU ms/+1',
        'non-2xx',
        'errors',
        'machine busy %',
        'others, cores',
      ],
      [
        ...(before === undefined ? [] : [line(`${small} players, before`, before)]),
        line(`${int(big.players)} players`, big.row),
        line(`${small} players, after`, big.smallAfter),
      ],
    ),
    '',
    `Goal: durable +1/s on ${int(big.players)} players >= 80% of ${small} players: ${int(big.row.perSecond)}/s against ${int(smallRate)}/s ` +
      `(the mean of before and after) = ${Math.round(ratio * 100)}%: ${ratio >= 0.8 ? 'met' : 'NOT met'}.`,
    '',
    `By CPU, which the rest of the machine's load moves less: every measured process together spent ${cpu.b.toFixed(3)} ms per +1 on ${int(big.players)} players ` +
      `against ${cpu.a.toFixed(3)} ms on ${small} (mean of before and after): a machine bound by CPU would run the big board at ${cpu.a.toFixed(3)} / ${cpu.b.toFixed(3)} = ${Math.round(cpu.ratio * 100)}% of the small one's rate.`,
  ];
}

function waitTable(result: ScaleOutResult): string[] {
  const [one, zero] = result.wait;
  const p = (row: PlusOneFigure, key: 'p50Ms' | 'p99Ms') => ms(row.perOrigin[0]?.[key] ?? 0);
  const cost =
    one === undefined || zero === undefined
      ? []
      : [
          '',
          `WAIT for one replica: ${int(one.perSecond)} against ${int(zero.perSecond)} +1/s (${Math.round((one.perSecond / zero.perSecond - 1) * 100)}%), ` +
            `p50 ${p(one, 'p50Ms')} against ${p(zero, 'p50Ms')} ms, p99 ${p(one, 'p99Ms')} against ${p(zero, 'p99Ms')} ms; ` +
            `CPU of every measured process per +1 ${msPerPlusOne(allCpuMs(one), one.acked)} against ${msPerPlusOne(allCpuMs(zero), zero.acked)} ms ` +
            `(${Math.round((cpuRatio([one], zero).ratio - 1) * 100)}%).`,
        ];
  return [
    `**WAIT on a Redis Cluster** (six nodes: three masters with a replica each, every node \`appendfsync always\`; 1 origin; the same ${int(result.plan.smallBoard)}-player board, which lives on one master)`,
    '',
    markdownTable(
      [
        'REDIS_WAIT_REPLICAS',
        '+1/s',
        'p50 ms',
        'p99 ms',
        'origin CPU ms/+1',
        'redis CPU ms/+1 (6 nodes)',
        'non-2xx',
        'errors',
        'machine busy %',
        'others, cores',
      ],
      result.wait.map((row) => [
        String(row.waitReplicas),
        int(row.perSecond),
        ...latency(row),
        msPerPlusOne(sum(row.cpuMs.origins), row.acked),
        msPerPlusOne(row.cpuMs.redis, row.acked),
        ...failures(row),
        ...machine(row, result.machine.cores),
      ]),
    ),
    ...cost,
  ];
}

function whereTheTimeGoes(result: ScaleOutResult): string[] {
  const cores = result.machine.cores;
  return [
    `**Where the time goes** (CPU ms per +1 x +1/s = cores these processes kept busy; this machine has ${cores})`,
    '',
    ...[...result.rows, result.big.row].map((row) => {
      const parts = [
        ['origins', sum(row.cpuMs.origins)],
        ['redis-server', row.cpuMs.redis],
        ['Pushpin', row.cpuMs.pushpin],
        ['load generator', row.cpuMs.bench],
      ] as const;
      const split = parts
        .filter(([, cpu]) => cpu > 0)
        .map(([part, cpu]) => `${part} ${msPerPlusOne(cpu, row.acked)}`)
        .join(', ');
      return (
        `- ${storeName(row)}, ${origins(row.origins)}, ${int(row.players)} players: ${msPerPlusOne(allCpuMs(row), row.acked)} ms x ${int(row.perSecond)}/s = ` +
        `${ourCores(row).toFixed(2)} cores (${split}); machine ${int(row.machineBusy)}% busy, others ${otherCores(row, cores).toFixed(2)} cores.`
      );
    }),
    '',
    `On ${cores} cores more origins cannot add CPU: the origins, Redis, Pushpin and the load generator (and whatever else runs) already share them, ` +
      'so a second and a third origin split the same cores, and each origin costs more per +1 (its fixed work is spread over fewer +1s, and the processes take turns on the cores).',
  ];
}

/** `min(N x origin core, Redis core)` for a few N, up to just past where Redis becomes the limit. */
function projectedRates(originRate: number, redisRate: number): string {
  const crossover = Math.floor(redisRate / originRate);
  // The first few, and the two either side of the crossover.
  const counts = [...new Set([1, 2, 3, 4, crossover, crossover + 1])].filter((n) => n >= 1);
  return counts
    .sort((a, b) => a - b)
    .map((n) => {
      const capped = n * originRate > redisRate;
      return `N=${n}: min(${int(n * originRate)}, ${int(redisRate)}) = ${int(Math.min(n * originRate, redisRate))}${capped ? ' (Redis)' : ''}`;
    })
    .join('; ');
}

function projectionLines(originMs: number, redisMs: number): string[] {
  const originRate = 1000 / originMs;
  const redisRate = 1000 / redisMs;
  const crossover = redisRate / originRate;
  return [
    `- One origin core: 1000 / ${originMs.toFixed(3)} ms = ${int(originRate)} +1/s.`,
    `- One Redis core: 1000 / ${redisMs.toFixed(3)} ms = ${int(redisRate)} +1/s.`,
    `- N origins with a core each: +1/s = min(N x ${int(originRate)}, ${int(redisRate)}): ${projectedRates(originRate, redisRate)}.`,
    `- Redis becomes the limit at N = ${int(redisRate)} / ${int(originRate)} = ${crossover.toFixed(2)}: up to ${Math.floor(crossover)} origins each add ${int(originRate)} +1/s; ` +
      `from ${Math.floor(crossover) + 1} on, one Redis core caps them all at ${int(redisRate)}.`,
  ];
}

function projection(result: ScaleOutResult): string[] {
  const redisRows = result.rows.filter((row) => row.store === 'redis');
  const one = redisRows.find((row) => row.origins === 1);
  if (one === undefined) return [];
  // The dearest figures measured: an origin that also publishes for the others, Redis at its worst.
  const dearest = redisRows.flatMap((row) =>
    row.cpuMs.origins.map((cpu, i) => ({ row, i, ms: per(cpu, row.perOrigin[i]?.ok ?? 0) })),
  );
  const worstOrigin = dearest.reduce((a, b) => (b.ms > a.ms ? b : a));
  const worstRedis = Math.max(...redisRows.map((row) => per(row.cpuMs.redis, row.acked)));
  return [
    `**Projection: one core per origin**, from the Redis row with 1 origin (${int(result.plan.smallBoard)} players): its origin's and redis-server's CPU ms per +1`,
    '',
    ...projectionLines(per(one.cpuMs.origins[0] ?? 0, one.acked), per(one.cpuMs.redis, one.acked)),
    '',
    `With the dearest figures of the Redis rows instead (origin ${worstOrigin.i + 1} of ${worstOrigin.row.origins}: ${worstOrigin.ms.toFixed(3)} ms; redis-server: ${worstRedis.toFixed(3)} ms):`,
    '',
    ...projectionLines(worstOrigin.ms, worstRedis),
    '',
    '- One board lives on one Redis master; a cluster spreads boards, not one board, over masters.',
    '- Left out: the load generator and Pushpin (in production Fanout proxies and fans out), the network between machines, and the disk: ' +
      'Redis fsyncs once per event-loop pass for all the clients in it, so fsync adds latency rather than CPU as long as the disk keeps up.',
  ];
}
