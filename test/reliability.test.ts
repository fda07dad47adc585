import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { apiPaths } from '../contract/paths.ts';
import { MAX_MESSAGE_BYTES } from '../contract/windows.ts';
import { createClient } from '../local/client.ts';
import { type FollowerConnection, openingOf, WindowFollower } from './harness/follower.ts';
import { askOriginAsProxy, publishedSizes, type Stack, startTestStack } from './harness/stack.ts';

// The fault tests of "no lost updates, no lost scores", against a real Pushpin and a real origin
// process. Every check is by the rules of each channel (ids never go back), by the board as JSON
// and by the data file, never by sleeping; every message published must fit Fanout's 64 KiB.

let stack: Stack | undefined;
const followers: WindowFollower[] = [];

afterEach(async () => {
  for (const follower of followers.splice(0)) follower.close();
  await stack?.stop();
  stack = undefined;
});

async function setUp(originEnv: NodeJS.ProcessEnv = {}) {
  stack = await startTestStack({
    // Racing clients all come from 127.0.0.1: lift the per-client +1 limit for these tests.
    origin: { env: { SCORE_RATE_PER_SECOND: '1000000', SCORE_BURST: '1000000', ...originEnv } },
  });
  const viaPushpin = createClient(stack.urls.pushpin, stack.adminToken);
  const direct = createClient(stack.urls.origin, stack.adminToken);
  const board = await viaPushpin.getBoard('demo');
  return { stack, viaPushpin, direct, board };
}

/** `count` viewers of the demo board's default window (its top 100 rows), through Pushpin. */
async function follow(stack: Stack, count: number): Promise<WindowFollower[]> {
  const opened = await Promise.all(
    Array.from({ length: count }, () =>
      WindowFollower.open({ baseUrl: stack.urls.pushpin, boardId: 'demo' }),
    ),
  );
  followers.push(...opened);
  return opened;
}

/** The scores in the data file (call after a start of the origin, which folds the journal in). */
async function scoresInDataFile(stack: Stack): Promise<Record<string, number>> {
  const db = JSON.parse(await readFile(stack.dataFile, 'utf8'));
  return Object.fromEntries(
    (db.boards.demo.players as { id: string; score: number }[]).map((p) => [p.id, p.score]),
  );
}

const scoresOf = (follower: WindowFollower) =>
  Object.fromEntries(follower.rows().map((p) => [p.id, p.score]));

/** Every message the origin published so far fitted in 64 KiB, and Pushpin refused none. */
function expectPublishesWithinCap(stack: Stack): void {
  const sizes = publishedSizes(stack);
  expect(sizes.count).toBeGreaterThan(0);
  expect(sizes.over).toEqual([]);
  expect(sizes.refused).toEqual([]);
}

/** A resumed stream's opening: the board's meta and every page of the window, at `version`. */
function expectWholeWindow(connection: FollowerConnection, version: number): void {
  const opening = openingOf(connection);
  expect(opening.events.map((e) => e.event)).toEqual(['board', 'page', 'page', 'page', 'page']);
  expect(opening.events.every((e) => e.id === String(version))).toBe(true);
  expect(opening.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
}

describe('faults', () => {
  it('1. an origin restart disconnects none of 20 viewers, and later changes reach all', async () => {
    const { stack, viaPushpin, board } = await setUp();
    const viewers = await follow(stack, 20);
    await Promise.all(viewers.map((v) => v.waitForVersion(board.version)));

    await stack.restartOrigin();
    const player = board.players[0]?.id as string;
    await viaPushpin.scoreAdd('demo', player);
    const after = await viaPushpin.scoreAdd('demo', player);
    const final = await viaPushpin.getBoard('demo');

    await Promise.all(viewers.map((v) => v.waitForVersion(final.version)));
    for (const viewer of viewers) {
      expect(viewer.neverDisconnected).toBe(true);
      expect(viewer.violations).toEqual([]);
      expect(scoresOf(viewer)[player]).toBe(after.score);
      expect(viewer.rows()).toEqual(final.players);
    }
    expectPublishesWithinCap(stack);
  });

  it('2. after a Pushpin restart, viewers resume by Last-Event-ID and miss no change', async () => {
    const { stack, viaPushpin, direct, board } = await setUp();
    const viewers = await follow(stack, 5);
    await Promise.all(viewers.map((v) => v.waitForVersion(board.version)));
    const ids = board.players.map((p) => p.id);

    await viaPushpin.scoreAdd('demo', ids[0] as string);
    // While Pushpin is down the origin keeps taking writes; their publishes go nowhere.
    const restart = stack.restartPushpin();
    for (let i = 0; i < 10; i++) await direct.scoreAdd('demo', ids[i % ids.length] as string);
    await restart;
    for (let i = 0; i < 5; i++) await viaPushpin.scoreAdd('demo', ids[1] as string);
    const final = await viaPushpin.getBoard('demo');

    await Promise.all(viewers.map((v) => v.waitForVersion(final.version)));
    for (const viewer of viewers) {
      expect(viewer.reconnects).toBeGreaterThan(0);
      expect(viewer.violations).toEqual([]);
      expect(viewer.reloads).toEqual([]);
      expect(viewer.rows()).toEqual(final.players);
      // It came back having missed the changes made while Pushpin was down: the stream opened
      // with the whole window as it then was, in one body within the cap.
      const [back, ...later] = viewer.connections.slice(1);
      if (back === undefined) throw new Error('the viewer never came back');
      expect(Number(back.lastEventId)).toBeGreaterThanOrEqual(board.version);
      const opening = openingOf(back);
      expectWholeWindow(back, Number(opening.events[0]?.id));
      expect(Number(opening.events[0]?.id)).toBeGreaterThan(Number(back.lastEventId));
      for (const connection of later) {
        expect(openingOf(connection).bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      }
    }
    expectPublishesWithinCap(stack);
  });

  it('3. racing +1s from several clients leave every viewer with exactly the stored scores', async () => {
    const { stack, viaPushpin, board } = await setUp({ PUBLISH_INTERVAL_MS: '0' });
    const viewers = await follow(stack, 5);
    await Promise.all(viewers.map((v) => v.waitForVersion(board.version)));
    const ids = board.players.map((p) => p.id);

    const clients = 8;
    const perClient = 40;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let i = 0; i < perClient; i++) {
          await viaPushpin.scoreAdd('demo', ids[(c + i) % ids.length] as string);
        }
      }),
    );
    const final = await viaPushpin.getBoard('demo');
    expect(final.version).toBe(board.version + clients * perClient);

    await Promise.all(viewers.map((v) => v.waitForVersion(final.version)));
    // Recent commits live in the journal beside the data file; a restart folds them into it.
    await stack.restartOrigin();
    const stored = await scoresInDataFile(stack);
    for (const viewer of viewers) {
      expect(scoresOf(viewer)).toEqual(stored);
      expect(viewer.rows()).toEqual(final.players);
      expect(viewer.violations).toEqual([]);
      expect(viewer.reloads).toEqual([]);
    }
    expectPublishesWithinCap(stack);
  });

  it('4. repeated kill -9 of the origin loses no acknowledged +1, and the file always parses', async () => {
    const { stack, board } = await setUp();
    const ids = board.players.map((p) => p.id);
    const before = await scoresInDataFile(stack);
    const acknowledged: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
    const attempted: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
    const kills = 6;

    for (let round = 0; round < kills; round++) {
      let running = true;
      const writers = Array.from({ length: 4 }, (_, w) =>
        keepScoring(stack, ids.slice(w).concat(ids.slice(0, w)), () => running, {
          attempted,
          acknowledged,
        }),
      );
      // Kill once this round has some acknowledged writes (however loaded the machine is), at a
      // moment that differs from round to round.
      const roundStart = Object.values(acknowledged).reduce((a, b) => a + b, 0);
      while (Object.values(acknowledged).reduce((a, b) => a + b, 0) < roundStart + 15) {
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, (round * 37) % 100));
      await stack.killOrigin();
      running = false;
      await Promise.all(writers);
      // The file must parse at every kill, before anything repairs it.
      JSON.parse(await readFile(stack.dataFile, 'utf8'));
      await stack.startOriginAgain();
    }

    const after = await scoresInDataFile(stack);
    let total = 0;
    for (const id of ids) {
      const gained = (after[id] ?? 0) - (before[id] ?? 0);
      total += acknowledged[id] ?? 0;
      expect(gained).toBeGreaterThanOrEqual(acknowledged[id] ?? 0);
      expect(gained).toBeLessThanOrEqual(attempted[id] ?? 0);
    }
    expect(total).toBeGreaterThanOrEqual(kills * 15);
    console.log(`kill -9 test: ${kills} kills, ${total} acknowledged +1s checked against the file`);
    expectPublishesWithinCap(stack);
  });

  it('5. a viewer gone a while resumes to its whole window, in one bounded body, and ends equal to the board', async () => {
    const { stack, viaPushpin, board } = await setUp();
    const [viewer] = (await follow(stack, 1)) as [WindowFollower];
    await viewer.waitForVersion(board.version);
    viewer.pause();

    const ids = board.players.map((p) => p.id);
    for (let i = 0; i < 20; i++) await viaPushpin.scoreAdd('demo', ids[i % ids.length] as string);
    const final = await viaPushpin.getBoard('demo');

    // There is no history to replay: the stream opens with the window as it is now, whose size
    // depends on the window (4 pages of 25 rows here), not on what was missed.
    const resumed = await viewer.resume();
    expect(resumed.lastEventId).toBe(String(board.version));
    await viewer.waitForVersion(final.version);
    expectWholeWindow(resumed, final.version);
    expect(viewer.rows()).toEqual(final.players);
    const body = await askOriginAsProxy(stack, apiPaths.board('demo'), {
      'Last-Event-ID': String(board.version),
    });
    expect(body.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(body.body.match(/^event: \w+$/gm)).toHaveLength(5);

    // And it follows live from there.
    const more = await viaPushpin.scoreAdd('demo', ids[3] as string);
    await viewer.waitForVersion(more.scoredAt);
    await viewer.waitForMatch();
    expect(viewer.violations).toEqual([]);
    expect(viewer.reconnects).toBe(0);
    expectPublishesWithinCap(stack);
  });

  it('6. a viewer that missed nothing resumes to the same window, and still follows every change', async () => {
    const { stack, viaPushpin, board } = await setUp();
    const [viewer] = (await follow(stack, 1)) as [WindowFollower];
    await viewer.waitForVersion(board.version);
    viewer.pause();

    // Its Last-Event-ID is the version it reached on one channel, which says nothing of the
    // others: it is sent its window again, the rows it already has.
    const resumed = await viewer.resume();
    expect(resumed.lastEventId).toBe(String(board.version));
    await viewer.waitUntil(() => resumed.client.events.length >= 5, 'the opening');
    expectWholeWindow(resumed, board.version);
    expect(viewer.duplicates).toBe(5);
    expect(viewer.rows()).toEqual(board.players);

    const ids = board.players.map((p) => p.id);
    const scored = await viaPushpin.scoreAdd('demo', ids[4] as string);
    await viewer.waitForVersion(scored.scoredAt);
    expect(resumed.client.events.slice(5).map((e) => [e.event, e.id])).toEqual([
      ['page', String(scored.scoredAt)],
    ]);
    expect(viewer.rows()).toEqual((await viaPushpin.getBoard('demo')).players);
    expect(viewer.violations).toEqual([]);
    expectPublishesWithinCap(stack);
  });
});

/**
 * `+1`s straight to the origin, to each of `ids` in turn, until `running()` turns false or the
 * origin dies under a request (which was then never acknowledged). A 200 is acknowledged: the
 * origin answers it once the change is on disk.
 */
async function keepScoring(
  stack: Stack,
  ids: readonly string[],
  running: () => boolean,
  counts: { attempted: Record<string, number>; acknowledged: Record<string, number> },
): Promise<void> {
  for (let i = 0; running(); i++) {
    const id = ids[i % ids.length] as string;
    counts.attempted[id] = (counts.attempted[id] ?? 0) + 1;
    let response: Response;
    try {
      response = await fetch(new URL(apiPaths.scoreAdd('demo', id), stack.urls.origin), {
        method: 'POST',
      });
    } catch {
      return;
    }
    if (response.status === 200) counts.acknowledged[id] = (counts.acknowledged[id] ?? 0) + 1;
    await response.arrayBuffer().catch(() => undefined);
  }
}

describe('GRIP reliable streaming', () => {
  it('repairs a lost publish: Pushpin sees the prev-id gap and fetches the recovery link', async () => {
    const { stack, viaPushpin, board } = await setUp();
    const relay = stack.relay;
    if (relay === undefined) throw new Error('the stack has no publish relay');
    const [viewer] = (await follow(stack, 1)) as [WindowFollower];
    await viewer.waitForVersion(board.version);
    const ids = board.players.map((p) => p.id);

    await viaPushpin.scoreAdd('demo', ids[0] as string);
    const reached = (await viaPushpin.getBoard('demo')).version;
    await viewer.waitForVersion(reached);

    // Lose the next publish on the way: the origin thinks it went out, Pushpin never has it.
    let dropping = true;
    relay.drop = () => dropping;
    const lost = await viaPushpin.scoreAdd('demo', ids[1] as string);
    await expect.poll(() => relay.seen.filter((p) => p.dropped).length).toBe(1);
    dropping = false;
    await viaPushpin.scoreAdd('demo', ids[2] as string);
    const final = await viaPushpin.getBoard('demo');

    await viewer.waitForVersion(final.version, 20_000);
    expect(relay.seen.filter((p) => p.dropped).map((p) => [p.channel, p.id])).toEqual([
      ['board-demo.p0', lost.scoredAt],
    ]);
    expect(viewer.neverDisconnected).toBe(true);
    expect(viewer.violations).toEqual([]);
    expect(viewer.rows()).toEqual(final.players);
    // The repair came from the recovery link, asked for with the pages the stream follows (the
    // origin's log line of it may come a moment after its answer reached the viewer).
    const recoveries = () =>
      (stack.origin()?.logs() ?? []).filter((line) =>
        line.includes('"url":"/boards/demo/recover/?pages=0%2C1%2C2%2C3"'),
      ).length;
    await expect.poll(recoveries).toBeGreaterThan(0);
    expectPublishesWithinCap(stack);
  });
});
