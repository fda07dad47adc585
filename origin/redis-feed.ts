import { createHash, randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { ReloadReason } from '../contract/events.ts';
import { reloadReasonSchema } from '../contract/events.ts';
import type { Broadcaster } from './broadcaster.ts';
import type { BoardChange } from './domain/board.ts';
import { parseMoved } from './store/redis/encoding.ts';
import { boardKeys, REGISTRY_KEY } from './store/redis/keys.ts';

/*
 * Who publishes a board when every origin writes it (the Redis store).
 *
 * Each change is written by its script to the board's change log (`{board:<id>}:log`, a Redis
 * stream) together with the change itself. One origin at a time holds the board's publisher lease
 * (`{board:<id>}:lease`, `SET NX PX`, renewed while it works): it reads the log from where the last
 * publisher left off, hands each entry to its broadcaster (which coalesces them and reads the pages
 * it publishes from Redis), and keeps in the board's `:pub` hash the id last published on each
 * channel and how far into the log everything is published (`cursor`). Streams started on any
 * origin are held after those ids.
 *
 * An origin that writes a board watches it until the log is published up to its write: when the
 * lease is free (nobody holds it, or its holder died and it lapsed) it takes it and goes on from
 * the cursor. So an acknowledged change is published once some origin that wrote it, or any
 * later writer, is alive; the cursor moves only when nothing read from the log is still waiting,
 * so a takeover publishes again at most what was in flight, never less.
 */

/** Another origin holds the board's lease now: this one publishes nothing more of it. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export interface RedisFeedOptions {
  client: Redis | Cluster;
  /** How long a lease lasts unless renewed; a dead holder's lapses after this. */
  leaseMs: number;
  /** How often the log of a held board is read, and a watched board's lease tried. */
  pollMs: number;
  /** Hears of failures (a Redis error during a tick); the feed goes on at the next tick. */
  onError?: ((error: unknown, boardId: string | undefined) => void) | undefined;
  /** Hears when this origin takes a board's lease, and from which cursor. */
  onTakeover?: ((boardId: string, cursor: string) => void) | undefined;
  now?: (() => number) | undefined;
}

/** The `id`s of a board's stream entries, compared as the (ms, seq) pairs they are. */
function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

const NO_ENTRY = '0-0';

/** A board this origin holds the lease of, or watches. */
interface Held {
  /** The last log entry handed to the broadcaster. */
  seen: string;
  /** The cursor as saved in Redis. */
  saved: string;
  renewedAt: number;
  /** When the log last had something new. */
  activeAt: number;
}

// Scripts: each runs in the board's slot. KEYS: lease, pub, log, meta.

/**
 * Takes (or keeps) the lease when the log is ahead of the cursor: {1, last log id, version, pub
 * fields...}; else {0, cursor, last log id} (held by another origin, or nothing to publish).
 */
const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
local lastId = '0-0'
if #last > 0 then lastId = last[1][1] end
local cursor = redis.call('HGET', KEYS[2], 'cursor') or '0-0'
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local cm, cs = parts(cursor)
local lm, ls = parts(lastId)
local behind = lm > cm or (lm == cm and ls > cs)
if (holder and holder ~= ARGV[1]) or (not holder and not behind) then
  return {0, cursor, lastId}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local version = redis.call('HGET', KEYS[4], 'version') or ''
return {1, lastId, version, redis.call('HGETALL', KEYS[2])}
`;

/** Renews the lease if still held; sets fields of :pub (ARGV[3..]) at the same time. */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if #ARGV > 2 then redis.call('HSET', KEYS[2], unpack(ARGV, 3)) end
return 1
`;

/** Sets :pub's base unless a stream already did; answers the base that stands. */
const BASE = `
redis.call('HSETNX', KEYS[2], 'base', ARGV[1])
return redis.call('HGET', KEYS[2], 'base')
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
`;

/** Entries read from a board's log per round trip. */
const READ_COUNT = 1_000;

/**
 * Publishes the boards this origin writes, through its broadcaster, under each board's lease.
 * `wrote(boardId)` after every write; `claim` as the broadcaster's claim.
 */
export class RedisFeed {
  /** Random per process: who holds a lease. */
  readonly holder = randomBytes(12).toString('base64url');
  private readonly held = new Map<string, Held>();
  /** Boards written here whose log may not be published yet, and nobody here holds. */
  private readonly watched = new Set<string>();
  private readonly pulls = new Map<string, Promise<void>>();
  private readonly acquiring = new Map<string, Promise<void>>();
  private broadcaster: Broadcaster | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private ticking = false;
  private readonly now: () => number;
  private readonly shas = new Map<string, string>();

  constructor(private readonly options: RedisFeedOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts publishing through `broadcaster`: boards with an unpublished log are watched first. */
  async start(broadcaster: Broadcaster): Promise<void> {
    this.broadcaster = broadcaster;
    await this.watchBehind().catch((error: unknown) => this.options.onError?.(error, undefined));
    this.timer = setInterval(() => void this.tick(), this.options.pollMs);
    this.timer.unref();
  }

  /** This origin wrote the board: it is published from its log (here, or by the lease holder). */
  wrote(boardId: string): void {
    if (this.held.has(boardId)) this.pull(boardId);
    else {
      this.watched.add(boardId);
      void this.tryAcquire(boardId);
    }
  }

  /** Whether this origin holds the board's lease. */
  holds(boardId: string): boolean {
    return this.held.has(boardId);
  }

  /**
   * The broadcaster's claim: the ids about to be published go into :pub, where streams on every
   * origin read them, and only while the lease is still this origin's.
   */
  async claim(boardId: string, ids: ReadonlyMap<string, number>): Promise<void> {
    const keys = boardKeys(boardId);
    const fields = [...ids].flatMap(([channel, id]) => [channel, String(id)]);
    const ok = await this.run(
      RENEW,
      [keys.lease, keys.pub],
      [this.holder, String(this.options.leaseMs), ...fields],
    );
    if (ok !== 1) {
      this.drop(boardId);
      throw new LeaseLostError(`board ${boardId} is published by another origin now`);
    }
    const held = this.held.get(boardId);
    if (held !== undefined) held.renewedAt = this.now();
  }

  /** Stops reading logs; publishes what waits, saves the cursors and gives the leases back. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await Promise.all(this.pulls.values());
    await this.broadcaster?.drain();
    await Promise.all(
      [...this.held.keys()].map(async (boardId) => {
        await this.saveCursor(boardId).catch(() => {});
        const keys = boardKeys(boardId);
        await this.run(RELEASE, [keys.lease], [this.holder]).catch(() => {});
      }),
    );
    this.held.clear();
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await Promise.all([
        ...[...this.held.keys()].map((boardId) => this.work(boardId)),
        ...[...this.watched].map((boardId) => this.tryAcquire(boardId)),
      ]);
    } finally {
      this.ticking = false;
    }
  }

  /** One tick of a held board: save the cursor when all is published, renew, read the log. */
  private async work(boardId: string): Promise<void> {
    const held = this.held.get(boardId);
    if (held === undefined) return;
    try {
      await this.saveCursor(boardId);
      if (this.now() - held.renewedAt >= this.options.leaseMs / 3) await this.renew(boardId);
      if (!this.held.has(boardId)) return;
      this.pull(boardId);
      await this.pulls.get(boardId);
      const idle = this.now() - held.activeAt > this.options.leaseMs;
      if (idle && held.saved === held.seen && !this.broadcaster?.pending(boardId)) {
        await this.release(boardId);
      }
    } catch (error) {
      this.options.onError?.(error, boardId);
    }
  }

  /** Reads the log past what was seen, once at a time per board. */
  private pull(boardId: string): void {
    if (this.pulls.has(boardId)) return;
    const pull = this.readLog(boardId)
      .catch((error: unknown) => this.options.onError?.(error, boardId))
      .finally(() => this.pulls.delete(boardId));
    this.pulls.set(boardId, pull);
  }

  private async readLog(boardId: string): Promise<void> {
    const held = this.held.get(boardId);
    if (held === undefined || this.broadcaster === undefined) return;
    for (;;) {
      const entries = await this.options.client.xrange(
        boardKeys(boardId).log,
        `(${held.seen}`,
        '+',
        'COUNT',
        READ_COUNT,
      );
      if (!this.held.has(boardId)) return;
      for (const [id, fields] of entries) {
        held.seen = id;
        held.activeAt = this.now();
        const change = changeOf(boardId, fields);
        if (change !== undefined) this.broadcaster.record(change);
        if (change?.deleted) this.watched.delete(boardId);
      }
      if (entries.length < READ_COUNT) return;
    }
  }

  /** Saves how far the log is published, when nothing read from it still waits. */
  private async saveCursor(boardId: string): Promise<void> {
    const held = this.held.get(boardId);
    if (held === undefined || held.saved === held.seen || this.broadcaster?.pending(boardId)) {
      return;
    }
    const cursor = held.seen;
    const keys = boardKeys(boardId);
    const ok = await this.run(
      RENEW,
      [keys.lease, keys.pub],
      [this.holder, String(this.options.leaseMs), 'cursor', cursor],
    );
    if (ok !== 1) {
      this.drop(boardId);
      return;
    }
    held.saved = cursor;
    held.renewedAt = this.now();
  }

  private async renew(boardId: string): Promise<void> {
    const keys = boardKeys(boardId);
    const ok = await this.run(
      RENEW,
      [keys.lease, keys.pub],
      [this.holder, String(this.options.leaseMs)],
    );
    if (ok !== 1) this.drop(boardId);
    else {
      const held = this.held.get(boardId);
      if (held !== undefined) held.renewedAt = this.now();
    }
  }

  private async release(boardId: string): Promise<void> {
    const keys = boardKeys(boardId);
    this.drop(boardId);
    await this.run(RELEASE, [keys.lease], [this.holder]);
  }

  /** Stops publishing a board here (its lease is gone or given back). */
  private drop(boardId: string): void {
    this.held.delete(boardId);
    this.broadcaster?.forget(boardId);
  }

  /**
   * Takes the board's lease when it is free and goes on from its cursor; else stops watching it
   * once its log is published up to the end.
   */
  private tryAcquire(boardId: string): Promise<void> {
    // One attempt at a time per board: two takeovers would each reset the board's channels.
    let attempt = this.acquiring.get(boardId);
    if (attempt === undefined) {
      attempt = this.acquire(boardId).finally(() => this.acquiring.delete(boardId));
      this.acquiring.set(boardId, attempt);
    }
    return attempt;
  }

  private async acquire(boardId: string): Promise<void> {
    if (this.held.has(boardId) || this.broadcaster === undefined) return;
    const keys = boardKeys(boardId);
    try {
      const reply = await this.run(
        ACQUIRE,
        [keys.lease, keys.pub, keys.log, keys.meta],
        [this.holder, String(this.options.leaseMs)],
      );
      if (!Array.isArray(reply)) return;
      if (reply[0] !== 1) {
        const [, cursor, lastId] = reply.map(String);
        if (compareIds(cursor ?? NO_ENTRY, lastId ?? NO_ENTRY) >= 0) this.watched.delete(boardId);
        return;
      }
      await this.takeOver(boardId, reply);
    } catch (error) {
      this.options.onError?.(error, boardId);
    }
  }

  private async takeOver(boardId: string, reply: unknown[]): Promise<void> {
    const broadcaster = this.broadcaster;
    if (broadcaster === undefined || this.held.has(boardId)) return;
    const version = Number(reply[2]);
    const pub = pairs(reply[3]);
    const cursor = pub.get('cursor') ?? NO_ENTRY;
    this.watched.delete(boardId);
    const keys = boardKeys(boardId);
    const trimmed = cursor !== NO_ENTRY && (await this.missing(keys.log, cursor));
    const base = pub.get('base') ?? (await this.baseOf(boardId, cursor, version));
    const published = new Map<string, number>();
    for (const [field, value] of pub) {
      if (field.startsWith('board-')) published.set(field, Number(value));
    }
    broadcaster.forget(boardId);
    broadcaster.adopt(boardId, Number(base), published);
    const now = this.now();
    this.held.set(boardId, { seen: cursor, saved: cursor, renewedAt: now, activeAt: now });
    this.options.onTakeover?.(boardId, cursor);
    if (trimmed && Number.isFinite(version)) {
      // The log no longer reaches back to the cursor: viewers load their windows again.
      broadcaster.record(bulkChange(boardId, version, 'repair'));
    }
    this.pull(boardId);
  }

  /** Whether the log entry at `cursor` was trimmed away. */
  private async missing(log: string, cursor: string): Promise<boolean> {
    const entries = await this.options.client.xrange(log, cursor, cursor);
    return entries.length === 0;
  }

  /** The base for a board no stream has started on: its version before its first unpublished change. */
  private async baseOf(boardId: string, cursor: string, version: number): Promise<string> {
    const keys = boardKeys(boardId);
    const first = await this.options.client.xrange(keys.log, `(${cursor}`, '+', 'COUNT', 1);
    const v = first[0] === undefined ? undefined : fieldOf(first[0][1], 'v');
    const base = v === undefined ? version : Number(v) - 1;
    return String(await this.run(BASE, [keys.lease, keys.pub], [String(base)]));
  }

  /** At start: every board whose log is ahead of its cursor is watched. */
  private async watchBehind(): Promise<void> {
    const ids = await this.options.client.zrange(REGISTRY_KEY, '0', '-1');
    for (const boardId of ids) this.watched.add(boardId);
  }

  /** EVALSHA, loading the script once when Redis does not know it. */
  private async run(lua: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.shas.get(lua);
    if (sha === undefined) {
      sha = createHash('sha1').update(lua).digest('hex');
      this.shas.set(lua, sha);
    }
    try {
      return await this.options.client.evalsha(sha, String(keys.length), ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.options.client.eval(lua, String(keys.length), ...keys, ...args);
    }
  }
}

/** A flat [field, value, ...] reply as a map. */
function pairs(reply: unknown): Map<string, string> {
  const map = new Map<string, string>();
  if (!Array.isArray(reply)) return map;
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), String(reply[i + 1]));
  return map;
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function bulkChange(boardId: string, version: number, bulk: ReloadReason): BoardChange {
  return {
    boardId,
    version,
    changed: [],
    removed: [],
    deleted: false,
    moved: [],
    meta: true,
    bulk,
  };
}

/** A log entry as the broadcaster's change; undefined when it cannot be read. */
export function changeOf(boardId: string, fields: string[]): BoardChange | undefined {
  const version = Number(fieldOf(fields, 'v'));
  if (!Number.isSafeInteger(version)) return undefined;
  const bulk = reloadReasonSchema.safeParse(fieldOf(fields, 'bulk'));
  return {
    boardId,
    version,
    changed: [],
    removed: [],
    deleted: fieldOf(fields, 'deleted') === '1',
    moved: parseMoved(fieldOf(fields, 'moved') ?? ''),
    meta: fieldOf(fields, 'meta') === '1',
    ...(bulk.success ? { bulk: bulk.data } : {}),
  };
}
