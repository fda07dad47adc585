import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorBodySchema } from '../contract/board.ts';
import { apiPaths } from '../contract/paths.ts';
import { readinessSchema } from '../contract/readiness.ts';
import { createClient } from '../local/client.ts';
import { type RedisCluster, type RedisServer, startRedisCluster } from '../local/redis.ts';
import type { StackOptions, StackServiceName } from '../local/stack.ts';
import { WindowFollower } from './harness/follower.ts';
import { type Stack, startTestStack } from './harness/stack.ts';

// The faults of the Redis store, against real processes: Pushpin, redis-server (one node or a
// six-node cluster) and several origins. While clients send `+1`s through Pushpin, an origin is
// killed, Redis is killed and started again, a cluster master is killed. What must hold: no
// acknowledged `+1` is lost (a `+1` whose answer never came may or may not have counted), every
// viewer ends equal to the board as Redis has it, and the origins serve again by themselves.
// How long each fault lasted is printed (`redis-faults:` lines), never asserted.

const BOARD = 'demo';
const LEASE_KEY = `{board:${BOARD}}:lease`;
const TAKEOVER = `publishing board ${BOARD} from its log`;
/** Racing clients all come from 127.0.0.1: lift the per-client `+1` limit. */
const UNLIMITED = { SCORE_RATE_PER_SECOND: '1000000', SCORE_BURST: '1000000' };
/** Three windows of the top, as viewers open them. */
const WINDOWS = [{}, { limit: 3 }, { limit: 25 }];

let stack: Stack | undefined;
const followers: WindowFollower[] = [];
const loads: ScoreLoad[] = [];

afterEach(async () => {
  await Promise.all(loads.splice(0).map((load) => load.stop()));
  for (const follower of followers.splice(0)) follower.close();
  await stack?.stop();
  stack = undefined;
});

/** A line of an origin that took the board's publisher lease, and when it was heard. */
interface Takeover {
  origin: StackServiceName;
  at: number;
}

async function setUp(options: StackOptions, env: NodeJS.ProcessEnv = {}) {
  const takeovers: Takeover[] = [];
  stack = await startTestStack({
    ...options,
    origin: { env: { ...UNLIMITED, ...env } },
    onLine: (origin, line) => {
      if (line.includes(TAKEOVER)) takeovers.push({ origin, at: Date.now() });
    },
  });
  const viaPushpin = createClient(stack.urls.pushpin, stack.adminToken);
  const board = await viaPushpin.getBoard(BOARD);
  const viewers = await Promise.all(
    WINDOWS.map((window) =>
      WindowFollower.open({ baseUrl: stack?.urls.pushpin ?? '', boardId: BOARD, window }),
    ),
  );
  followers.push(...viewers);
  await Promise.all(viewers.map((v) => v.waitForVersion(board.version, 30_000)));
  return { stack, viaPushpin, board, viewers, takeovers };
}

/** `+1`s from `clients` loops through Pushpin, started now. */
function startLoad(stack: Stack, ids: readonly string[], clients = 4): ScoreLoad {
  const load = new ScoreLoad(stack.urls.pushpin, ids, clients);
  loads.push(load);
  return load;
}

/** Each player's score as the API reads it from Redis, through Pushpin. */
async function scoresOf(stack: Stack): Promise<Map<string, number>> {
  const board = await createClient(stack.urls.pushpin).getBoard(BOARD, { limit: 1_000 });
  return new Map(board.players.map((p) => [p.id, p.score]));
}

/**
 * Every acknowledged `+1` is in the scores, and nothing more than was sent: for each player,
 * acknowledged ≤ gained ≤ acknowledged + unanswered (a `+1` whose answer was an error or never
 * came may have counted), plus `twice`: `+1`s that may have been applied twice. Gives the totals.
 */
function expectNoAcknowledgedLost(
  load: ScoreLoad,
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  twice: ReadonlyMap<string, number> = new Map(),
): { acknowledged: number; unanswered: number; gained: number } {
  const totals = { acknowledged: 0, unanswered: 0, gained: 0 };
  for (const [id, score] of before) {
    const gained = (after.get(id) ?? 0) - score;
    const acknowledged = load.acknowledged.get(id) ?? 0;
    const unanswered = load.unanswered.get(id) ?? 0;
    expect(gained, `player ${id}`).toBeGreaterThanOrEqual(acknowledged);
    expect(gained, `player ${id}`).toBeLessThanOrEqual(
      acknowledged + unanswered + (twice.get(id) ?? 0),
    );
    totals.acknowledged += acknowledged;
    totals.unanswered += unanswered;
    totals.gained += gained;
  }
  return totals;
}

/**
 * Each viewer heard the final version and equals the board as Redis has it. What broke the rules
 * of a channel on the way is reported (`viewersSaw`), not asserted: a stream's opening or
 * recovery body is read from Redis as it is now, while a publish read a moment earlier may still
 * be on its way with the prev-id the body declares, so Pushpin can deliver a page older than the
 * one the body just gave (seen here about once in fifteen runs, under load, with or without a
 * fault). Once the origin closes that race, assert `violations` empty here.
 */
async function expectViewersEqualBoard(stack: Stack, viewers: readonly WindowFollower[]) {
  const final = await createClient(stack.urls.pushpin).getBoard(BOARD);
  for (const viewer of viewers) {
    await viewer.waitForVersion(final.version, 30_000);
    await viewer.waitForMatch(30_000);
    expect(viewer.rows()).toEqual(final.players.slice(0, viewer.window.limit));
  }
  return final;
}

/** The viewers' reconnections and breaks of channel rules, in words. */
function viewersSaw(viewers: readonly WindowFollower[]): string {
  const broken = viewers.flatMap((v) => v.violations);
  const breaks = broken.length === 0 ? 'none' : `${broken.length} (${broken[0]})`;
  return `viewer reconnects ${viewers.map((v) => v.reconnects).join(', ')}, channel-rule breaks ${breaks}`;
}

/**
 * The longest silence between two events a viewer heard from `from` to `to` (the last one before
 * `from` included): how long publishing paused, as a viewer sees it.
 */
function longestSilence(viewer: WindowFollower, from: number, to: number): number {
  const times = viewer.connections.flatMap(({ client }) => client.receivedAt).sort((a, b) => a - b);
  const lastBefore = times.filter((t) => t <= from).at(-1) ?? from;
  const window = [lastBefore, ...times.filter((t) => t > from && t <= to)];
  let longest = 0;
  for (let i = 1; i < window.length; i++) {
    longest = Math.max(longest, (window[i] as number) - (window[i - 1] as number));
  }
  return longest;
}

function report(line: string): void {
  console.log(`redis-faults: ${line}`);
}

/** Resolves once `done()` holds, checked every 50 ms; `what` says what was awaited when it does not. */
async function until(
  done: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() >= deadline) {
      throw new Error(`no ${typeof what === 'string' ? what : what()} within ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}

/** The kinds of refusal among the answers from `from` on (every answer but 200). */
function refusals(load: ScoreLoad, from: number): string[] {
  return [...load.statusesFrom(from).keys()].filter((kind) => kind !== '200').sort();
}

describe('Redis faults under +1 load', () => {
  it('1. kill -9 of the origin holding the lease (and taking all traffic): no acknowledged +1 lost, viewers keep their streams', {
    timeout: 240_000,
  }, async () => {
    const { stack, board, viewers, takeovers } = await setUp({ redis: true, origins: 3 });
    const redis = stack.redis as RedisServer;
    const ids = board.players.map((p) => p.id);
    const [first, ...others] = stack.origins;
    if (first === undefined) throw new Error('no origin');
    // The origin that starts first takes the lease at start-up and gives it back once the board
    // is idle: wait for that, so that the first writer (the first origin, where Pushpin sends
    // everything) takes it when the load starts.
    await until(async () => (await redis.command('GET', LEASE_KEY)) === null, 'free lease', 30_000);
    const before = await scoresOf(stack);

    const loadStart = Date.now();
    const load = startLoad(stack, ids);
    await load.waitForAcknowledged(60, loadStart, 60_000);
    expect(await redis.command('GET', LEASE_KEY)).not.toBeNull();
    expect(takeovers.filter((t) => t.at >= loadStart).at(-1)?.origin).toBe('origin');

    const killing = Date.now();
    await first.kill();
    const killedAt = Date.now();
    await until(
      () => takeovers.some((t) => t.at > killedAt),
      'takeover of the lease by another origin',
      30_000,
    );
    const heir = takeovers.find((t) => t.at > killedAt) as Takeover;
    expect(heir.origin).not.toBe('origin');
    // Load goes on a while under the new publisher.
    await load.waitForAcknowledged(60, heir.at, 60_000);
    await load.stop();

    // The others serve, each on its own.
    for (const origin of others) {
      const ready = await fetch(new URL(apiPaths.ready(), origin.url));
      expect(ready.status).toBe(200);
    }

    // Requests cut by the kill come back from Pushpin as 502s; nothing else is refused.
    expect(refusals(load, 0).filter((kind) => kind !== '502 bad gateway')).toEqual([]);
    // A `+1` under way at the kill may count twice: when the origin's connection dies with no
    // answer, Pushpin's zurl sends the request again (a fresh connection, refused by the dead
    // origin, so to the next one), and the dead origin may have applied it already.
    const inFlight = load.inFlightDuring(killing, killedAt);
    const totals = expectNoAcknowledgedLost(load, before, await scoresOf(stack), inFlight);
    const extra = totals.gained - totals.acknowledged - totals.unanswered;
    const final = await expectViewersEqualBoard(stack, viewers);
    for (const viewer of viewers) expect(viewer.neverDisconnected).toBe(true);
    expect(final.version).toBeGreaterThanOrEqual(board.version + totals.acknowledged);

    const pauses = viewers.map((v) => longestSilence(v, killedAt, Date.now()));
    const firstAfter = load.firstAcknowledgedAfter(killedAt);
    report(
      `origin kill -9 (3 origins, 1 Redis node, PUBLISH_LEASE_MS 2000): publishing paused ${Math.max(...pauses)} ms as viewers saw it (per viewer: ${pauses.join(', ')} ms; ${viewersSaw(viewers)}); ${heir.origin} took the lease ${heir.at - killedAt} ms after the kill; first +1 answered 200 after the kill: ${(firstAfter ?? killedAt) - killedAt} ms; ${totals.acknowledged} acknowledged +1s, ${totals.unanswered} unanswered (${describeStatuses(load.statusesFrom(0))}), score gained ${totals.gained}: none lost; ${[...inFlight.values()].reduce((a, b) => a + b, 0)} +1s under way at the kill, at least ${Math.max(0, extra)} of them counted twice`,
    );
  });

  it('2. Redis killed and restarted (AOF, appendfsync always): 503 store_unavailable while down, recovery without restarting origins, nothing lost', {
    timeout: 240_000,
  }, async () => {
    const { stack, board, viewers } = await setUp({ redis: true, origins: 2 });
    const redis = stack.redis as RedisServer;
    const ids = board.players.map((p) => p.id);
    const pids = stack.origins.map((origin) => origin.service()?.pid);
    const before = await scoresOf(stack);

    const loadStart = Date.now();
    const load = startLoad(stack, ids);
    await load.waitForAcknowledged(60, loadStart, 60_000);

    await redis.kill();
    const downAt = Date.now();
    // Every origin finds out on its own; then writes and reads are refused, with the API's error.
    const endpoints = [...stack.urls.origins, stack.urls.pushpin];
    for (const origin of stack.urls.origins) {
      await until(
        async () => (await fetch(new URL(apiPaths.ready(), origin))).status === 503,
        `/readyz 503 from ${origin}`,
        15_000,
      );
      const ready = await fetch(new URL(apiPaths.ready(), origin));
      const readiness = readinessSchema.parse(await ready.json());
      expect(readiness.ready).toBe(false);
      expect(readiness.checks.store.ok).toBe(false);
      expect(readiness.error?.code).toBe('not_ready');
      // Liveness stays up: the origin recovers by itself, nothing should restart it.
      expect((await fetch(new URL(apiPaths.health(), origin))).status).toBe(200);
    }
    for (const base of endpoints) {
      const write = await fetch(new URL(apiPaths.scoreAdd(BOARD, ids[0] as string), base), {
        method: 'POST',
      });
      expect(write.status).toBe(503);
      expect(errorBodySchema.parse(await write.json()).error.code).toBe('store_unavailable');
      const read = await fetch(new URL(apiPaths.board(BOARD), base), {
        headers: { Accept: 'application/json' },
      });
      expect(read.status).toBe(503);
      expect(errorBodySchema.parse(await read.json()).error.code).toBe('store_unavailable');
    }
    await sleep(1_000);

    const restartedAt = Date.now();
    await redis.restart();
    const upAt = Date.now();
    await load.waitForAcknowledged(60, upAt, 60_000);
    await load.stop();
    // Every write refused while Redis was away was refused as the API says: 503, JSON, its code.
    expect(refusals(load, downAt)).toEqual(['503 store_unavailable']);

    // The same processes, ready again.
    expect(stack.origins.map((origin) => origin.service()?.pid)).toEqual(pids);
    for (const origin of stack.urls.origins) {
      await until(
        async () => (await fetch(new URL(apiPaths.ready(), origin))).status === 200,
        `/readyz 200 from ${origin}`,
        15_000,
      );
    }
    const totals = expectNoAcknowledgedLost(load, before, await scoresOf(stack));
    await expectViewersEqualBoard(stack, viewers);

    const outage = load.outage(downAt);
    const pauses = viewers.map((v) => longestSilence(v, downAt, Date.now()));
    report(
      `Redis kill -9 and restart (2 origins): +1s refused for ${outage?.ms} ms (first failure ${(outage?.failedAt ?? downAt) - downAt} ms after the kill, first 200 ${(outage?.recoveredAt ?? upAt) - restartedAt} ms after redis-server was started again, which answered PING after ${upAt - restartedAt} ms; down ${restartedAt - downAt} ms); answers while it lasted: ${describeStatuses(load.statusesFrom(downAt))}; publishing paused ${Math.max(...pauses)} ms as viewers saw it (${viewersSaw(viewers)}); ${totals.acknowledged} acknowledged, ${totals.unanswered} unanswered, gained ${totals.gained}: none lost`,
    );
  });
});

describe('a Redis Cluster master killed under +1 load', () => {
  const metaKey = `{board:${BOARD}}:meta`;
  let cluster: RedisCluster;

  beforeAll(async () => {
    cluster = await startRedisCluster({ nodeTimeoutMs: 1_500 });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  /**
   * Two origins on the cluster, viewers, `+1`s through Pushpin; the master of the board's slot
   * killed once 60 are acknowledged, its replica taking over. With `bringBack`, the killed node
   * is started again (as a supervisor would) and rejoins as the new master's replica. The load
   * goes on until 60 more are acknowledged.
   */
  async function killMasterUnderLoad(env: NodeJS.ProcessEnv, bringBack: boolean) {
    // A node killed by an earlier test comes back as a replica first.
    for (const node of cluster.nodes) if (!node.running()) await node.restart();
    await cluster.waitForOk({ replicasSynced: true, timeoutMs: 60_000 });
    const { stack, board, viewers } = await setUp({ redis: { url: cluster.url }, origins: 2 }, env);
    const ids = board.players.map((p) => p.id);
    const before = await scoresOf(stack);

    const loadStart = Date.now();
    const load = startLoad(stack, ids);
    await load.waitForAcknowledged(60, loadStart, 60_000);
    const master = await cluster.masterOf(metaKey);
    await master.kill();
    const killedAt = Date.now();
    const next = await cluster.waitForFailover(metaKey, master, 60_000);
    expect(next).not.toBe(master);
    const failedOverAt = Date.now();
    let rejoinedAt: number | undefined;
    if (bringBack) {
      await master.restart();
      await cluster.waitForOk({ replicasSynced: true, timeoutMs: 60_000 });
      rejoinedAt = Date.now();
    }
    await load.waitForAcknowledged(60, rejoinedAt ?? failedOverAt, 90_000);
    await load.stop();
    // A write refused during the failover is refused as the API says: 503 store_unavailable.
    expect(refusals(load, killedAt)).toEqual(['503 store_unavailable']);

    const after = await scoresOf(stack);
    const outage = load.outage(killedAt);
    const rejoined =
      rejoinedAt === undefined
        ? ''
        : `, the killed node back as its replica and in sync ${rejoinedAt - killedAt} ms after it`;
    /** What happened, in words; call once the viewers are done. */
    const summary = () => {
      const pauses = viewers.map((v) => longestSilence(v, killedAt, Date.now()));
      return `+1s refused for ${outage?.ms} ms (the first ${(outage?.failedAt ?? killedAt) - killedAt} ms after the kill; the replica took over ${failedOverAt - killedAt} ms after it, cluster-node-timeout 1500${rejoined}); answers from the kill on: ${describeStatuses(load.statusesFrom(killedAt))}; publishing paused ${Math.max(...pauses)} ms as viewers saw it (${viewersSaw(viewers)})`;
    };
    return { stack, before, after, load, viewers, summary };
  }

  it('3. with WAIT for one replica (the default on a cluster), the failover loses no acknowledged +1', {
    timeout: 360_000,
  }, async () => {
    // The new master has no replica until the killed node comes back: WAIT 1 refuses every write
    // of its slots until then (each one applied on the master, answered 503).
    const { stack, before, after, load, viewers, summary } = await killMasterUnderLoad({}, true);
    const totals = expectNoAcknowledgedLost(load, before, after);
    await expectViewersEqualBoard(stack, viewers);
    report(
      `cluster master kill -9, REDIS_WAIT_REPLICAS 1 (default): ${summary()}; ${totals.acknowledged} acknowledged, ${totals.unanswered} unanswered, score gained ${totals.gained}: none lost`,
    );
  });

  it('3b. without WAIT, the same failover: what was lost is counted (not asserted)', {
    timeout: 360_000,
  }, async () => {
    const { stack, before, after, load, viewers, summary } = await killMasterUnderLoad(
      { REDIS_WAIT_REPLICAS: '0' },
      false,
    );
    let lost = 0;
    let acknowledged = 0;
    for (const [id, score] of before) {
      const gained = (after.get(id) ?? 0) - score;
      const acked = load.acknowledged.get(id) ?? 0;
      acknowledged += acked;
      lost += Math.max(0, acked - gained);
      // Whatever was lost, nothing counts that was not sent.
      expect(gained).toBeLessThanOrEqual(acked + (load.unanswered.get(id) ?? 0));
    }
    // Viewers end equal to the board when nothing was lost; a lost write takes the board's
    // version back under ids already published, which no viewer is promised to follow.
    if (lost === 0) await expectViewersEqualBoard(stack, viewers);
    report(
      `cluster master kill -9, REDIS_WAIT_REPLICAS 0: ${summary()}; ${acknowledged} acknowledged, ${lost} of them lost`,
    );
  });
});

/**
 * One answer to a `+1`: for which player, when it was sent and when it came, its status (0: none
 * came) and the error code, if any.
 */
interface Answer {
  id: string;
  sentAt: number;
  at: number;
  status: number;
  code: string | undefined;
}

/**
 * `clients` loops sending `+1`s through `baseUrl`, each to the players in turn, until `stop()`.
 * A 200 is acknowledged: the change is in Redis (and on as many replicas as the origin waits
 * for). Anything else, an error status or a connection cut before the whole answer came, may or
 * may not have counted. After a failure a loop waits 50 ms, so an outage costs a bounded number
 * of requests.
 */
class ScoreLoad {
  readonly acknowledged = new Map<string, number>();
  readonly unanswered = new Map<string, number>();
  readonly answers: Answer[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly baseUrl: string,
    ids: readonly string[],
    clients: number,
  ) {
    this.loops = Array.from({ length: clients }, (_, c) =>
      this.loop(ids.slice(c % ids.length).concat(ids.slice(0, c % ids.length))),
    );
  }

  /** Resolves once `count` `+1`s answered 200 from `since` on. */
  waitForAcknowledged(count: number, since: number, timeoutMs: number): Promise<void> {
    return until(
      () => this.answers.filter((a) => a.status === 200 && a.at >= since).length >= count,
      () => `${count} acknowledged +1s (${describeStatuses(this.statusesFrom(since))} so far)`,
      timeoutMs,
    );
  }

  /** The `+1`s under way at some moment from `from` to `to`, by player. */
  inFlightDuring(from: number, to: number): Map<string, number> {
    const counts = new Map<string, number>();
    for (const answer of this.answers) {
      if (answer.sentAt <= to && answer.at >= from) {
        counts.set(answer.id, (counts.get(answer.id) ?? 0) + 1);
      }
    }
    return counts;
  }

  firstAcknowledgedAfter(from: number): number | undefined {
    return this.answers.find((a) => a.at > from && a.status === 200)?.at;
  }

  /** From the first failed answer after `from` to the first 200 after that one. */
  outage(from: number): { failedAt: number; recoveredAt: number; ms: number } | undefined {
    const failed = this.answers.find((a) => a.at > from && a.status !== 200);
    if (failed === undefined) return undefined;
    const recovered = this.answers.find((a) => a.at > failed.at && a.status === 200);
    if (recovered === undefined) return undefined;
    return { failedAt: failed.at, recoveredAt: recovered.at, ms: recovered.at - failed.at };
  }

  /** How many answers of each kind came from `from` on (`200`, `503 store_unavailable`, …). */
  statusesFrom(from: number): Map<string, number> {
    const counts = new Map<string, number>();
    for (const answer of this.answers) {
      if (answer.at < from) continue;
      const kind =
        answer.status === 0
          ? 'no answer'
          : `${answer.status}${answer.code === undefined ? '' : ` ${answer.code}`}`;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    return counts;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(ids: readonly string[]): Promise<void> {
    for (let i = 0; this.running; i++) {
      const id = ids[i % ids.length] as string;
      const answer = await this.send(id);
      this.answers.push(answer);
      const counts = answer.status === 200 ? this.acknowledged : this.unanswered;
      counts.set(id, (counts.get(id) ?? 0) + 1);
      if (answer.status !== 200) await sleep(50);
    }
  }

  private async send(id: string): Promise<Answer> {
    const sentAt = Date.now();
    try {
      const response = await fetch(new URL(apiPaths.scoreAdd(BOARD, id), this.baseUrl), {
        method: 'POST',
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      const code =
        response.status === 200 ? undefined : (codeOf(text) ?? response.statusText.toLowerCase());
      return { id, sentAt, at: Date.now(), status: response.status, code };
    } catch {
      return { id, sentAt, at: Date.now(), status: 0, code: undefined };
    }
  }
}

function codeOf(text: string): string | undefined {
  try {
    const body = errorBodySchema.safeParse(JSON.parse(text));
    return body.success ? body.data.error.code : undefined;
  } catch {
    return undefined;
  }
}

function describeStatuses(counts: ReadonlyMap<string, number>): string {
  return [...counts].map(([kind, count]) => `${count} × ${kind}`).join(', ') || 'none';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
