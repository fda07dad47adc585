import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backupSchema } from '../contract/backup.ts';
import { apiPaths } from '../contract/paths.ts';
import { freePort } from '../local/processes.ts';
import { dataOf, openSse, type SseClient } from './harness/sse.ts';
import { type Stack, startTestStack } from './harness/stack.ts';

// The operations features on the real thing: `node origin/main.ts` behind a real Pushpin, a live
// viewer holding a stream through it, and the metrics port. A restore reaches the viewer as a
// reload of its window; readiness, request ids and metrics answer as documented.

interface Board {
  version: number;
  offset: number;
  players: { id: string; score: number }[];
}

let stack: Stack;
let metricsPort: number;
let viewer: SseClient;

const admin = () => ({ authorization: `Bearer ${stack.adminToken}` });
const api = (path: string, init: RequestInit = {}) =>
  fetch(new URL(path, stack.urls.pushpin), init);
const scores = (board: Board) => board.players.map((p) => [p.id, p.score]).sort();
const pages = () => viewer.events.filter((e) => e.event === 'page');
const reloads = () =>
  viewer.events.filter((e) => e.event === 'reload').map((e) => dataOf<{ version: number }>(e));
const top = async () => (await (await api(apiPaths.board('demo'))).json()) as Board;

beforeAll(async () => {
  metricsPort = await freePort();
  stack = await startTestStack({
    origin: { env: { METRICS_PORT: String(metricsPort), PUBLISH_INTERVAL_MS: '0' } },
  });
  viewer = await openSse(new URL(apiPaths.board('demo'), stack.urls.pushpin).href);
  await vi.waitFor(() => expect(pages()).toHaveLength(4), { timeout: 10_000 });
}, 120_000);
afterAll(async () => {
  viewer?.close();
  await stack?.stop();
});

describe('behind a real Pushpin', () => {
  it('a restore reaches a live viewer as a reload with a newer id, to the restored board', async () => {
    const saved = backupSchema.parse(
      await (await api(apiPaths.backup(), { headers: admin() })).json(),
    );
    const before = await top();
    const playerId = before.players[0]?.id ?? '';
    for (let i = 0; i < 3; i++) {
      await api(apiPaths.scoreAdd('demo', playerId), { method: 'POST' });
    }
    await vi.waitFor(() => expect(pages()).toHaveLength(7));
    const lastId = Number(viewer.lastEventId);

    const reply = await api(apiPaths.restore(), {
      method: 'POST',
      headers: { ...admin(), 'content-type': 'application/json' },
      body: JSON.stringify(saved),
    });
    expect(reply.status).toBe(200);
    await vi.waitFor(() => expect(reloads()).toHaveLength(1), { timeout: 10_000 });
    const reload = reloads()[0] as { version: number };
    expect(reload.version).toBeGreaterThan(lastId);
    expect(Number(viewer.lastEventId)).toBe(reload.version);
    const restored = await top();
    expect(restored.version).toBe(reload.version);
    expect(scores(restored)).toEqual(scores(before));
  });

  it('is ready, says so at /readyz, and echoes a request id', async () => {
    const reply = await api(apiPaths.ready(), { headers: { 'x-request-id': 'op-test-1' } });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toMatchObject({ ready: true });
    // Pushpin is on loopback, which the origin trusts by default.
    expect(reply.headers.get('x-request-id')).toBe('op-test-1');
  });

  it('serves its metrics on the metrics port only', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toMatch(/^leaderboard_stream_opens_total\{catch_up="window"\} 1$/m);
    expect(text).toMatch(/^leaderboard_score_adds_total\{by="public"\} 3$/m);
    expect(text).toMatch(/^leaderboard_publishes_total\{outcome="ok",status="2xx"\} [4-9]$/m);
    expect(text).toMatch(
      /^leaderboard_http_request_duration_seconds_count\{route="\/admin\/restore\/",method="POST",status="200"\} 1$/m,
    );
    expect((await api('/metrics')).status).toBe(404);
  });
});
