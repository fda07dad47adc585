import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardMeta, PageData } from '../contract/events.ts';
import { apiPaths } from '../contract/paths.ts';
import { MAX_MESSAGE_BYTES } from '../contract/windows.ts';
import { type Client, createClient } from '../local/client.ts';
import { freePort } from '../local/processes.ts';
import { type PushpinService, startPushpin } from '../local/pushpin.ts';
import { dataOf, openSse, type SseClient, type SseEvent } from './harness/sse.ts';
import { askOriginAsProxy, publishedSizes, type Stack, startTestStack } from './harness/stack.ts';

// Verifies an HS256 JWT by hand and returns its claims; throws when the signature is wrong.
function verifyHs256(token: string, key: string): Record<string, unknown> {
  const [header = '', payload = '', signature = ''] = token.split('.');
  expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ alg: 'HS256' });
  const expected = createHmac('sha256', key).update(`${header}.${payload}`).digest();
  const actual = Buffer.from(signature, 'base64url');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new Error('Grip-Sig signature does not match the key');
  }
  return JSON.parse(Buffer.from(payload, 'base64url').toString());
}

// Sends one GET over a fresh connection and gives every byte that comes back until the server
// closes it ('' when it closes without answering). `Connection: close` makes a server that answers
// close too.
function rawGet(url: string, path: string, headers: Record<string, string> = {}): Promise<string> {
  const { hostname, port, host } = new URL(url);
  const head = Object.entries({ Host: host, Connection: 'close', ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\n${head}\r\n`);
    });
    let received = '';
    socket.setEncoding('latin1');
    socket.setTimeout(10_000, () =>
      socket.destroy(new Error(`no answer to GET ${path.slice(0, 40)}…`)),
    );
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve(received) : reject(error),
    );
    socket.on('end', () => resolve(received));
  });
}

// The score a player has in a page event, if the event carries the player.
function scoreIn(event: SseEvent, playerId: string): number | undefined {
  if (event.event !== 'page') return undefined;
  return dataOf<PageData>(event).players.find((p) => p.id === playerId)?.score;
}

// A GRIP publish of one SSE message to `channel`, whose request body is exactly `bytes` long.
function publishBodyOf(channel: string, bytes: number): string {
  const body = (content: string) =>
    JSON.stringify({ items: [{ channel, formats: { 'http-stream': { content } } }] });
  return body(`:${'x'.repeat(bytes - Buffer.byteLength(body(':')))}`);
}

describe('Pushpin in front of a bare origin', () => {
  // A key with characters Pushpin's INI reader treats specially: it must still sign with it.
  const sigKey = 'local,key;with "specials"';
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  let origin: Server | undefined;
  let dir: string | undefined;
  const pushpins: PushpinService[] = [];
  let originPort = 0;

  beforeAll(async () => {
    originPort = await freePort();
    const server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      if (req.url === '/stream') {
        res.writeHead(200, {
          'Content-Type': 'text/event-stream',
          'Grip-Hold': 'stream',
          'Grip-Channel': 'test-channel',
        });
        res.end('event: hello\ndata: {}\n\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`origin saw ${req.url}`);
    });
    origin = server;
    await new Promise<void>((resolve) => server.listen(originPort, '127.0.0.1', resolve));
    const root = await mkdtemp(join(tmpdir(), 'pushpin-test-'));
    dir = root;
    // Two at once, as when the tests run beside `npm start`: nothing they open may collide.
    const started = await Promise.all(
      ['a', 'b'].map(async (name) =>
        startPushpin({
          dir: join(root, name),
          httpPort: await freePort(),
          publishPort: await freePort(),
          originPort,
          sigKey,
        }),
      ),
    );
    pushpins.push(...started);
  });

  afterAll(async () => {
    await Promise.all(pushpins.map((p) => p.stop()));
    await new Promise((resolve) => (origin ? origin.close(resolve) : resolve(undefined)));
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('forwards requests with a Grip-Sig signed HS256 with our key, issued by pushpin', async () => {
    const [a] = pushpins;
    const response = await fetch(new URL('hello?x=1', a?.url));
    expect(await response.text()).toBe('origin saw /hello?x=1');
    const request = seen.findLast((r) => r.url === '/hello?x=1');
    const sig = request?.headers['grip-sig'];
    expect(typeof sig).toBe('string');
    const claims = verifyHs256(String(sig), sigKey);
    expect(claims.iss).toBe('pushpin');
    expect(Number(claims.exp)).toBeGreaterThan(Date.now() / 1000);
    expect(() => verifyHs256(String(sig), 'changeme')).toThrow(/does not match/);
  });

  it('replaces a client-sent X-Forwarded-For with the address it saw', async () => {
    const [a] = pushpins;
    await fetch(new URL('xff', a?.url), { headers: { 'X-Forwarded-For': '6.6.6.6' } });
    const request = seen.findLast((r) => r.url === '/xff');
    expect(request?.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('routes `Pushpin-Route: origin` (what Viceroy sends) to the origin', async () => {
    const [, b] = pushpins;
    const response = await fetch(new URL('routed', b?.url), {
      headers: { 'Pushpin-Route': 'origin' },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('origin saw /routed');
  });

  // condure copies the whole URI (http://host:port/path?query) into a fixed 4096-byte array
  // (URI_SIZE_MAX, in Pushpin's connmgr too), parses at most 64 headers (HEADERS_MAX) and reads
  // the request head into client_buffer_size (8192): past any of them it closes the connection
  // without a status line, and no setting changes the first two. Node itself answers such
  // requests (its limit is 16 KB of head, then 431).
  it('closes the connection without an answer once the URI passes 4096 bytes', async () => {
    const [a] = pushpins;
    if (a === undefined) throw new Error('Pushpin did not start');
    const room = 4096 - `http://${new URL(a.url).host}`.length;
    const fits = `/${'a'.repeat(room - 1)}`;
    const tooLong = `/${'a'.repeat(room)}`;
    expect(await rawGet(a.url, fits)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(await rawGet(a.url, tooLong)).toBe('');
    expect(await rawGet(a.url, `/${'a'.repeat(7_000)}`)).toBe('');
    const straight = `http://127.0.0.1:${originPort}/`;
    expect(await rawGet(straight, `/${'a'.repeat(7_000)}`)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it('closes the connection without an answer once the request head passes 8 KB', async () => {
    const [a] = pushpins;
    if (a === undefined) throw new Error('Pushpin did not start');
    expect(await rawGet(a.url, '/head', { 'X-Pad': 'p'.repeat(7_800) })).toMatch(
      /^HTTP\/1\.1 200 /,
    );
    expect(await rawGet(a.url, '/head', { 'X-Pad': 'p'.repeat(8_200) })).toBe('');
  });

  it('closes the connection without an answer past 64 headers', async () => {
    const [a] = pushpins;
    if (a === undefined) throw new Error('Pushpin did not start');
    // rawGet sends Host and Connection too.
    const headers = (count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`X-H${i}`, 'v']));
    expect(await rawGet(a.url, '/many', headers(62))).toMatch(/^HTTP\/1\.1 200 /);
    expect(await rawGet(a.url, '/many', headers(63))).toBe('');
  });

  it('delivers a publish to held streams of that Pushpin only', async () => {
    const [a, b] = pushpins;
    if (a === undefined || b === undefined) throw new Error('Pushpins did not start');
    const onA = await openSse(new URL('stream', a.url).href);
    const onB = await openSse(new URL('stream', b.url).href);
    try {
      await onA.waitFor((e) => e.event === 'hello');
      await onB.waitFor((e) => e.event === 'hello');
      const published = await fetch(new URL('publish/', a.publishUrl), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          items: [
            {
              channel: 'test-channel',
              formats: { 'http-stream': { content: 'event: pushed\nid: 7\ndata: {"n":1}\n\n' } },
            },
          ],
        }),
      });
      expect(published.status).toBe(200);
      const pushed = await onA.waitFor((e) => e.event === 'pushed');
      expect(pushed).toEqual({ event: 'pushed', id: '7', data: '{"n":1}' });
      expect(onA.lastEventId).toBe('7');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(onB.events.map((e) => e.event)).toEqual(['hello']);
    } finally {
      onA.close();
      onB.close();
    }
  });

  it("takes a publish of Fanout's 64 KiB and refuses one byte more, delivering nothing", async () => {
    const [a] = pushpins;
    if (a === undefined) throw new Error('Pushpin did not start');
    const stream = await openSse(new URL('stream', a.url).href);
    try {
      await stream.waitFor((e) => e.event === 'hello');
      const publish = (bytes: number) =>
        fetch(new URL('publish/', a.publishUrl), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: publishBodyOf('test-channel', bytes),
        });
      const over = await publish(MAX_MESSAGE_BYTES + 1);
      expect(over.status).toBe(400);
      expect(await over.text()).toMatch(/too large/i);
      const at = await publish(MAX_MESSAGE_BYTES);
      expect(at.status).toBe(200);
      // The message at the cap is a comment of 65 KB: it arrives, and only it.
      await expect
        .poll(() => stream.bytes, { timeout: 5_000 })
        .toBeGreaterThan(MAX_MESSAGE_BYTES - 200);
      expect(stream.bytes).toBeLessThan(MAX_MESSAGE_BYTES);
    } finally {
      stream.close();
    }
  });
});

describe('the stack: origin behind Pushpin', () => {
  let stack: Stack;
  let api: Client;
  const streams: SseClient[] = [];
  const open = async (query = '') => {
    const client = await openSse(
      new URL(`${apiPaths.board('demo')}${query}`, stack.urls.pushpin).href,
    );
    streams.push(client);
    return client;
  };

  beforeAll(async () => {
    stack = await startTestStack();
    api = createClient(stack.urls.pushpin, stack.adminToken);
  });

  afterAll(async () => {
    for (const client of streams) client.close();
    await stack?.stop();
  });

  it("gives every viewer the board and its window's pages first, then the page a +1 changes", async () => {
    const before = await api.getBoard('demo');
    const viewers = [await open(), await open()];
    for (const viewer of viewers) {
      // The default window is 100 rows: pages 0 to 3, the first holding the whole demo board.
      await viewer.waitFor((e) => e.event === 'page' && dataOf<PageData>(e).page === 3);
      expect(viewer.events.map((e) => e.event)).toEqual(['board', 'page', 'page', 'page', 'page']);
      expect(viewer.events.every((e) => e.id === String(before.version))).toBe(true);
      expect(dataOf<BoardMeta>(viewer.events[0] as SseEvent)).toEqual({
        id: 'demo',
        name: before.name,
        order: before.order,
        operator: 'incr',
        version: before.version,
        playerCount: 5,
      });
      const pages = viewer.events.slice(1).map((e) => dataOf<PageData>(e));
      expect(pages.map((p) => p.page)).toEqual([0, 1, 2, 3]);
      expect(pages[0]?.players).toEqual(before.players);
      expect(pages.slice(1).map((p) => p.players)).toEqual([[], [], []]);
    }
    const last = before.players.at(-1);
    if (last === undefined) throw new Error('the demo board is empty');

    const player = await api.scoreAdd('demo', last.id);
    expect(player.score).toBe(last.score + 1);
    const after = await api.getBoard('demo');

    for (const viewer of viewers) {
      const page = await viewer.waitFor(
        (e) => e.event === 'page' && e.id !== String(before.version),
      );
      const data = dataOf<PageData>(page);
      expect(data.page).toBe(0);
      expect(data.version).toBe(after.version);
      expect(page.id).toBe(String(after.version));
      expect(scoreIn(page, last.id)).toBe(last.score + 1);
      expect(data.players).toEqual(after.players);
      // Nothing else: the board's size did not change, and no other page did.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(viewer.events.map((e) => e.event)).toEqual([
        'board',
        ...['page', 'page', 'page', 'page'],
        'page',
      ]);
    }
  });

  it("holds a stream on the board's channel and its window's pages, with a recovery link", async () => {
    const board = await api.getBoard('demo');
    const opening = await askOriginAsProxy(stack, `${apiPaths.board('demo')}?limit=30&from=50`);
    expect(opening.status).toBe(200);
    expect(opening.headers['grip-hold']).toBe('stream');
    // Rows 50..79 are pages 2 and 3; each channel is held after the last id it published.
    const channels = String(opening.headers['grip-channel'])
      .split(',')
      .map((c) => c.trim().split(';')[0]);
    expect(channels).toEqual(['board-demo', 'board-demo.p2', 'board-demo.p3']);
    expect(opening.headers['grip-link']).toBe('</boards/demo/recover/?pages=2%2C3>; rel=next');
    const events = opening.body.match(/^event: \w+$/gm);
    expect(events).toEqual(['event: board', 'event: page', 'event: page']);
    expect(opening.body).toContain(`id: ${board.version}\n`);
    expect(opening.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);

    // A stream resumed at the current version is sent its window again: its Last-Event-ID says
    // which version one of its channels reached, not that every channel did.
    const current = await askOriginAsProxy(stack, apiPaths.board('demo'), {
      'Last-Event-ID': String(board.version),
    });
    expect(current.status).toBe(200);
    expect(current.headers['grip-hold']).toBe('stream');
    expect(current.body.match(/^event: \w+$/gm)).toHaveLength(5);
    expect(current.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });

  it('refuses the stream on the origin itself (no Grip-Sig) with 406 JSON', async () => {
    const response = await fetch(new URL(apiPaths.board('demo'), stack.urls.origin), {
      headers: { Accept: 'text/event-stream' },
    });
    expect(response.status).toBe(406);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({
      error: { code: expect.any(String), message: expect.any(String) },
    });
  });

  it('keeps data across an origin restart and a crash, while viewers stay connected', async () => {
    const viewer = await open();
    await viewer.waitFor((e) => e.event === 'board');
    const board = await api.getBoard('demo');
    const target = board.players[0];
    if (target === undefined) throw new Error('the demo board is empty');

    await api.scoreAdd('demo', target.id, 5);
    await stack.restartOrigin();
    expect((await api.getPlayer('demo', target.id)).score).toBe(target.score + 5);

    await api.scoreAdd('demo', target.id, 10);
    await stack.killOrigin();
    expect(stack.origin()?.exit()?.signal).toBe('SIGKILL');
    await stack.startOriginAgain();
    expect((await api.getPlayer('demo', target.id)).score).toBe(target.score + 15);

    // Pushpin held the viewer's connection the whole time, and the new origin still reaches it:
    // with the page published, or with what the recovery link sends when the restarted origin's
    // ids do not follow the ones Pushpin last delivered (Pushpin waits up to message_wait, 5 s,
    // for a missing message before it asks).
    expect(viewer.disconnected).toBeUndefined();
    await api.scoreAdd('demo', target.id);
    await viewer.waitFor((e) => scoreIn(e, target.id) === target.score + 16, 20_000);
  });

  it("published every message within Fanout's 64 KiB, and Pushpin refused none", () => {
    const sizes = publishedSizes(stack);
    expect(sizes.count).toBeGreaterThan(0);
    expect(sizes.over).toEqual([]);
    expect(sizes.refused).toEqual([]);
    expect(sizes.largest).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });
});
