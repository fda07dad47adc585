import type { BoardEvent, ReloadReason } from '../contract/events.ts';
import { boardChannel, encodeSse, pageChannel } from '../contract/events.ts';
import { MAX_MESSAGE_BYTES, pageOf } from '../contract/windows.ts';
import type { BoardChange } from './domain/board.ts';
import { PageRanges } from './page-ranges.ts';
import type { HeldChannel, PagesSnapshot } from './store/board-store.ts';

export type { HeldChannel } from './store/board-store.ts';

/**
 * Sends one SSE-framed event to a channel with GRIP `id`/`prev-id` (a `Publisher` in production);
 * no `prev-id` when `prevId` is undefined (the first message after a takeover: see `adopt`).
 */
export type PublishFn = (
  channel: string,
  content: string,
  id: string,
  prevId: string | undefined,
) => Promise<void>;

export interface BroadcasterOptions {
  /**
   * Reads the board's meta and these pages' rows at one version (undefined once the board is
   * gone): events carry the board as it is when they are built, not as the change left it.
   */
  read: (boardId: string, pages: readonly number[]) => Promise<PagesSnapshot | undefined>;
  /** Resolves once everything changed so far is durable: nothing is published before that. */
  commit: () => Promise<void>;
  /**
   * Hears of the ids a round is about to publish, before it is sent, and may refuse the round by
   * throwing (the Redis publisher keeps them where every origin reads them, and refuses once this
   * origin no longer holds the board's lease).
   */
  claim?: (boardId: string, ids: ReadonlyMap<string, number>) => Promise<void>;
  publish: PublishFn;
  publishIntervalMs: number;
  /** Most page messages one board publishes per interval; pages past it wait their turn. */
  pagesPerFlush: number;
  /** How long viewers spread their reloads over after a `reload` event. */
  reloadSpreadMs: number;
  now?: () => number;
  schedule?: (run: () => void, ms: number) => void;
  /** Hears of every failed publish (`boardId`: where it went). */
  onError?: (error: unknown, boardId: string) => void;
  /** Hears, once per board, that a message was refused for its content and a reload went out. */
  onRefused?: (error: unknown, boardId: string, channel: string) => void;
  /** Hears of every publish sent to the proxy, with how it went (for metrics). */
  onPublish?: (report: PublishReport) => void;
  /** Whether a failed publish was refused for what it carried (a 4xx such as 413): never resent. */
  isRefusal?: (error: unknown) => boolean;
  /**
   * A publish that has not answered by then counts as failed, so one stuck request cannot hold
   * back a board's later publishes; the proxy repairs the gap through the recovery link.
   */
  publishTimeoutMs?: number;
  /** How long after a failed publish it is tried again. */
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

/** Pages at the top of every board, which most viewers watch: published before the others. */
const TOP_PAGES = 4;

/** What the broadcaster knows of one board's channels. */
interface BoardState {
  /** The id a channel that has published nothing yet is held after. */
  base: number;
  /** The id of the last message on each channel that has had one. */
  published: Map<string, number>;
  /** Pages whose rows changed and are not yet published. */
  dirty: PageRanges;
  /** The board's name, order or size changed and is not yet published. */
  meta: boolean;
  /** A bulk change waiting to be announced (it replaces everything else waiting). */
  reload: ReloadReason | undefined;
  /** Where the next round of deep pages starts, so every page gets its turn. */
  cursor: number;
  lastFlushAt: number;
  timer: boolean;
  chain: Promise<void>;
  failingSince: number | undefined;
  refusalReported: boolean;
  /** Rounds taken from the state and not yet done. */
  busy: number;
  /** After a takeover: the channels that have had their first (unchained) message. */
  unchained: Set<string> | undefined;
}

interface Outgoing {
  channel: string;
  event: BoardEvent;
  page: number | undefined;
}

/** What one flush sends: a reload alone, or the board's meta and some pages. */
interface Plan {
  reload: ReloadReason | undefined;
  meta: boolean;
  pages: number[];
}

/**
 * Publishes board changes on GRIP channels: a board's own channel (`board`, `reload`, `deleted`)
 * and one channel per page of its ranking (`page`, the page's rows as they now are). Each flush
 * sends every changed page up to `pagesPerFlush`, at most once per interval per board, so what a
 * board publishes per interval is bounded whatever its size and its audience; every message is a
 * page at most, well inside Fanout's 64 KiB. Each channel has its own `id`/`prev-id` chain.
 */
export class Broadcaster {
  private readonly boards = new Map<string, BoardState>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly publishTimeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly now: () => number;
  private readonly schedule: (run: () => void, ms: number) => void;
  private readonly onError: (error: unknown, boardId: string) => void;
  private readonly isRefusal: (error: unknown) => boolean;

  constructor(private readonly options: BroadcasterOptions) {
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? ((run, ms) => void setTimeout(run, ms));
    this.onError = options.onError ?? (() => {});
    this.isRefusal = options.isRefusal ?? (() => false);
    this.publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
  }

  /**
   * Publishes everything still waiting, and resolves when every publish has gone out (or failed):
   * for a clean stop, so viewers get the last changes. A board with more changed pages than a
   * flush carries takes a few rounds; after ten, the rest is left to the viewers' recovery.
   */
  async drain(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      let waiting = false;
      for (const [boardId, state] of this.boards) {
        if (state.reload !== undefined || state.meta || !state.dirty.empty) {
          waiting = true;
          this.flush(boardId);
        }
      }
      await Promise.all(this.inFlight);
      if (!waiting) return;
    }
  }

  /** Whether the last publish of every board went through (a board being deleted aside). */
  publishHealth(): PublishHealth {
    let failingBoards = 0;
    let failingSince: number | undefined;
    for (const state of this.boards.values()) {
      if (state.failingSince === undefined) continue;
      failingBoards++;
      failingSince = Math.min(failingSince ?? state.failingSince, state.failingSince);
    }
    return { failingBoards, failingSince };
  }

  /**
   * The channels a stream on these pages of the board is held on, each after its last id;
   * `version` is the board's version as the stream is sent it.
   */
  heldChannels(boardId: string, version: number, pages: readonly number[]): HeldChannel[] {
    const state = this.state(boardId, version);
    const held = (channel: string) => ({
      channel,
      prevId: state.published.get(channel) ?? state.base,
    });
    return [held(boardChannel(boardId)), ...pages.map((page) => held(pageChannel(boardId, page)))];
  }

  /**
   * Takes over a board's channels as another publisher left them (`base` and the last id of each
   * channel that has had a message): the chains go on from there.
   */
  adopt(boardId: string, base: number, published: ReadonlyMap<string, number>): void {
    const state = this.state(boardId, base);
    state.base = base;
    for (const [channel, id] of published) state.published.set(channel, id);
    // The last id another publisher noted may never have gone out (it died between noting and
    // sending), and a chain after it would leave every viewer waiting for the proxy's recovery:
    // each channel's first message from here carries no prev-id (it carries absolute state).
    state.unchained = new Set();
  }

  /** Forgets a board's channels (this origin stopped publishing it). */
  forget(boardId: string): void {
    this.boards.delete(boardId);
  }

  /** Whether anything of the board waits to be published or is being published. */
  pending(boardId: string): boolean {
    const state = this.boards.get(boardId);
    if (state === undefined) return false;
    return state.reload !== undefined || state.meta || !state.dirty.empty || state.busy > 0;
  }

  /**
   * The board was replaced whole (a restore): its viewers reload their windows once the
   * replacement is durable. `previousVersion` is the board's version before, undefined when it
   * did not exist (then nobody can be watching it). Each channel's chain goes on.
   */
  replace(boardId: string, previousVersion: number | undefined): void {
    if (previousVersion === undefined) return;
    const state = this.state(boardId, previousVersion);
    state.reload = 'restore';
    state.dirty.clear();
    state.meta = false;
    this.soon(boardId, state);
  }

  /** Notes a change; schedules its publication. Call right after the mutation. */
  record(change: BoardChange): void {
    if (change.deleted) {
      this.announceDeleted(change);
      return;
    }
    const state = this.state(change.boardId, change.version - 1);
    if (change.bulk !== undefined) {
      state.reload = change.bulk;
      state.dirty.clear();
      state.meta = false;
    } else if (state.reload === undefined) {
      for (const [first, last] of change.moved) state.dirty.add(pageOf(first), pageOf(last));
      state.meta ||= change.meta;
    }
    this.soon(change.boardId, state);
  }

  private announceDeleted(change: BoardChange): void {
    const state = this.boards.get(change.boardId);
    const channel = boardChannel(change.boardId);
    const prevId = state?.published.get(channel) ?? state?.base ?? change.version - 1;
    this.boards.delete(change.boardId);
    const event: BoardEvent = { type: 'deleted', version: change.version };
    const previous = state?.chain ?? Promise.resolve();
    this.track(
      previous
        .then(() => this.options.commit())
        .then(() => this.send(change.boardId, channel, event, prevId))
        .catch((error: unknown) => this.onError(error, change.boardId)),
    );
  }

  private soon(boardId: string, state: BoardState): void {
    if (state.timer) return;
    const wait = state.lastFlushAt + this.options.publishIntervalMs - this.now();
    this.later(boardId, state, Math.max(0, wait));
  }

  private later(boardId: string, state: BoardState, ms: number): void {
    state.timer = true;
    const run = () => {
      state.timer = false;
      if (this.boards.get(boardId) === state) this.flush(boardId);
    };
    if (ms <= 0) run();
    else this.schedule(run, ms);
  }

  /** Sends what waits on one board: a reload, or its meta and up to `pagesPerFlush` pages. */
  private flush(boardId: string): void {
    const state = this.boards.get(boardId);
    if (state === undefined) return;
    const plan = this.plan(state);
    if (plan.reload === undefined && !plan.meta && plan.pages.length === 0) return;
    state.lastFlushAt = this.now();
    state.busy++;
    const round = state.chain
      .then(() => this.round(boardId, state, plan))
      // A failed read, commit or claim: nothing of this round was sent. A failed commit means
      // the store has failed and the origin is stopping; a failed claim, that another origin
      // publishes this board now.
      .catch((error: unknown) => this.onError(error, boardId))
      .finally(() => {
        state.busy--;
      });
    state.chain = round;
    this.track(round);
    if (state.reload !== undefined || state.meta || !state.dirty.empty) {
      this.later(boardId, state, this.options.publishIntervalMs);
    }
  }

  /** Reads what the plan names, gives each message its id, and sends them once durable. */
  private async round(boardId: string, state: BoardState, plan: Plan): Promise<void> {
    const snapshot = await this.options.read(boardId, plan.pages);
    // Gone: the deletion is announced on its own.
    if (snapshot === undefined) return;
    const version = snapshot.meta.version;
    const last = (channel: string) => state.published.get(channel) ?? state.base;
    const sends = this.outgoing(boardId, plan, snapshot)
      // A channel already published at this version (an earlier round read the board after this
      // change too) has nothing new: ids only grow.
      .filter((out) => last(out.channel) < version)
      .map((out) => {
        const prevId = last(out.channel);
        state.published.set(out.channel, version);
        return { ...out, prevId, version };
      });
    if (sends.length === 0) return;
    await this.options.commit();
    await this.options.claim?.(boardId, new Map(sends.map((send) => [send.channel, version])));
    const results = await Promise.all(
      sends.map((send) =>
        this.send(boardId, send.channel, send.event, this.chainedPrevId(state, send)).then(
          () => true,
          (error: unknown) => this.failed(boardId, state, send, error),
        ),
      ),
    );
    if (results.every(Boolean)) state.failingSince = undefined;
  }

  /** Takes what waits from the board's state: a reload alone, or meta and the next pages. */
  private plan(state: BoardState): Plan {
    if (state.reload !== undefined) {
      const reload = state.reload;
      state.reload = undefined;
      return { reload, meta: false, pages: [] };
    }
    const meta = state.meta;
    state.meta = false;
    const pages = state.dirty.take(this.options.pagesPerFlush, TOP_PAGES, state.cursor);
    for (const page of pages) if (page >= TOP_PAGES) state.cursor = page + 1;
    return { reload: undefined, meta, pages };
  }

  private outgoing(boardId: string, plan: Plan, snapshot: PagesSnapshot): Outgoing[] {
    const channel = boardChannel(boardId);
    const version = snapshot.meta.version;
    if (plan.reload !== undefined) {
      const event: BoardEvent = {
        type: 'reload',
        version,
        reason: plan.reload,
        spreadMs: this.options.reloadSpreadMs,
      };
      return [{ channel, event, page: undefined }];
    }
    const out: Outgoing[] = [];
    if (plan.meta)
      out.push({ channel, event: { type: 'board', board: snapshot.meta }, page: undefined });
    for (const page of plan.pages) {
      out.push({
        channel: pageChannel(boardId, page),
        event: { type: 'page', version, page, players: snapshot.pages.get(page) ?? [] },
        page,
      });
    }
    return out;
  }

  /**
   * A publish that failed: undo its id (subscribers never saw it) and try again later, unless the
   * proxy refused it for what it carried; then viewers are told to reload instead, once.
   */
  private failed(
    boardId: string,
    state: BoardState,
    send: Outgoing & { prevId: number; version: number },
    error: unknown,
  ): false {
    this.onError(error, boardId);
    if (state.published.get(send.channel) === send.version) {
      state.published.set(send.channel, send.prevId);
    }
    state.failingSince ??= this.now();
    if (this.isRefusal(error) || error instanceof MessageTooLargeError) {
      if (!state.refusalReported) this.options.onRefused?.(error, boardId, send.channel);
      state.refusalReported = true;
      if (send.event.type !== 'reload') state.reload = 'repair';
    } else {
      requeue(state, send);
    }
    const waiting = state.reload !== undefined || state.meta || !state.dirty.empty;
    if (waiting && !state.timer && this.boards.get(boardId) === state) {
      this.later(boardId, state, this.retryDelayMs);
    }
    return false;
  }

  /** The prev-id a round's message carries: none for a channel's first after a takeover. */
  private chainedPrevId(state: BoardState, send: { channel: string; prevId: number }) {
    if (state.unchained === undefined || state.unchained.has(send.channel)) return send.prevId;
    state.unchained.add(send.channel);
    return undefined;
  }

  /** One publish, size-checked, timed out after `publishTimeoutMs` and reported to `onPublish`. */
  private async send(
    boardId: string,
    channel: string,
    event: BoardEvent,
    prevId: number | undefined,
  ) {
    const content = encodeSse(event);
    const bytes = Buffer.byteLength(content);
    const started = performance.now();
    const report = (ok: boolean, error?: unknown) =>
      this.options.onPublish?.({
        ok,
        ...(ok ? {} : { error }),
        bytes,
        seconds: (performance.now() - started) / 1000,
      });
    try {
      if (bytes > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(boardId, channel, bytes);
      const id = String(event.type === 'board' ? event.board.version : event.version);
      await withTimeout(
        this.options.publish(
          channel,
          content,
          id,
          prevId === undefined ? undefined : String(prevId),
        ),
        this.publishTimeoutMs,
      );
    } catch (error) {
      report(false, error);
      throw error;
    }
    report(true);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private state(boardId: string, base: number): BoardState {
    let state = this.boards.get(boardId);
    if (state === undefined) {
      state = {
        base,
        published: new Map(),
        dirty: new PageRanges(),
        meta: false,
        reload: undefined,
        cursor: 0,
        lastFlushAt: Number.NEGATIVE_INFINITY,
        timer: false,
        chain: Promise.resolve(),
        failingSince: undefined,
        refusalReported: false,
        busy: 0,
        unchained: undefined,
      };
      this.boards.set(boardId, state);
    }
    return state;
  }
}

/** Puts what a failed message carried back among what waits, to be sent as it is by then. */
function requeue(state: BoardState, send: Outgoing): void {
  if (send.event.type === 'reload') state.reload ??= send.event.reason;
  else if (state.reload !== undefined) return;
  else if (send.page !== undefined) state.dirty.add(send.page, send.page);
  else state.meta = true;
}

/** A message that would break Fanout's cap: never sent (it cannot happen with pages of 25 rows). */
export class MessageTooLargeError extends Error {
  override name = 'MessageTooLargeError';

  constructor(boardId: string, channel: string, bytes: number) {
    super(
      `a message of ${bytes} bytes for ${channel} (board ${boardId}) is over ${MAX_MESSAGE_BYTES}`,
    );
  }
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
