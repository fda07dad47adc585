import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RankedPlayer } from '../contract/board.ts';
import { createdApiKeySchema, type ScoreEntry } from '../contract/scores.ts';
import { PAGE_SIZE } from '../contract/windows.ts';
import { type ApiResponse, type Client, createClient } from '../local/client.ts';
import { buildEdgeWasm, findViceroy, VICEROY_INSTALL_HINT } from '../local/viceroy.ts';
import { type FollowerConnection, WindowFollower } from './harness/follower.ts';
import type { SseEvent } from './harness/sse.ts';
import { publishedSizes, type Stack, startTestStack } from './harness/stack.ts';

// A game server's score batch through the edge (Viceroy) and Pushpin: made with an API key, it is
// one change, so every viewer hears one update (one `page` event per page it changed, all at the
// batch's version) and ends equal to the board; a retry with the same Idempotency-Key answers the
// first result and publishes nothing. And the refusals a game server meets, through the edge.

// Under CI a missing Viceroy fails the run; on a laptop it skips, and says how to install it.
const viceroyBin = findViceroy();
const required = process.env.CI === 'true';
if (viceroyBin === undefined && !required) {
  console.warn(`test/scores.test.ts skipped: Viceroy not found. ${VICEROY_INSTALL_HINT}`);
}

const VIEWERS = 3;
/** Players on the board before the batch; the batch scores 20 of them and brings 30 new ones. */
const SEEDED = 30;
/** The viewers' window: the whole board (60 players, three pages) in one stream. */
const WINDOW = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string | undefined;
let wasm: string;

beforeAll(async () => {
  if (viceroyBin === undefined) return;
  dir = await mkdtemp(join(tmpdir(), 'scores-e2e-'));
  wasm = join(dir, 'main.wasm');
  await buildEdgeWasm(wasm);
}, 300_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

// On the embedded store, and on one Redis node (its origin publishes from the board's change log).
describe.skipIf(viceroyBin === undefined && !required).each([
  ['embedded', false],
  ['Redis', true],
])('score batches through the edge, on the %s store', (_store, redis) => {
  let stack: Stack | undefined;
  let admin: Client;
  let boardId: string;
  let otherBoardId: string;
  let key: { id: string; token: string };

  /** A request through the edge with the API key, answered as it comes. */
  const withKey = (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> =>
    admin.request(method, path, {
      body,
      headers: { Authorization: `Bearer ${key.token}`, ...headers },
    });
  const errorOf = (reply: ApiResponse) =>
    (reply.body as { error: { code: string; entries?: unknown } }).error;

  beforeAll(async () => {
    if (viceroyBin === undefined) {
      throw new Error(
        `CI=true and Viceroy is missing: the edge tests must run. ${VICEROY_INSTALL_HINT}`,
      );
    }
    stack = await startTestStack({ redis, viceroy: { wasm, bin: viceroyBin } });
    if (stack.urls.edge === undefined) throw new Error('the stack did not start the edge');
    admin = createClient(stack.urls.edge, stack.adminToken);

    const board = await admin.request('POST', 'boards/', {
      admin: true,
      body: { name: 'Ranked', operator: 'best' },
    });
    const other = await admin.request('POST', 'boards/', {
      admin: true,
      body: { name: 'Elsewhere' },
    });
    expect([board.status, other.status]).toEqual([201, 201]);
    boardId = (board.body as { id: string }).id;
    otherBoardId = (other.body as { id: string }).id;
    const seeded = await admin.request('POST', `boards/${boardId}/scores/`, {
      admin: true,
      body: {
        entries: Array.from({ length: SEEDED }, (_, i) => ({
          externalKey: `steam:${i}`,
          name: `Seeded ${i}`,
          score: 100 + i * 10,
        })),
      },
    });
    expect(seeded.status).toBe(200);
    const made = await admin.request('POST', 'admin/keys/', {
      admin: true,
      body: { name: 'Game server', boards: [boardId], ratePerSecond: 50 },
    });
    expect(made.status).toBe(201);
    const created = createdApiKeySchema.parse(made.body);
    key = { id: created.key.id, token: created.token };
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('reaches every viewer as one update, and a retry publishes nothing', async () => {
    const before = await admin.getBoard(boardId, { limit: WINDOW });
    const viewers = await Promise.all(
      Array.from({ length: VIEWERS }, () =>
        WindowFollower.open({
          baseUrl: stack?.urls.edge ?? '',
          boardId,
          window: { limit: WINDOW },
        }),
      ),
    );
    try {
      for (const viewer of viewers) {
        await viewer.waitForVersion(before.version);
        await viewer.waitForMatch();
      }
      const heard = viewers.map((viewer) => streamOf(viewer).events.length);

      // 20 players by id (some better, some not: `best` keeps the higher), 30 new by their key.
      const entries: ScoreEntry[] = [
        ...before.players.slice(0, 20).map((player, i) => ({
          playerId: player.id,
          score: i % 2 === 0 ? player.score + 500 + i : player.score - 1,
        })),
        ...Array.from({ length: 30 }, (_, i) => ({
          externalKey: `epic:${i}`,
          name: `New ${i}`,
          score: 95 + i * 13,
        })),
      ];
      const idempotency = { 'Idempotency-Key': 'match-4711-final' };
      const first = await withKey('POST', `boards/${boardId}/scores/`, { entries }, idempotency);
      expect(first.status, first.text).toBe(200);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const result = first.body as { version: number; players: Array<{ created: boolean }> };
      expect(result.version).toBe(before.version + 1);
      expect(result.players.filter((p) => p.created)).toHaveLength(30);

      const after = await admin.getBoard(boardId, { limit: WINDOW });
      expect(after.version).toBe(result.version);
      expect(after.playerCount).toBe(SEEDED + 30);
      const changed = changedPages(before.players, after.players);
      expect(changed.length).toBeGreaterThan(1);

      for (const viewer of viewers) {
        await viewer.waitForVersion(result.version);
        await viewer.waitForMatch();
        expect(viewer.neverDisconnected).toBe(true);
        expect(viewer.violations).toEqual([]);
        expect(viewer.reloads).toEqual([]);
      }
      // Anything published late would arrive now.
      await sleep(500);
      const updates = viewers.map((viewer, i) => streamOf(viewer).events.slice(heard[i]));
      for (const events of updates) {
        // One update: every event at the batch's version, one page event per changed page, the
        // board's meta (its player count changed) at most once.
        expect(events.map((e) => e.id)).toEqual(events.map(() => String(result.version)));
        expect(pagesOf(events)).toEqual(changed);
        expect(events.filter((e) => e.event === 'board').length).toBeLessThanOrEqual(1);
        expect(events.every((e) => e.event === 'page' || e.event === 'board')).toBe(true);
      }

      // The game server did not hear the answer and sends the batch again, same key.
      const published = publishedSizes(stack as Stack).count;
      const heardBeforeRetry = viewers.map((viewer) => streamOf(viewer).events.length);
      const retry = await withKey('POST', `boards/${boardId}/scores/`, { entries }, idempotency);
      expect(retry.status).toBe(200);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.text).toBe(first.text);
      await sleep(1_000);
      expect(publishedSizes(stack as Stack).count).toBe(published);
      expect(viewers.map((viewer) => streamOf(viewer).events.length)).toEqual(heardBeforeRetry);
      expect((await admin.getBoard(boardId, { limit: WINDOW })).version).toBe(result.version);
      const sizes = publishedSizes(stack as Stack);
      expect(sizes.over).toEqual([]);
      expect(sizes.refused).toEqual([]);
    } finally {
      for (const viewer of viewers) viewer.close();
    }
  });

  it('refuses what a game server gets wrong, changing nothing', async () => {
    const before = await admin.getBoard(boardId, { limit: WINDOW });
    const published = publishedSizes(stack as Stack).count;
    const one = { entries: [{ externalKey: 'steam:0', score: 1 }] };

    const outside = await withKey('POST', `boards/${otherBoardId}/scores/`, one);
    expect(outside.status).toBe(403);
    expect(errorOf(outside).code).toBe('forbidden');

    const tooMany = await withKey('POST', `boards/${boardId}/scores/`, {
      entries: Array.from({ length: 1_001 }, (_, i) => ({ externalKey: `x:${i}`, score: i })),
    });
    expect(tooMany.status).toBe(400);
    expect(errorOf(tooMany).code).toBe('invalid_body');

    const duplicated = await withKey('POST', `boards/${boardId}/scores/`, {
      entries: [
        { externalKey: 'steam:1', score: 5_000 },
        { playerId: before.players[3]?.id, score: 5_000 },
        { externalKey: 'steam:1', score: 6_000 },
        { playerId: before.players[3]?.id, score: 6_000 },
      ],
    });
    expect(duplicated.status).toBe(400);
    expect(errorOf(duplicated)).toMatchObject({
      code: 'invalid_entries',
      entries: [
        { index: 2, message: expect.stringMatching(/same player as entries\[0\]/) },
        { index: 3, message: expect.stringMatching(/same player as entries\[1\]/) },
      ],
    });

    const revoked = await admin.request('DELETE', `admin/keys/${key.id}/`, { admin: true });
    expect(revoked.status).toBe(204);
    const afterRevoke = await withKey('POST', `boards/${boardId}/scores/`, one);
    expect(afterRevoke.status).toBe(401);
    expect(errorOf(afterRevoke).code).toBe('unauthorized');
    expect(afterRevoke.headers.get('www-authenticate')).toMatch(/^Bearer/);

    await sleep(500);
    expect(await admin.getBoard(boardId, { limit: WINDOW })).toEqual(before);
    expect(publishedSizes(stack as Stack).count).toBe(published);
  });
});

/** The stream a viewer opened (it never reconnected: the test checks). */
function streamOf(viewer: WindowFollower) {
  return (viewer.connections[0] as FollowerConnection).client;
}

/** The pages whose rows differ between two readings of the top of a board, in order. */
function changedPages(before: RankedPlayer[], after: RankedPlayer[]): number[] {
  const pages: number[] = [];
  for (let page = 0; page * PAGE_SIZE < Math.max(before.length, after.length); page++) {
    const rows = (players: RankedPlayer[]) =>
      JSON.stringify(players.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE));
    if (rows(before) !== rows(after)) pages.push(page);
  }
  return pages;
}

/** The page numbers of a stream's page events, in order (a page heard twice, twice). */
function pagesOf(events: SseEvent[]): number[] {
  return events
    .filter((e) => e.event === 'page')
    .map((e) => (JSON.parse(e.data) as { page: number }).page)
    .sort((a, b) => a - b);
}
