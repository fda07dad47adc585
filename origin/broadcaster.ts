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

export interface LiveOptions {
  /** The current database (read when an event is built, so events carry current state). */
  data: () => Database;
  /** Resolves once everything changed so far is durable: nothing is published before that. */
  commit: () => Promise<void>;
  publish: PublishFn;
  publishIntervalMs: number;
  historySize: number;
  now?: () => number;
  schedule?: (run: () => void, ms: number) => void;
  onError?: (error: unknown) => void;
  /**
   * A publish that has not answered by then counts as failed, so one stuck request cannot hold
   * back a board's later publishes; the proxy repairs the gap through the recovery link.
   */
  publishTimeoutMs?: number;
  /** How long after a failed publish it is tried again (when nothing newer went out). */
  retryDelayMs?: number;
}

interface Entry {
  version: number;
  changed: readonly string[];
  removed: readonly string[];
}

interface BoardLive {
  /** History covers every version in (floor, newest entry]. */
  floor: number;
  entries: Entry[];
  published: number;
  lastPublishAt: number;
  timer: boolean;
  chain: Promise<void>;
}

/**
 * The live side of the boards: remembers recent changes per board (to resume streams that missed
 * some) and publishes them, coalesced: at most one update per board per interval, an idle board
 * at once. Every update carries absolute player states and the version range it covers, so one
 * event can stand for any number of changes.
 */
export class LiveBoards {
  private readonly boards = new Map<string, BoardLive>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly publishTimeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly now: () => number;
  private readonly schedule: (run: () => void, ms: number) => void;
  private readonly onError: (error: unknown) => void;

  constructor(private readonly options: LiveOptions) {
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? ((run, ms) => void setTimeout(run, ms));
    this.onError = options.onError ?? ((error) => console.error('publish failed:', error));
    this.publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
  }

  /**
   * Publishes every change still waiting for its interval, and resolves when every publish has
   * gone out (or failed): for a clean stop, so viewers get the last changes.
   */
  async drain(): Promise<void> {
    for (const [boardId, live] of this.boards) {
      if (live.timer) this.flush(boardId);
    }
    await Promise.all(this.inFlight);
  }

  /** The version last published on a board's channel: what a new stream subscribes after. */
  publishedVersion(board: BoardRecord): number {
    return this.live(board).published;
  }

  /** Notes a change; schedules its publication. Call right after the mutation. */
  record(change: BoardChange): void {
    const data = this.options.data();
    if (change.deleted) {
      const live = this.boards.get(change.boardId);
      const since = live?.published ?? change.version - 1;
      this.boards.delete(change.boardId);
      this.send(live, change.boardId, { type: 'deleted', version: change.version }, since);
      return;
    }
    const board = data.boards[change.boardId];
    if (board === undefined) return;
    const live = this.live(board, change.version - 1);
    live.entries.push({
      version: change.version,
      changed: change.changed,
      removed: change.removed,
    });
    // Trim in batches: the history may hold up to twice its size, so dropping the oldest costs
    // one splice per `historySize` changes instead of one per change.
    const keep = this.options.historySize;
    if (live.entries.length > Math.max(1, 2 * keep)) {
      const dropped = live.entries.splice(0, live.entries.length - keep);
      live.floor = dropped[dropped.length - 1]?.version ?? live.floor;
    }
    if (live.timer) return;
    const wait = live.lastPublishAt + this.options.publishIntervalMs - this.now();
    if (wait <= 0) {
      this.flush(board.id);
    } else {
      this.later(live, board.id, wait);
    }
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
    const live = this.live(board);
    if (since < live.floor || since > board.version) return undefined;
    const changed = new Set<string>();
    const removed = new Set<string>();
    for (const entry of live.entries) {
      if (entry.version <= since) continue;
      for (const id of entry.changed) changed.add(id);
      for (const id of entry.removed) removed.add(id);
    }
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
    const live = this.boards.get(boardId);
    if (board === undefined || live === undefined || live.published >= board.version) return;
    const since = live.published;
    const event = this.updateSince(board, since) ?? {
      type: 'snapshot' as const,
      board: boardView(board),
    };
    live.published = board.version;
    live.lastPublishAt = this.now();
    this.send(live, boardId, event, since);
  }

  private send(
    live: BoardLive | undefined,
    boardId: string,
    event: BoardEvent,
    since: number,
  ): void {
    const version = event.type === 'snapshot' ? event.board.version : event.version;
    const content = encodeSse(event);
    const previous = live?.chain ?? Promise.resolve();
    const sent = previous
      .then(() => this.options.commit())
      .then(() =>
        withTimeout(
          this.options.publish(boardChannel(boardId), content, String(version), String(since)),
          this.publishTimeoutMs,
        ),
      )
      .catch((error: unknown) => {
        this.onError(error);
        this.retry(live, boardId, event, since, version);
      });
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
    if (live !== undefined) live.chain = sent;
  }

  /**
   * A publish that failed and that nothing newer followed is sent again a second later: a busy
   * board would repair the gap with its next publish (the proxy sees the broken prev-id chain), but
   * an idle board's viewers would otherwise wait for the proxy's idle recovery.
   */
  private retry(
    live: BoardLive | undefined,
    boardId: string,
    event: BoardEvent,
    since: number,
    version: number,
  ): void {
    if (live === undefined || event.type === 'deleted') return;
    if (this.boards.get(boardId) !== live || live.published !== version || live.timer) return;
    live.published = since;
    this.later(live, boardId, this.retryDelayMs);
  }

  private later(live: BoardLive, boardId: string, ms: number): void {
    live.timer = true;
    this.schedule(() => {
      live.timer = false;
      this.flush(boardId);
    }, ms);
  }

  private live(board: BoardRecord, floor = board.version): BoardLive {
    let live = this.boards.get(board.id);
    if (live === undefined) {
      live = {
        floor,
        entries: [],
        published: floor,
        lastPublishAt: Number.NEGATIVE_INFINITY,
        timer: false,
        chain: Promise.resolve(),
      };
      this.boards.set(board.id, live);
    }
    return live;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
