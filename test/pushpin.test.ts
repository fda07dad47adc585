import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardView } from '../contract/board.ts';
import { apiPaths } from '../contract/paths.ts';
import { type Client, createClient } from '../local/client.ts';
import { freePort } from '../local/processes.ts';
import { type PushpinService, startPushpin } from '../local/pushpin.ts';
import { dataOf, openSse, type SseClient, type SseEvent } from './harness/sse.ts';
import { type Stack, startTestStack } from './harness/stack.ts';

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

// The score a player has in a snapshot or an update event, if the event carries it.
function scoreIn(event: SseEvent, playerId: string): number | undefined {
  if (event.event !== 'snapshot' && event.event !== 'update') return undefined;
  const data = dataOf<{ players: { id: string; score: number }[] }>(event);
  return data.players.find((p) => p.id === playerId)?.score;
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
});

describe('the stack: origin behind Pushpin', () => {
  let stack: Stack;
  let api: Client;
  const streams: SseClient[] = [];
  const open = async () => {
    const client = await openSse(new URL(apiPaths.board('demo'), stack.urls.pushpin).href);
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

  it('gives every viewer the snapshot first, then the update a +1 causes', async () => {
    const viewers = [await open(), await open()];
    const snapshots = await Promise.all(viewers.map((v) => v.waitFor(() => true)));
    const boards = snapshots.map((snapshot) => {
      expect(snapshot.event).toBe('snapshot');
      const board = dataOf<BoardView>(snapshot);
      expect(board.id).toBe('demo');
      expect(board.players.length).toBe(5);
      expect(snapshot.id).toBe(String(board.version));
      return board;
    });
    const before = boards[0];
    const last = before?.players[before.players.length - 1];
    if (before === undefined || last === undefined) throw new Error('the demo board is empty');

    const player = await api.scoreAdd('demo', last.id);
    expect(player.score).toBe(last.score + 1);

    for (const viewer of viewers) {
      const update = await viewer.waitFor((e) => e.event === 'update');
      const data = dataOf<{ version: number; since: number }>(update);
      expect(data.since).toBe(before.version);
      expect(data.version).toBeGreaterThan(before.version);
      expect(update.id).toBe(String(data.version));
      expect(scoreIn(update, last.id)).toBe(last.score + 1);
      expect(viewer.events.map((e) => e.event)).toEqual(['snapshot', 'update']);
    }
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
    await viewer.waitFor((e) => e.event === 'snapshot');
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
    // with an update, or with a fresh snapshot when the restarted origin cannot tell what the
    // stream missed. A publish whose prev-id does not follow what Pushpin last delivered waits up
    // to message_wait (5 s) for the missing one before Pushpin asks the origin to recover.
    expect(viewer.disconnected).toBeUndefined();
    await api.scoreAdd('demo', target.id);
    await viewer.waitFor((e) => scoreIn(e, target.id) === target.score + 16, 20_000);
  });
});
