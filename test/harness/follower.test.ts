import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BoardView, RankedPlayer } from '../../contract/board.ts';
import { type BoardEvent, encodeSse } from '../../contract/events.ts';
import { type FollowerConnection, openingOf, WindowFollower } from './follower.ts';

// The follower against a scripted server: it must rebuild a window from what it is told, and
// catch a stream that breaks the rules, or the e2e suites that rely on it prove nothing.

const player = (id: string, score: number, rank: number): RankedPlayer => ({
  id,
  name: id.toUpperCase(),
  score,
  scoredAt: 1,
  rank,
});
const meta = (version: number, playerCount = 2) => ({
  id: 'b',
  name: 'B',
  order: 'desc' as const,
  operator: 'incr' as const,
  version,
  playerCount,
});

let server: Server;
let baseUrl: string;
const streams: ServerResponse[] = [];
const requests: { url: string; lastEventId: string | undefined }[] = [];
/** What the JSON board answers (the board as it is now). */
let board: BoardView = { ...meta(5), offset: 0, players: [] };

const send = (...events: BoardEvent[]) => streams.at(-1)?.write(events.map(encodeSse).join(''));

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ url: req.url ?? '', lastEventId: req.headers['last-event-id'] as string });
    if (req.headers.accept === 'text/event-stream') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('retry: 2000\n\n');
      streams.push(res);
      return;
    }
    const from = Number(url.searchParams.get('from') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 100);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({ ...board, offset: from, players: board.players.slice(from, from + limit) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterEach(() => {
  for (const stream of streams.splice(0)) stream.end();
  requests.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('WindowFollower', () => {
  it('builds its window from the board and its pages, and matches the board as JSON', async () => {
    const a = player('a', 3, 1);
    const b = player('b', 1, 2);
    board = { ...meta(5), offset: 0, players: [a, b] };
    const follower = await WindowFollower.open({ baseUrl, boardId: 'b', window: { limit: 30 } });
    send(
      { type: 'board', board: meta(5) },
      { type: 'page', version: 5, page: 0, players: [a, b] },
      { type: 'page', version: 5, page: 1, players: [] },
    );
    await follower.waitForVersion(5);
    expect(follower.heldPages).toEqual([0, 1]);
    expect(follower.rows()).toEqual([a, b]);
    expect(await follower.differences()).toEqual([]);
    expect(openingOf(follower.connections[0] as FollowerConnection).events).toHaveLength(3);

    // A page replaces what the follower had of it; the board as JSON moved on the same way.
    const b2 = { ...b, score: 4, scoredAt: 6, rank: 1 };
    board = { ...meta(6), offset: 0, players: [b2, { ...a, rank: 2 }] };
    send({ type: 'page', version: 6, page: 0, players: board.players });
    await follower.waitForVersion(6);
    await follower.waitForMatch(2_000);
    expect(follower.violations).toEqual([]);
    follower.close();
  });

  it('reloads its pages as JSON on a reload, naming the version', async () => {
    board = { ...meta(9), offset: 0, players: [player('a', 0, 1), player('b', 0, 1)] };
    const follower = await WindowFollower.open({ baseUrl, boardId: 'b', window: { limit: 10 } });
    send({ type: 'board', board: meta(5) }, { type: 'page', version: 5, page: 0, players: [] });
    await follower.waitForVersion(5);
    send({ type: 'reload', version: 9, reason: 'reset', spreadMs: 10_000 });
    await follower.waitUntil(() => follower.reloads[0]?.loadedVersion === 9, 'reload', 2_000);
    expect(requests.at(-1)?.url).toBe('/boards/b/?from=0&limit=25&v=9');
    expect(follower.rows()).toEqual(board.players);
    // A page event older than the reload is stale: it does not undo it.
    send({ type: 'page', version: 8, page: 0, players: [] });
    await follower.waitUntil(() => follower.stale === 1, 'stale page', 2_000);
    expect(follower.rows()).toEqual(board.players);
    expect(follower.violations).toEqual([]);
    follower.close();
  });

  it('reports a channel going back, a version told twice differently, and a wrong SSE id', async () => {
    const follower = await WindowFollower.open({ baseUrl, boardId: 'b', window: { limit: 25 } });
    send(
      { type: 'board', board: meta(5) },
      { type: 'page', version: 5, page: 0, players: [player('a', 1, 1)] },
      { type: 'page', version: 5, page: 0, players: [player('a', 1, 1)] },
      { type: 'page', version: 4, page: 0, players: [] },
      { type: 'page', version: 6, page: 0, players: [player('a', 2, 1)] },
      { type: 'page', version: 6, page: 0, players: [player('a', 3, 1)] },
    );
    streams.at(-1)?.write('event: page\nid: 99\ndata: {"version":7,"page":0,"players":[]}\n\n');
    await follower.waitForVersion(7);
    expect(follower.duplicates).toBe(1);
    expect(follower.violations).toEqual([
      'page 0: page 4 came after page 5',
      'page 0: two page events of version 6 differ',
      'page event of version 7 has the SSE id 99',
    ]);
    follower.close();
  });

  it('comes back with Last-Event-ID when the stream drops, and stops on deleted', async () => {
    const follower = await WindowFollower.open({ baseUrl, boardId: 'b' });
    send({ type: 'board', board: meta(3, 0) }, { type: 'page', version: 3, page: 0, players: [] });
    await follower.waitForVersion(3);
    streams.at(-1)?.end();
    await follower.waitUntil(() => follower.connections.length === 2, 'reconnection', 2_000);
    expect(requests.at(-1)?.lastEventId).toBe('3');
    send({ type: 'deleted', version: 4 });
    await follower.waitUntil(() => follower.deleted, 'deleted', 2_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(follower.connections).toHaveLength(2);
    expect(follower.reconnects).toBe(1);
    follower.close();
  });
});
