import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { BoardView } from '../contract/board.ts';
import { apiPaths } from '../contract/paths.ts';
import { createClient } from '../local/client.ts';
import { BoardFollower } from './harness/follower.ts';
import { type Stack, startTestStack } from './harness/stack.ts';

// The five fault tests of "no lost updates, no lost scores", against a real Pushpin and a real
// origin process. Every check is by version chain and by the data file, never by sleeping.

let stack: Stack | undefined;
const followers: BoardFollower[] = [];

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
  const url = new URL(apiPaths.board('demo'), stack.urls.pushpin).href;
  return { stack, viaPushpin, direct, board, url };
}

async function follow(url: string, count: number): Promise<BoardFollower[]> {
  const opened = await Promise.all(Array.from({ length: count }, () => BoardFollower.open(url)));
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

const scoresOf = (follower: BoardFollower) =>
  Object.fromEntries((follower.board?.players ?? []).map((p) => [p.id, p.score]));

describe('faults', () => {
  it('1. an origin restart disconnects none of 20 viewers, and later updates reach all', async () => {
    const { stack, viaPushpin, board, url } = await setUp();
    const viewers = await follow(url, 20);
    await Promise.all(viewers.map((v) => v.waitForVersion(board.version)));

    await stack.restartOrigin();
    const player = board.players[0]?.id as string;
    await viaPushpin.scoreAdd('demo', player);
    const after = await viaPushpin.scoreAdd('demo', player);
    const version = (await viaPushpin.getBoard('demo')).version;

    await Promise.all(viewers.map((v) => v.waitForVersion(version)));
    for (const viewer of viewers) {
      expect(viewer.neverDisconnected).toBe(true);
      expect(viewer.chainIsUnbroken()).toBe(true);
      expect(scoresOf(viewer)[player]).toBe(after.score);
    }
  });

  it('2. after a Pushpin restart, viewers resume by Last-Event-ID and miss no change', async () => {
    const { stack, viaPushpin, direct, board, url } = await setUp();
    const viewers = await follow(url, 5);
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
      expect(viewer.chainIsUnbroken()).toBe(true);
      expect(viewer.gaps).toEqual([]);
      expect(viewer.board?.players).toEqual(final.players);
    }
  });

  it('3. racing +1s from several clients leave every viewer with exactly the stored scores', async () => {
    const { stack, viaPushpin, board, url } = await setUp({ PUBLISH_INTERVAL_MS: '0' });
    const viewers = await follow(url, 5);
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
      expect(viewer.chainIsUnbroken()).toBe(true);
      expect(viewer.gaps).toEqual([]);
    }
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
  });

  it('5. a viewer gone longer than the history comes back to a snapshot and ends correct', async () => {
    const { viaPushpin, board, url } = await setUp({ HISTORY_SIZE: '5' });
    const [viewer] = (await follow(url, 1)) as [BoardFollower];
    await viewer.waitForVersion(board.version);
    const left = viewer.board as BoardView;
    viewer.close();

    const ids = board.players.map((p) => p.id);
    for (let i = 0; i < 20; i++) await viaPushpin.scoreAdd('demo', ids[i % ids.length] as string);
    const final = await viaPushpin.getBoard('demo');

    const resumed = await resumeFrom(url, left);
    await resumed.waitForVersion(final.version);
    expect(resumed.applied).toEqual([[-1, final.version]]);
    expect(resumed.board?.players).toEqual(final.players);
  });

  it('a viewer gone for less than the history gets one merged update, not a snapshot', async () => {
    const { viaPushpin, board, url } = await setUp();
    const ids = board.players.map((p) => p.id);
    for (let i = 0; i < 7; i++) await viaPushpin.scoreAdd('demo', ids[i % ids.length] as string);
    const final = await viaPushpin.getBoard('demo');

    const resumed = await resumeFrom(url, board);
    await resumed.waitForVersion(final.version);
    expect(resumed.applied).toEqual([[board.version, final.version]]);
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

/** A follower that already knew `board` when its stream dropped, coming back. */
async function resumeFrom(url: string, board: BoardView): Promise<BoardFollower> {
  const follower = await BoardFollower.resume(url, board);
  followers.push(follower);
  return follower;
}

/**
 * Stands between the origin and Pushpin's publish endpoint and can lose publishes on purpose, so
 * a test can make the gap that GRIP reliable streaming must repair.
 */
async function publishRelay() {
  const relay = { target: '', drop: false, dropped: 0, forwarded: 0, url: '', close: () => {} };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (relay.drop) {
      relay.dropped++;
      res.writeHead(200).end('Published\n');
      return;
    }
    relay.forwarded++;
    const upstream = await fetch(new URL(req.url ?? '/', relay.target), {
      method: req.method ?? 'POST',
      headers: { 'Content-Type': req.headers['content-type'] ?? 'application/json' },
      body: Buffer.concat(chunks),
    });
    res.writeHead(upstream.status).end(await upstream.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  relay.close = () => server.close();
  return relay;
}

describe('GRIP reliable streaming', () => {
  it('repairs a lost publish: Pushpin sees the prev-id gap and fetches the recovery link', async () => {
    const relay = await publishRelay();
    try {
      const { stack, viaPushpin, board, url } = await setUp({ GRIP_URL: relay.url });
      relay.target = stack.urls.publish;
      const [viewer] = (await follow(url, 1)) as [BoardFollower];
      await viewer.waitForVersion(board.version);
      const ids = board.players.map((p) => p.id);

      await viaPushpin.scoreAdd('demo', ids[0] as string);
      const reached = (await viaPushpin.getBoard('demo')).version;
      await viewer.waitForVersion(reached);

      relay.drop = true;
      await viaPushpin.scoreAdd('demo', ids[1] as string);
      await new Promise((r) => setTimeout(r, 200));
      relay.drop = false;
      await viaPushpin.scoreAdd('demo', ids[2] as string);
      const final = await viaPushpin.getBoard('demo');

      await viewer.waitForVersion(final.version, 20_000);
      expect(relay.dropped).toBe(1);
      expect(viewer.neverDisconnected).toBe(true);
      expect(viewer.chainIsUnbroken()).toBe(true);
      expect(viewer.board?.players).toEqual(final.players);
    } finally {
      relay.close();
    }
  });
});
