import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { routeOf } from './http/request-metrics.ts';
import { metricsListener } from './metrics.ts';
import {
  ADMIN_TOKEN,
  HS256_KEY,
  type RecordingServer,
  signJwt,
  startRecordingServer,
  startTestOrigin,
  storeUnderTest,
  type TestOrigin,
} from './test-origin.ts';

// Real requests through a real origin, then a scrape of its registry through the metrics port's
// own listener: the names, labels and values an operator would see. On every store
// (vitest.config.ts).
const STORE = storeUnderTest();

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads Prometheus' text format (the lines that are samples). */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key ?? ''] = value ?? '';
    }
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of one sample (0 when absent, as Prometheus reads a series not yet created). */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value ?? 0;
}

/** Serves an origin's registry as main.ts does on METRICS_PORT; returns its URL. */
async function serveMetrics(origin: TestOrigin): Promise<{ url: string; server: Server }> {
  const server = createServer(metricsListener(origin.metrics.registry)).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const plusOne = (origin: TestOrigin) =>
  origin.send('/boards/demo/players/p1/score-add/', { method: 'POST' });
const gripSig = () =>
  signJwt({ iss: 'pushpin', exp: Math.floor(Date.now() / 1000) + 3600 }, HS256_KEY);

describe('GET /metrics after real requests', () => {
  let origin: TestOrigin;
  let metrics: { url: string; server: Server };
  let samples: Sample[];
  let text: string;
  /** The publishes of the four changes. */
  let publishes: number;

  beforeAll(async () => {
    origin = await startTestOrigin({
      ...STORE,
      env: { SCORE_BURST: '3', SCORE_RATE_PER_SECOND: '1' },
    });
    metrics = await serveMetrics(origin);
    await origin.send('/boards/');
    await origin.send('/boards/demo/players/p2/');
    for (let i = 0; i < 4; i++) await plusOne(origin); // the 4th is past the burst: 429
    await origin.send('/boards/demo/players/p2/score-add/', {
      method: 'POST',
      headers: ADMIN,
      body: '{"amount":10}',
    });
    await origin.send('/boards/demo/', {
      headers: { accept: 'text/event-stream', 'grip-sig': gripSig() },
    });
    await origin.send('/boards/demo/recover/?pages=0', {
      headers: { 'grip-sig': gripSig(), 'grip-last': 'board-demo; last-id=1' },
    });
    await origin.send('/boards/nope/recover/?pages=0', {
      headers: { 'grip-sig': gripSig(), 'grip-last': 'board-nope; last-id=1' },
    });
    await origin.send('/no/such/path');
    await origin.settled();
    publishes = origin.published.length;
    const reply = await fetch(`${metrics.url}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await reply.text();
    samples = parseSamples(text);
  });
  afterAll(async () => {
    metrics.server.close();
    await origin.close();
  });

  const http = (route: string, method: string, status: string) =>
    sampleValue(samples, 'leaderboard_http_request_duration_seconds_count', {
      route,
      method,
      status,
    });

  it('counts requests by route pattern, method and status, never by raw path', () => {
    expect(http('/boards/', 'GET', '200')).toBe(1);
    expect(http('/boards/:boardId/players/:playerId/', 'GET', '200')).toBe(1);
    expect(http('/boards/:boardId/players/:playerId/score-add/', 'POST', '200')).toBe(4);
    expect(http('/boards/:boardId/players/:playerId/score-add/', 'POST', '429')).toBe(1);
    expect(http('/boards/:boardId/', 'GET', '200')).toBe(1);
    expect(http('/boards/:boardId/recover/', 'GET', '200')).toBe(2);
    expect(http('other', 'GET', '404')).toBe(1);
    expect(text).not.toMatch(/route="\/boards\/demo/);
    expect(text).not.toContain('/no/such/path');
  });

  it('times requests in a histogram with buckets', () => {
    const buckets = samples.filter(
      (s) =>
        s.name === 'leaderboard_http_request_duration_seconds_bucket' &&
        s.labels.route === '/boards/',
    );
    expect(buckets.map((b) => b.labels.le)).toContain('+Inf');
    expect(
      sampleValue(samples, 'leaderboard_http_request_duration_seconds_bucket', {
        route: '/boards/',
        le: '+Inf',
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'leaderboard_http_request_duration_seconds_sum', { route: '/boards/' }),
    ).toBeGreaterThan(0);
  });

  it('counts +1s apart from the admin amounts, and the rate-limit refusals', () => {
    expect(sampleValue(samples, 'leaderboard_score_adds_total', { by: 'public' })).toBe(3);
    expect(sampleValue(samples, 'leaderboard_score_adds_total', { by: 'admin' })).toBe(1);
    expect(sampleValue(samples, 'leaderboard_rate_limited_total')).toBe(1);
  });

  // Group commits are the embedded store's.
  it.runIf(STORE.store === 'embedded')(
    'times group commits and counts the mutations each made durable',
    () => {
      expect(sampleValue(samples, 'leaderboard_store_commit_batch_size_sum')).toBe(4);
      const commits = sampleValue(samples, 'leaderboard_store_commit_batch_size_count');
      expect(commits).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'leaderboard_store_commit_duration_seconds_count')).toBe(commits);
      expect(sampleValue(samples, 'leaderboard_store_commit_duration_seconds_sum')).toBeGreaterThan(
        0,
      );
    },
  );

  it('counts publishes with their bytes and times', () => {
    // The embedded store publishes each change as it is made; the Redis store's publisher reads
    // them from the change log a moment later, and may publish several as one.
    if (STORE.store === 'embedded') expect(publishes).toBe(4);
    else expect(publishes).toBeGreaterThan(0);
    expect(
      sampleValue(samples, 'leaderboard_publishes_total', { outcome: 'ok', status: '2xx' }),
    ).toBe(publishes);
    expect(sampleValue(samples, 'leaderboard_publish_bytes_count', { outcome: 'ok' })).toBe(
      publishes,
    );
    expect(
      sampleValue(samples, 'leaderboard_publish_bytes_sum', { outcome: 'ok' }),
    ).toBeGreaterThan(publishes * 50);
    expect(
      sampleValue(samples, 'leaderboard_publish_duration_seconds_count', { outcome: 'ok' }),
    ).toBe(publishes);
    expect(sampleValue(samples, 'leaderboard_publish_failing_boards')).toBe(0);
  });

  it('counts stream opens and recoveries by what caught them up', () => {
    expect(sampleValue(samples, 'leaderboard_stream_opens_total', { catch_up: 'window' })).toBe(1);
    expect(
      sampleValue(samples, 'leaderboard_stream_recoveries_total', { catch_up: 'window' }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'leaderboard_stream_recoveries_total', { catch_up: 'deleted' }),
    ).toBe(1);
  });

  it('reads the database for its gauges', () => {
    expect(sampleValue(samples, 'leaderboard_boards')).toBe(1);
    expect(sampleValue(samples, 'leaderboard_players')).toBe(5);
  });

  it("includes Node's metrics, the event-loop delay among them", () => {
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(samples.map((s) => s.name)).toContain(name);
    }
  });

  it('is a registry of its own: another app starts from zero', async () => {
    // On the embedded store whatever the suite's: the registry is the app's, and a second origin
    // on the suite's Redis would wipe the first's.
    const other = await startTestOrigin();
    try {
      await other.send('/boards/');
      const otherSamples = parseSamples(await other.metrics.registry.metrics());
      expect(
        sampleValue(otherSamples, 'leaderboard_http_request_duration_seconds_count', {
          route: '/boards/',
        }),
      ).toBe(1);
      expect(sampleValue(otherSamples, 'leaderboard_score_adds_total', { by: 'public' })).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('answers only GET /metrics, with the JSON error shape otherwise', async () => {
    const elsewhere = await fetch(`${metrics.url}/`);
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toMatchObject({ error: { code: 'not_found' } });
    const post = await fetch(`${metrics.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('failed publishes', () => {
  let proxy: RecordingServer;
  beforeAll(async () => {
    proxy = await startRecordingServer();
    proxy.answer.status = 503;
  });
  afterAll(() => proxy.close());

  it('are counted by the status the proxy answered', async () => {
    const origin = await startTestOrigin({ ...STORE, env: { GRIP_URL: `${proxy.url}/` } });
    try {
      await plusOne(origin);
      await vi.waitFor(async () => {
        const samples = parseSamples(await origin.metrics.registry.metrics());
        expect(
          sampleValue(samples, 'leaderboard_publishes_total', { outcome: 'failed', status: '503' }),
        ).toBeGreaterThanOrEqual(1);
        expect(sampleValue(samples, 'leaderboard_publish_failing_boards')).toBe(1);
      });
    } finally {
      await origin.close();
    }
  });
});

describe('routeOf', () => {
  it.each([
    ['/boards/', '/boards/'],
    ['/boards/abc/', '/boards/:boardId/'],
    ['/boards/abc', '/boards/:boardId/'],
    ['/boards/abc/players/xyz/score-add/', '/boards/:boardId/players/:playerId/score-add/'],
    ['/boards/abc/export/', '/boards/:boardId/export/'],
    ['/admin/backup/', '/admin/backup/'],
    ['/healthz', '/healthz'],
    ['/assets/app-1234.js', '/assets/*'],
    ['/b/abc', 'other'],
    ['/boards/abc/def/', 'other'],
  ])('%s is counted as %s', (path, route) => {
    expect(routeOf(path)).toBe(route);
  });
});
