import type { BoardEvent, UpdateEvent } from '../contract/events.ts';
import { boardChannel, encodeSse } from '../contract/events.ts';
import type { BoardChange, BoardRecord, Database } from './domain/board.ts';
import { boardView } from './domain/board.ts';

/** Sends one SSE-framed event to a channel with GRIP `id`/`prev-id` (a `Publisher` in production). */
export type PublishFn = (
  channel: string,
  content: string,
  id: string,
  prevId: string,
) => Promise<void>;

export interface BroadcasterOptions {
  /** The current database (read when an event is built, so events carry current state). */
  data: () => Database;
  /** Resolves once everything changed so far is durable: nothing is published before that. */
  commit: () => Promise<void>;
  publish: PublishFn;
  publishIntervalMs: number;
  historySize: number;
  now?: () => number;
  schedule?: (run: () => void, ms: number) => void;
  /** Hears of every failed publish (`boardId`: where it went). */
  onError?: (error: unknown, boardId: string) => void;
  /** Hears of every publish sent to the proxy, with how it went (for metrics). */
  onPublish?: (report: PublishReport) => void;
  /**
   * A publish that has not answered by then counts as failed, so one stuck request cannot hold
   * back a board's later publishes; the proxy repairs the gap through the recovery link.
   */
  publishTimeoutMs?: number;
  /** How long after a failed publish it is tried again (when nothing newer went out). */
  retryDelayMs?: number;
}

/** One publish sent to the proxy and how it went. */
export interface PublishReport {
  ok: boolean;
  /** Why it failed, when it did. */
  error?: unknown;
  /** Size of the message (SSE text, UTF-8). */
  bytes: number;
  /** Time from sending to the answer (or to giving up). */
  seconds: number;
}

/** Whether publishes go through: none failing, or how many boards are behind since when. */
export interface PublishHealth {
  failingBoards: number;
  /** When the oldest failure still unrepaired happened (the broadcaster's clock). */
  failingSince: number | undefined;
}

interface Entry {
  version: number;
  changed: readonly string[];
  removed: readonly string[];
}

/** What the broadcaster knows of one board's channel. */
interface ChannelState {
  /** History covers every version in (floor, newest entry]. */
  floor: number;
  entries: Entry[];
  published: number;
  lastPublishAt: number;
  timer: boolean;
  chain: Promise<void>;
}

/**
 * Broadcasts board changes on their GRIP channels and remembers recent ones per board (to resume
 * streams that missed some). Publishes are coalesced: at most one update per board per interval,
 * an idle board at once. Every update carries absolute player states and the version range it
 * covers, so one event can stand for any number of changes.
 */
export class Broadcaster {
  private readonly channels = new Map<string, ChannelState>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Boards whose last publish failed, and since when: cleared by the next that goes through. */
  private readonly failing = new Map<string, number>();
  private readonly publishTimeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly now: () => number;
  private readonly schedule: (run: () => void, ms: number) => void;
  private readonly onError: (error: unknown, boardId: string) => void;

  constructor(private readonly options: BroadcasterOptions) {
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? ((run, ms) => void setTimeout(run, ms));
    this.onError = options.onError ?? (() => {});
    this.publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
  }

  /**
   * Publishes every change still waiting for its interval, and resolves when every publish has
   * gone out (or failed): for a clean stop, so viewers get the last changes.
   */
  async drain(): Promise<void> {
    for (const [boardId, state] of this.channels) {
      if (state.timer) this.flush(boardId);
    }
    await Promise.all(this.inFlight);
  }

  /** Whether the last publish of every board went through (a board being deleted aside). */
  publishHealth(): PublishHealth {
    let failingSince: number | undefined;
    for (const since of this.failing.values()) {
      failingSince = failingSince === undefined ? since : Math.min(failingSince, since);
    }
    return { failingBoards: this.failing.size, failingSince };
  }

  /** The version last published on a board's channel: what a new stream subscribes after. */
  publishedVersion(board: BoardRecord): number {
    return this.channel(board).published;
  }

  /** Notes a change; schedules its publication. Call right after the mutation. */
  record(change: BoardChange): void {
    const data = this.options.data();
    if (change.deleted) {
      const state = this.channels.get(change.boardId);
      const since = state?.published ?? change.version - 1;
      this.channels.delete(change.boardId);
      this.failing.delete(change.boardId);
      this.send(state, change.boardId, { type: 'deleted', version: change.version }, since);
      return;
    }
    const board = data.boards[change.boardId];
    if (board === undefined) return;
    const state = this.channel(board, change.version - 1);
    state.entries.push({
      version: change.version,
      changed: change.changed,
      removed: change.removed,
    });
    // Trim in batches: the history may hold up to twice its size, so dropping the oldest costs
    // one splice per `historySize` changes instead of one per change.
    const keep = this.options.historySize;
    if (state.entries.length > Math.max(1, 2 * keep)) {
      const dropped = state.entries.splice(0, state.entries.length - keep);
      state.floor = dropped[dropped.length - 1]?.version ?? state.floor;
    }
    if (state.timer) return;
    const wait = state.lastPublishAt + this.options.publishIntervalMs - this.now();
    if (wait <= 0) {
      this.flush(board.id);
    } else {
      this.later(state, board.id, wait);
    }
  }

  /**
   * The board was replaced whole (a restore): its history no longer applies. Its viewers get a
   * snapshot once the replacement is durable, chained after what they last got. `previousVersion`
   * is the board's version before, undefined when it did not exist (then nobody can be watching).
   */
  replace(boardId: string, previousVersion: number | undefined): void {
    const data = this.options.data();
    const board = Object.hasOwn(data.boards, boardId) ? data.boards[boardId] : undefined;
    const old = this.channels.get(boardId);
    this.channels.delete(boardId);
    this.failing.delete(boardId);
    if (board === undefined) return;
    const state = this.channel(board);
    state.chain = old?.chain ?? state.chain;
    state.lastPublishAt = this.now();
    const since = old?.published ?? previousVersion;
    if (since === undefined) return;
    this.send(state, boardId, { type: 'snapshot', board: boardView(board) }, since);
  }

  /**
   * What a client at version `after` needs to reach the board's current version: nothing when it
   * is current, an update when history reaches back that far, a snapshot otherwise.
   */
  catchUp(board: BoardRecord, after: number | undefined): BoardEvent | undefined {
    if (after === board.version) return undefined;
    const update = after === undefined ? undefined : this.updateSince(board, after);
    return update ?? { type: 'snapshot', board: boardView(board) };
  }

  private updateSince(board: BoardRecord, since: number): UpdateEvent | undefined {
    const state = this.channel(board);
    if (since < state.floor || since > board.version) return undefined;
    const { changed, removed } = changedAfter(state.entries, since);
    const players = [];
    if (changed.size > 0) {
      for (const player of board.players) {
        if (changed.delete(player.id)) players.push(player);
      }
    }
    // What changed and is no longer on the board was removed.
    for (const id of changed) removed.add(id);
    return { type: 'update', version: board.version, since, players, removed: [...removed] };
  }

  private flush(boardId: string): void {
    const board = this.options.data().boards[boardId];
    const state = this.channels.get(boardId);
    if (board === undefined || state === undefined || state.published >= board.version) return;
    const since = state.published;
    const event = this.updateSince(board, since) ?? {
      type: 'snapshot' as const,
      board: boardView(board),
    };
    state.published = board.version;
    state.lastPublishAt = this.now();
    this.send(state, boardId, event, since);
  }

  private send(
    state: ChannelState | undefined,
    boardId: string,
    event: BoardEvent,
    since: number,
  ): void {
    const version = event.type === 'snapshot' ? event.board.version : event.version;
    const content = encodeSse(event);
    const previous = state?.chain ?? Promise.resolve();
    const sent = previous
      .then(() => this.options.commit())
      .then(() =>
        this.publish(boardChannel(boardId), content, String(version), String(since)).then(
          () => this.failing.delete(boardId),
          (error: unknown) => {
            if (event.type !== 'deleted' && !this.failing.has(boardId)) {
              this.failing.set(boardId, this.now());
            }
            throw error;
          },
        ),
      )
      .then(
        () => {},
        (error: unknown) => {
          this.onError(error, boardId);
          this.retry(state, boardId, event, since, version);
        },
      );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
    if (state !== undefined) state.chain = sent;
  }

  /** One publish, timed out after `publishTimeoutMs` and reported to `onPublish`. */
  private async publish(channel: string, content: string, id: string, prevId: string) {
    const started = performance.now();
    const report = (ok: boolean, error?: unknown) =>
      this.options.onPublish?.({
        ok,
        ...(ok ? {} : { error }),
        bytes: Buffer.byteLength(content),
        seconds: (performance.now() - started) / 1000,
      });
    try {
      await withTimeout(this.options.publish(channel, content, id, prevId), this.publishTimeoutMs);
    } catch (error) {
      report(false, error);
      throw error;
    }
    report(true);
  }

  /**
   * A publish that failed and that nothing newer followed is sent again a second later: a busy
   * board would repair the gap with its next publish (the proxy sees the broken prev-id chain), but
   * an idle board's viewers would otherwise wait for the proxy's idle recovery.
   */
  private retry(
    state: ChannelState | undefined,
    boardId: string,
    event: BoardEvent,
    since: number,
    version: number,
  ): void {
    if (state === undefined || event.type === 'deleted') return;
    if (this.channels.get(boardId) !== state || state.published !== version || state.timer) return;
    state.published = since;
    this.later(state, boardId, this.retryDelayMs);
  }

  private later(state: ChannelState, boardId: string, ms: number): void {
    state.timer = true;
    this.schedule(() => {
      state.timer = false;
      this.flush(boardId);
    }, ms);
  }

  private channel(board: BoardRecord, floor = board.version): ChannelState {
    let state = this.channels.get(board.id);
    if (state === undefined) {
      state = {
        floor,
        entries: [],
        published: floor,
        lastPublishAt: Number.NEGATIVE_INFINITY,
        timer: false,
        chain: Promise.resolve(),
      };
      this.channels.set(board.id, state);
    }
    return state;
  }
}

/** Every player changed or removed by the history entries after version `since`. */
function changedAfter(entries: readonly Entry[], since: number) {
  const changed = new Set<string>();
  const removed = new Set<string>();
  for (const entry of entries) {
    if (entry.version <= since) continue;
    for (const id of entry.changed) changed.add(id);
    for (const id of entry.removed) removed.add(id);
  }
  return { changed, removed };
}

/** A publish that had no answer in time. */
export class PublishTimeoutError extends Error {
  override name = 'PublishTimeoutError';
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishTimeoutError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
