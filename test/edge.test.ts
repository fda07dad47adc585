import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../local/chromium.ts';
import { type Client, createClient } from '../local/client.ts';
import { ROOT_DIR } from '../local/origin.ts';
import { freePort } from '../local/processes.ts';
import { buildEdgeWasm, findViceroy, VICEROY_INSTALL_HINT } from '../local/viceroy.ts';
import { type FollowerConnection, openingOf, WindowFollower } from './harness/follower.ts';
import { publishedSizes, type Stack, startTestStack } from './harness/stack.ts';

// Under CI a missing Viceroy fails the run; on a laptop it skips, and says how to install it.
const viceroyBin = findViceroy();
const required = process.env.CI === 'true';
if (viceroyBin === undefined && !required) {
  console.warn(`test/edge.test.ts skipped: Viceroy not found. ${VICEROY_INSTALL_HINT}`);
}

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * A pass-through proxy in front of the origin, on the edge's `origin` backend only: what it
 * records reached the origin without Fanout. (Pushpin reaches the origin on its own route.)
 */
interface OriginTap {
  url: string;
  /** The origin it passes requests to. */
  target: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

async function startOriginTap(): Promise<OriginTap> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const origin = new URL(tap.target);
    const upstream = request(
      {
        host: origin.hostname,
        port: origin.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // A dead origin refuses connections: drop this one too, as the real backend would look.
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const tap: OriginTap = {
    url: `http://127.0.0.1:${port}/`,
    target: '',
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return tap;
}

/** Builds the web app into `outDir`, so the origin serves the SPA as it is now. */
function buildWeb(outDir: string): Promise<void> {
  const vite = join(ROOT_DIR, 'node_modules', 'vite', 'bin', 'vite.js');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [vite, 'build', 'web', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: ROOT_DIR, timeout: 300_000 },
      (error, stdout, stderr) =>
        error === null ? resolve() : reject(new Error(`vite build failed:\n${stdout}${stderr}`)),
    );
  });
}

describe.skipIf(viceroyBin === undefined && !required)('the edge, as wasm in Viceroy', () => {
  let dir: string | undefined;
  let stack: Stack | undefined;
  let tap: OriginTap | undefined;
  let edgeUrl: string;
  let api: Client;

  const seenSince = (count: number) => tap?.seen.slice(count) ?? [];
  const seenCount = () => tap?.seen.length ?? 0;

  beforeAll(async () => {
    if (viceroyBin === undefined) {
      throw new Error(
        `CI=true and Viceroy is missing: the edge tests must run. ${VICEROY_INSTALL_HINT}`,
      );
    }
    dir = await mkdtemp(join(tmpdir(), 'edge-'));
    const wasm = join(dir, 'main.wasm');
    const webDist = join(dir, 'web');
    await Promise.all([buildEdgeWasm(wasm), buildWeb(webDist)]);
    // The edge's origin backend points at the tap, and the tap at the origin. Its port is chosen
    // once the tap listens, so the two cannot get the same one; Viceroy probes its backends
    // (`GET /`) as it starts, and the origin is up by then.
    tap = await startOriginTap();
    const originPort = await freePort();
    tap.target = `http://127.0.0.1:${originPort}/`;
    stack = await startTestStack({
      ports: { origin: originPort },
      origin: { env: { WEB_DIST: webDist } },
      viceroy: { wasm, bin: viceroyBin, backendUrl: tap.url },
    });
    if (stack.urls.edge === undefined) throw new Error('the stack did not start the edge');
    edgeUrl = stack.urls.edge;
    api = createClient(edgeUrl, stack.adminToken);
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
    await tap?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('answers its health route and the demo manifest itself', async () => {
    const before = seenCount();
    const health = await fetch(new URL('edge/health', edgeUrl));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, service: 'edge' });

    const manifest = await fetch(new URL('.well-known/fastly/demo-manifest', edgeUrl));
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(await manifest.text()).toMatch(/^---\nschemaVersion: 1\nid: grip-leaderboard\n/);
    expect(seenSince(before)).toEqual([]);
  });

  it('refuses a method the API does not use with 405 JSON, before the origin', async () => {
    const before = seenCount();
    const response = await fetch(new URL('boards/demo/', edgeUrl), { method: 'PUT', body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST, PATCH, DELETE, OPTIONS');
    expect(await response.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
    expect(seenSince(before)).toEqual([]);
  });

  it('sends plain JSON requests straight to the origin, with its own forwarding headers', async () => {
    const before = seenCount();
    const response = await api.request('GET', 'boards/demo/', {
      headers: {
        'Grip-Sig': 'forged',
        'X-Forwarded-For': '198.51.100.66',
        'Fastly-Client-IP': '1.1.1.1',
      },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: 'demo', playerCount: 5 });

    const seen = seenSince(before);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /boards/demo/']);
    const headers = seen[0]?.headers ?? {};
    // No Fanout on this path: nothing signed it, and the client's forgery never arrives.
    expect(headers['grip-sig']).toBeUndefined();
    expect(headers['pushpin-route']).toBeUndefined();
    expect(headers['fastly-client-ip']).toBeUndefined();
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-host']).toBe(new URL(edgeUrl).host);
    expect(headers['x-forwarded-proto']).toBe('http');
  });

  it('names every request with its own id: a client’s X-Request-Id never reaches the origin', async () => {
    const before = seenCount();
    const response = await fetch(new URL('boards/demo/', edgeUrl), {
      headers: { 'X-Request-Id': 'chosen-by-the-client' },
    });
    expect(response.status).toBe(200);
    const seen = seenSince(before);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /boards/demo/']);
    // Fastly's 32-hex trace id (Viceroy counts sandboxes), or a UUID where the runtime gives none.
    const edgeId = /^([0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$/;
    const sent = seen[0]?.headers['x-request-id'];
    expect(sent).toMatch(edgeId);
    expect(response.headers.get('x-request-id')).toBe(sent);

    // The edge's own answers carry one too, and no two requests share one.
    const health = await fetch(new URL('edge/health', edgeUrl));
    const own = health.headers.get('x-request-id');
    expect(own).toMatch(edgeId);
    expect(own).not.toBe(sent);
  });

  it('hands board streams to Fanout: the window, then the page a +1 through the edge changes', async () => {
    const before = seenCount();
    const board = await api.getBoard('demo');
    const player = board.players[0];
    if (player === undefined) throw new Error('the demo board has no players');

    const viewer = await WindowFollower.open({
      baseUrl: edgeUrl,
      boardId: 'demo',
      window: { limit: 25 },
    });
    try {
      await viewer.waitForVersion(board.version);
      const opening = openingOf(viewer.connections[0] as FollowerConnection);
      expect(opening.events.map((e) => e.event)).toEqual(['board', 'page']);
      expect(viewer.rows()).toEqual(board.players);

      const voted = await api.scoreAdd('demo', player.id);
      expect(voted.score).toBe(player.score + 1);
      await viewer.waitForVersion(voted.scoredAt);
      expect(viewer.rows().find((p) => p.id === player.id)?.score).toBe(voted.score);
      expect(viewer.neverDisconnected).toBe(true);
      expect(viewer.violations).toEqual([]);

      // The stream went through Pushpin (whose signed requests are the only ones the origin
      // holds); the direct path carried only the JSON read and the vote.
      const direct = seenSince(before);
      expect(direct.some((r) => String(r.headers.accept).includes('text/event-stream'))).toBe(
        false,
      );
      expect(direct.map((r) => r.method)).toEqual(['GET', 'POST']);
      await viewer.waitForMatch();
    } finally {
      viewer.close();
    }
  });

  it('tells viewers of a reset to reload, and they load their window again through the edge', async () => {
    const viewer = await WindowFollower.open({
      baseUrl: edgeUrl,
      boardId: 'demo',
      window: { limit: 25 },
    });
    try {
      await viewer.waitForVersion((await api.getBoard('demo')).version);
      const before = seenCount();
      const reset = await api.resetBoard('demo');
      await viewer.waitUntil(
        () => viewer.reloads.some((r) => r.loadedVersion !== undefined),
        'reload',
      );
      expect(viewer.reloads.map((r) => [r.version, r.reason])).toEqual([[reset.version, 'reset']]);
      expect(viewer.rows()).toEqual(reset.players.slice(0, 25));
      expect(viewer.rows().every((p) => p.score === 0)).toBe(true);
      expect(viewer.violations).toEqual([]);
      // The reload named its version (`v`), so an edge cache may share it between viewers.
      expect(seenSince(before).map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /boards/demo/reset/',
        `GET /boards/demo/?from=0&limit=25&v=${reset.version}`,
      ]);
      await viewer.waitForMatch();
      const sizes = publishedSizes(stack as Stack);
      expect(sizes.over).toEqual([]);
      expect(sizes.refused).toEqual([]);
    } finally {
      viewer.close();
    }
  });

  it('passes Fanout-path errors of the origin through, and answers bad stream paths itself', async () => {
    const missing = await fetch(new URL('boards/nosuchboard/', edgeUrl), {
      headers: { Accept: 'text/event-stream' },
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });

    const before = seenCount();
    const bad = await fetch(new URL('boards/not.an.id/', edgeUrl), {
      headers: { Accept: 'text/event-stream' },
    });
    expect(bad.status).toBe(404);
    expect(await bad.json()).toMatchObject({ error: { code: 'not_found' } });
    expect(seenSince(before)).toEqual([]);
  });

  it('shows a +1 in one browser in another, both through the edge', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const [voter, watcher] = await Promise.all([browser.newPage(), browser.newPage()]);
      if (voter === undefined || watcher === undefined) throw new Error('no pages');
      const boardUrl = new URL('b/demo', edgeUrl).href;
      await Promise.all([voter.goto(boardUrl), watcher.goto(boardUrl)]);
      for (const page of [voter, watcher]) {
        await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
      }
      const firstRow = voter.locator('[data-testid="player-row"]').first();
      const playerId = await firstRow.getAttribute('data-player-id');
      if (playerId === null) throw new Error('player rows carry no data-player-id');
      const score = (page: typeof voter) =>
        page.locator(
          `[data-testid="player-row"][data-player-id="${playerId}"] [data-testid="score"]`,
        );
      const before = Number(await score(watcher).textContent());

      await firstRow.locator('[data-testid="plus-one"]').click();

      await expect
        .poll(async () => Number(await score(watcher).textContent()), { timeout: 10_000 })
        .toBe(before + 1);
    } finally {
      await browser?.close();
    }
  });

  it('answers 502 JSON, not a crash, while the origin is down', async () => {
    await stack?.killOrigin();
    try {
      const response = await fetch(new URL('boards/', edgeUrl));
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({ error: { code: 'origin_unreachable' } });
      const health = await fetch(new URL('edge/health', edgeUrl));
      expect(health.status).toBe(200);
    } finally {
      await stack?.startOriginAgain();
    }
    expect((await fetch(new URL('boards/', edgeUrl))).status).toBe(200);
  });
});
