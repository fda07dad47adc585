import type { RequestListener } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorBody } from '../contract/board.ts';
import type { PublishReport } from './broadcaster.ts';
import { publishFailure } from './grip.ts';
import type { CommitReport } from './store/store.ts';

/** Latency buckets in seconds, from a fast JSON answer to a stuck proxy (10 s publish timeout). */
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Mutations per group commit. */
const BATCH = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
/** Published message sizes, up to Fanout's 64 KiB cap and past it. */
const BYTES = [256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576];

/** What the gauges read when scraped. */
export interface MetricsState {
  /** Boards and players in the store (a round trip with Redis, so read once per scrape). */
  counts(): Promise<{ boards: number; players: number }>;
  failingBoards(): number;
}

/**
 * The origin's Prometheus metrics, in a registry of its own (never prom-client's global one), so
 * that every app has its own and tests can build many. No metric is labelled by board: see
 * `publishes` for why.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Every HTTP request by route pattern (never the raw URL), method and status. */
  readonly httpRequests = new Histogram({
    name: 'leaderboard_http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status: time to the last byte',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });

  /** Score-adds applied: the public `+1` and the admin's other amounts. */
  readonly scoreAdds = new Counter({
    name: 'leaderboard_score_adds_total',
    help: 'Score-adds applied, by who gave them (public: the +1; admin: any amount)',
    labelNames: ['by'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'leaderboard_rate_limited_total',
    help: 'Public +1s refused with 429 by the per-client rate limit',
    registers: [this.registry],
  });

  readonly commitSeconds = new Histogram({
    name: 'leaderboard_store_commit_duration_seconds',
    help: 'Group commits to the data file: time from the write to its fsync',
    buckets: SECONDS,
    registers: [this.registry],
  });

  readonly commitBatch = new Histogram({
    name: 'leaderboard_store_commit_batch_size',
    help: 'Mutations made durable by one group commit',
    buckets: BATCH,
    registers: [this.registry],
  });

  /**
   * Publishes by outcome (`ok`, `failed`) and status (`2xx`; the proxy's status when it refused;
   * `timeout`, `network`, `error`). Not by board: with MAX_BOARDS up to a million, and boards
   * deleted and created under fresh random ids, per-board series would grow without bound in a
   * long-running origin, times every histogram bucket. `leaderboard_publish_failing_boards` says
   * how many boards are behind.
   */
  readonly publishes = new Counter({
    name: 'leaderboard_publishes_total',
    help: 'Publishes to the GRIP proxy by outcome and status',
    labelNames: ['outcome', 'status'] as const,
    registers: [this.registry],
  });

  readonly publishBytes = new Histogram({
    name: 'leaderboard_publish_bytes',
    help: 'Size of published messages (SSE text) by outcome; Fanout refuses more than 64 KiB',
    labelNames: ['outcome'] as const,
    buckets: BYTES,
    registers: [this.registry],
  });

  readonly publishSeconds = new Histogram({
    name: 'leaderboard_publish_duration_seconds',
    help: "Publishes to the GRIP proxy by outcome: time to the proxy's answer",
    labelNames: ['outcome'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });

  readonly streamOpens = new Counter({
    name: 'leaderboard_stream_opens_total',
    help: 'Live streams opened through the GRIP proxy, by what caught the client up',
    labelNames: ['catch_up'] as const,
    registers: [this.registry],
  });

  readonly streamRecoveries = new Counter({
    name: 'leaderboard_stream_recoveries_total',
    help: 'Recovery requests from the GRIP proxy (a stream missed messages), by what it got',
    labelNames: ['catch_up'] as const,
    registers: [this.registry],
  });

  constructor(state: MetricsState, options: { defaultMetrics?: boolean } = {}) {
    const gauge = (name: string, help: string, read: () => number | Promise<number>) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          this.set(await read());
        },
      });
    // Both gauges are collected in one scrape: they share one read of the store.
    let counts: Promise<{ boards: number; players: number }> | undefined;
    const count = async (what: 'boards' | 'players') => {
      counts ??= state.counts().finally(() => {
        setImmediate(() => {
          counts = undefined;
        });
      });
      return (await counts)[what];
    };
    gauge('leaderboard_boards', 'Boards in the store', () => count('boards'));
    gauge('leaderboard_players', 'Players on all boards', () => count('players'));
    gauge(
      'leaderboard_publish_failing_boards',
      'Boards whose last publish failed and is being retried',
      () => state.failingBoards(),
    );
    // Process and Node metrics (CPU, memory, GC, event-loop delay as nodejs_eventloop_lag_*).
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one publish: by outcome and status, its size and its time. */
  publish(report: PublishReport): void {
    const outcome = report.ok ? 'ok' : 'failed';
    this.publishes.inc({ outcome, status: report.ok ? '2xx' : publishFailure(report.error) });
    this.publishBytes.observe({ outcome }, report.bytes);
    this.publishSeconds.observe({ outcome }, report.seconds);
  }

  /** Times one group commit and counts what it made durable. */
  commit(report: CommitReport): void {
    this.commitSeconds.observe(report.seconds);
    this.commitBatch.observe(report.mutations);
  }
}

/** Serves `GET /metrics` from a registry: the listener of the separate metrics port. */
export function metricsListener(registry: Registry): RequestListener {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const refuse = (status: number, code: string, message: string, headers = {}) => {
      const body: ErrorBody = { error: { code, message } };
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (path !== '/metrics') {
      refuse(404, 'not_found', 'metrics are served at /metrics');
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      refuse(405, 'method_not_allowed', `${req.method} is not allowed here; use GET`, {
        Allow: 'GET, HEAD',
      });
    } else {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        () => refuse(500, 'internal', 'the metrics could not be collected'),
      );
    }
  };
}
