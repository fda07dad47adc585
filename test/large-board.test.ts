import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH } from '../contract/requests.ts';
import { MAX_MESSAGE_BYTES, PAGE_SIZE, pageOf } from '../contract/windows.ts';
import { type Client, createClient } from '../local/client.ts';
import type { Database } from '../origin/domain/board.ts';
import { openingOf, WindowFollower, type WindowQuery } from './harness/follower.ts';
import { askOriginAsProxy, publishedSizes, type Stack, startTestStack } from './harness/stack.ts';

// A board of 100,000 players at Fanout's 64 KiB cap on one message: viewers of a few windows of
// it (the top 100 rows, a page deep in the board, around a player deep in the board, the last
// page) through a real Pushpin that refuses any publish over the cap. Every name is as wide as a
// name can be in bytes, so every page is as large as a page can be. Whatever the board does, a
// stream's opening and every published message stay within the cap, and every viewer ends equal
// to the board as JSON.

const PLAYERS = 100_000;
const BOARD = 'big';
/** Positions that matter below: a player who jumps to the top, and one viewed from around. */
const JUMPER = 50_010;
const AROUND = 75_020;

// 64 code points, most of them 4 bytes in UTF-8, with the characters JSON must escape.
function widestName(i: number): string {
  const head = `"${i}"\\`;
  return head + '𝕏'.repeat(MAX_NAME_LENGTH - head.length);
}

/** The data file the origin starts from: one board, players ranked by their index. */
function largeDatabase(): Database {
  const players = Array.from({ length: PLAYERS }, (_, i) => ({
    id: `p${i}`,
    name: widestName(i),
    // Far apart: a +1 never reorders anyone, and the scores are as wide as they come.
    score: 1_000_000 * (PLAYERS - i),
    scoredAt: i + 1,
  }));
  return {
    boards: {
      [BOARD]: {
        id: BOARD,
        name: 'Large board',
        order: 'desc',
        version: PLAYERS,
        createdAt: new Date(0).toISOString(),
        players,
      },
    },
  };
}

/** Resolves once nothing has been published for a second. */
async function quiet(stack: Stack): Promise<void> {
  let count = -1;
  while (publishedSizes(stack).count !== count) {
    count = publishedSizes(stack).count;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

describe('a board of 100,000 players, at the 64 KiB cap', () => {
  let dir: string | undefined;
  let stack: Stack;
  let api: Client;
  const viewers = new Map<string, WindowFollower>();

  const windows: Record<string, WindowQuery> = {
    'the top 100': { limit: 100 },
    'a page deep in the board': { from: pageOf(JUMPER) * PAGE_SIZE, limit: PAGE_SIZE },
    'around a player deep in the board': { around: `p${AROUND}` },
    'the last page': { from: PLAYERS - 10, limit: 10 },
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'large-board-'));
    const dataFile = join(dir, 'leaderboard.json');
    await writeFile(dataFile, JSON.stringify(largeDatabase()));
    stack = await startTestStack({
      dataFile,
      origin: {
        env: {
          MAX_PLAYERS_PER_BOARD: '1000000',
          SCORE_RATE_PER_SECOND: '1000000',
          SCORE_BURST: '1000000',
        },
      },
    });
    api = createClient(stack.urls.pushpin, stack.adminToken);
  }, 180_000);

  afterAll(async () => {
    for (const viewer of viewers.values()) viewer.close();
    await stack?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const everyViewerMatches = () =>
    Promise.all(
      [...viewers].map(async ([name, viewer]) => {
        await viewer.waitForMatch(90_000).catch((error: Error) => {
          throw new Error(`the viewer of ${name}: ${error.message}`);
        });
        expect(viewer.violations, name).toEqual([]);
      }),
    );

  it("opens a stream on any window in one body within the cap, whatever the board's size", async () => {
    const board = await api.getBoard(BOARD, { limit: 1 });
    expect(board.playerCount).toBe(PLAYERS);
    for (const [name, window] of Object.entries(windows)) {
      const query = new URLSearchParams(
        Object.entries(window).map(([key, value]): [string, string] => [key, String(value)]),
      );
      // Exactly what Pushpin (or Fanout) is handed: the whole opening body.
      const opening = await askOriginAsProxy(stack, `/boards/${BOARD}/?${query}`);
      expect(opening.status, name).toBe(200);
      expect(opening.bytes, name).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      console.log(`opening body of ${name}: ${opening.bytes} bytes`);

      const viewer = await WindowFollower.open({
        baseUrl: stack.urls.pushpin,
        boardId: BOARD,
        window,
      });
      viewers.set(name, viewer);
      await viewer.waitForVersion(board.version, 30_000);
      const [connection] = viewer.connections;
      if (connection === undefined) throw new Error('no connection');
      expect(openingOf(connection).bytes, name).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    }
    // The around window is the largest a stream has: four pages of the main window, two around.
    expect(viewers.get('around a player deep in the board')?.heldPages).toEqual([
      0,
      1,
      2,
      3,
      pageOf(AROUND - 12),
      pageOf(AROUND + 12),
    ]);
    await everyViewerMatches();
  }, 120_000);

  it('brings every viewer to the board after +1s and a player jumping 50,000 places', async () => {
    const published = publishedSizes(stack).count;
    // A jump from deep in the board to the top moves everyone in between: 2,001 pages change,
    // published a few at a time, the top first.
    const top = (await api.getBoard(BOARD, { limit: 1 })).players[0];
    if (top === undefined) throw new Error('the board is empty');
    await api.updatePlayer(BOARD, `p${JUMPER}`, { score: top.score + 1 });
    await api.scoreAdd(BOARD, `p${AROUND}`);
    await api.scoreAdd(BOARD, `p${AROUND + 1}`);
    await api.scoreAdd(BOARD, `p${PLAYERS - 1}`);
    await api.scoreAdd(BOARD, `p${JUMPER}`);

    await everyViewerMatches();
    const jumped = await api.getPlayer(BOARD, `p${JUMPER}`);
    expect(jumped.rank).toBe(1);
    const sizes = publishedSizes(stack);
    expect(sizes.count - published).toBeGreaterThan(2_000);
    expect(sizes.over).toEqual([]);
    expect(sizes.refused).toEqual([]);
    console.log(`largest message so far: ${sizes.largest} bytes, ${sizes.count} messages`);
  }, 180_000);

  it('resets the board with one small message, and every viewer reloads to the board', async () => {
    // Pages still being published from the jump would go out before the reset's message.
    await quiet(stack);
    const before = publishedSizes(stack).count;
    const reset = await api.request('POST', `boards/${BOARD}/reset/`, { admin: true });
    expect(reset.status).toBe(200);
    const version = (await api.getBoard(BOARD, { limit: 1 })).version;

    await everyViewerMatches();
    for (const [name, viewer] of viewers) {
      expect(
        viewer.reloads.map((r) => [r.version, r.reason]),
        name,
      ).toEqual([[version, 'reset']]);
      expect(
        viewer.rows().every((p) => p.score === 0),
        name,
      ).toBe(true);
    }
    // The followed player moved with the reset: its viewer followed it to its new pages, on a
    // new stream whose opening is within the cap too.
    const around = viewers.get('around a player deep in the board');
    expect(around?.reopens).toBe(1);
    const reopened = around?.connections.at(-1);
    if (reopened === undefined) throw new Error('no connection');
    expect(openingOf(reopened).bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);

    const sizes = publishedSizes(stack);
    const sinceReset = stack.relay?.seen.slice(before) ?? [];
    expect(sinceReset.map((p) => [p.channel, p.id])).toEqual([[`board-${BOARD}`, version]]);
    expect(sizes.over).toEqual([]);
    expect(sizes.refused).toEqual([]);
    expect(sizes.largest).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    console.log(`largest message: ${sizes.largest} bytes of ${sizes.count} messages`);
  }, 180_000);
});
