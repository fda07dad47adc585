import { type BoardView, boardViewSchema, type RankedPlayer } from '../../contract/board.ts';
import {
  type BoardEvent,
  type BoardMeta,
  decodeEvent,
  eventVersion,
} from '../../contract/events.ts';
import { apiPaths } from '../../contract/paths.ts';
import { DEFAULT_LIMIT } from '../../contract/requests.ts';
import { PAGE_SIZE, pageOf, pagesCovering } from '../../contract/windows.ts';
import { openSse, type SseClient, type SseEvent } from './sse.ts';

/** The window a follower watches, as the stream's query says it (`limit`, `from`, `around`). */
export interface WindowQuery {
  limit?: number | undefined;
  from?: number | undefined;
  around?: string | undefined;
}

export interface FollowerOptions {
  /** Where the stream is opened and the window loaded again: Pushpin, or the edge. */
  baseUrl: string;
  boardId: string;
  window?: WindowQuery | undefined;
  /**
   * Waits a random part of a `reload`'s `spreadMs` before loading the window again, as browsers
   * do. By default a test follower reloads at once.
   */
  spreadReloads?: boolean | undefined;
}

/** One page as the follower holds it: its rows, and the board version they are from. */
export interface HeldPage {
  version: number;
  players: RankedPlayer[];
}

/** One stream the follower opened, and what it sent with it. */
export interface FollowerConnection {
  /** The `Last-Event-ID` it was opened with (none: a fresh stream). */
  lastEventId: string | undefined;
  client: SseClient;
}

/** A `reload` the follower heard, and the version of the window it then loaded. */
export interface FollowerReload {
  version: number;
  reason: string;
  loadedVersion: number | undefined;
}

interface ChannelLast {
  id: number;
  type: BoardEvent['type'];
  data: string;
}

/**
 * Follows one window of a board the way the web app does: the board's meta from `board` events,
 * each page's rows from `page` events (a page event replaces the page), the window loaded again
 * as JSON on `reload` (`&v=<version>`), and the end on `deleted`. Like EventSource it reconnects
 * with `Last-Event-ID` when the stream drops. It checks what it hears as it goes: on every
 * channel (the board's, each page's) ids never go back, an id heard twice brings the same data,
 * and every event's SSE id is its version. Whatever breaks that is in `violations`.
 */
export class WindowFollower {
  meta: BoardMeta | undefined;
  /** Every page heard of, by page number (`heldPages` says which the current stream follows). */
  readonly pages = new Map<number, HeldPage>();
  deleted = false;
  /** The last SSE id heard: what a reconnection sends as `Last-Event-ID`. */
  lastEventId: string | undefined;
  readonly connections: FollowerConnection[] = [];
  readonly reloads: FollowerReload[] = [];
  /** What broke the stream's rules, in words; empty when all was well. */
  readonly violations: string[] = [];
  /** Events heard again with the same id and data (an opening body and a publish racing). */
  duplicates = 0;
  /** Page events older than what the follower had (its window was loaded as JSON since). */
  stale = 0;
  /** Streams opened again with `Last-Event-ID` after one dropped. */
  reconnects = 0;
  /** Fresh streams opened because the followed player left the pages held (after a reload). */
  reopens = 0;
  private held = new Set<number>();
  private readonly channelLast = new Map<string, ChannelLast>();
  private readonly waiters = new Set<() => void>();
  private readonly pendingReloads = new Set<Promise<void>>();
  private paused = false;
  private stopped = false;

  private constructor(private readonly options: FollowerOptions) {}

  /** Opens a fresh stream on the window and resolves once it is open (not yet its events). */
  static async open(options: FollowerOptions): Promise<WindowFollower> {
    const follower = new WindowFollower(options);
    await follower.connect(undefined);
    return follower;
  }

  get window(): { limit: number; from: number; around: string | undefined } {
    const window = this.options.window ?? {};
    return {
      limit: window.limit ?? DEFAULT_LIMIT,
      from: Math.floor((window.from ?? 0) / PAGE_SIZE) * PAGE_SIZE,
      around: window.around,
    };
  }

  /** The stream's URL. */
  get url(): string {
    const { limit, from, around } = this.options.window ?? {};
    const query = new URLSearchParams();
    if (limit !== undefined) query.set('limit', String(limit));
    if (from !== undefined) query.set('from', String(from));
    if (around !== undefined) query.set('around', around);
    const search = query.size > 0 ? `?${query}` : '';
    return new URL(`${apiPaths.board(this.options.boardId)}${search}`, this.options.baseUrl).href;
  }

  /** The pages the current stream follows, in order. */
  get heldPages(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  /** The newest board version the follower has heard of, on any channel or in a reload. */
  get version(): number | undefined {
    let version = this.meta?.version;
    for (const page of this.pages.values()) version = Math.max(version ?? -1, page.version);
    return version;
  }

  /** The stream in use now. */
  get client(): SseClient | undefined {
    return this.connections.at(-1)?.client;
  }

  /** Whether the stream it opened first is still the one it uses. */
  get neverDisconnected(): boolean {
    return this.connections.length === 1 && this.client?.disconnected === undefined;
  }

  /** The rows of the main window (`limit` rows from `from`) as the follower holds them. */
  rows(): RankedPlayer[] {
    const { limit, from } = this.window;
    const rows: RankedPlayer[] = [];
    for (let position = from; position < from + limit; position++) {
      const page = this.held.has(pageOf(position)) ? this.pages.get(pageOf(position)) : undefined;
      const row = page?.players[position % PAGE_SIZE];
      if (row === undefined) break;
      rows.push(row);
    }
    return rows;
  }

  /** Resolves once the follower has heard of `version`; rejects with what it heard otherwise. */
  waitForVersion(version: number, timeoutMs = 15_000): Promise<void> {
    return this.waitUntil(() => (this.version ?? -1) >= version, `version ${version}`, timeoutMs);
  }

  /** Resolves once `done()` holds, checked whenever something arrives. */
  waitUntil(done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.url}: no ${what} after ${timeoutMs} ms.\n${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /**
   * How the follower differs from the board as JSON: its main window against
   * `GET /boards/:id/?limit=&from=`, each held page against its own window, and the board's meta.
   * Empty when they are equal; call while the board is quiet.
   */
  async differences(): Promise<string[]> {
    const { limit, from } = this.window;
    const differences: string[] = [];
    const main = await fetchWindow(this.options, { limit, from });
    const compare = (what: string, held: RankedPlayer[], board: RankedPlayer[]) => {
      if (JSON.stringify(held) !== JSON.stringify(board)) {
        differences.push(`${what}: follower ${describeRows(held)}, board ${describeRows(board)}`);
      }
    };
    compare(`rows ${from}..${from + limit - 1}`, this.rows(), main.players);
    for (const page of this.heldPages) {
      const board = await fetchWindow(this.options, { limit: PAGE_SIZE, from: page * PAGE_SIZE });
      compare(`page ${page}`, this.pages.get(page)?.players ?? [], board.players);
    }
    if (this.heldPages.length === 0) differences.push('holds no page');
    const meta = this.meta;
    if (
      meta === undefined ||
      meta.name !== main.name ||
      meta.order !== main.order ||
      meta.playerCount !== main.playerCount
    ) {
      differences.push(
        `meta: follower ${JSON.stringify(meta)}, board ${JSON.stringify({ ...main, players: undefined })}`,
      );
    }
    return differences;
  }

  /** Resolves once the follower equals the board as JSON (see `differences`). */
  async waitForMatch(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await Promise.all(this.pendingReloads);
      const differences = await this.differences();
      if (differences.length === 0) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `${this.url}: still differs from the board after ${timeoutMs} ms:\n  ${differences.join('\n  ')}\n${this.describe()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Drops the stream but keeps what it knew, as a viewer whose network went away. */
  pause(): void {
    this.paused = true;
    this.client?.close();
  }

  /** Comes back after `pause()` with `Last-Event-ID`, as EventSource would. */
  async resume(): Promise<FollowerConnection> {
    this.paused = false;
    await this.connect(this.lastEventId);
    return this.connections.at(-1) as FollowerConnection;
  }

  close(): void {
    this.stopped = true;
    this.client?.close();
  }

  /** What the follower heard, for error messages. */
  describe(): string {
    const lines = [
      `version ${this.version}, held pages [${this.heldPages.join(',')}], meta ${JSON.stringify(this.meta)}`,
      `reloads ${JSON.stringify(this.reloads)}, violations ${JSON.stringify(this.violations)}`,
    ];
    this.connections.forEach((connection, i) => {
      lines.push(`connection ${i} (Last-Event-ID ${connection.lastEventId ?? '-'}):`);
      lines.push(
        ...connection.client.events.map(
          (e) =>
            `  ${e.event} id=${e.id ?? '-'} ${e.data.length > 160 ? `${e.data.slice(0, 160)}…` : e.data}`,
        ),
      );
    });
    return lines.join('\n');
  }

  private async connect(lastEventId: string | undefined): Promise<void> {
    const client = await openSse(this.url, lastEventId === undefined ? {} : { lastEventId });
    const connection: FollowerConnection = { lastEventId, client };
    this.connections.push(connection);
    // The pages this stream follows: its main window's (fixed by its query), and those around a
    // followed player, which the events tell (each page event is on one of the stream's channels,
    // and an opening body carries them all). A resumed stream follows the pages it did before.
    const main = pagesCovering(this.window.from, this.window.limit);
    this.held = new Set(lastEventId === undefined ? main : [...this.held, ...main]);
    let read = 0;
    const drain = () => {
      for (; read < client.events.length; read++) {
        const event = this.check(client.events[read] as SseEvent);
        if (event === undefined) continue;
        if (event.type === 'page') this.held.add(event.page);
        this.apply(event);
      }
      for (const waiter of [...this.waiters]) waiter();
    };
    const stop = client.onChange(drain);
    void client.ended.then(async () => {
      stop();
      drain();
      if (this.stopped || this.paused || this.deleted || this.client !== client) return;
      // EventSource waits `retry` ms (2 s from our server); tests need not wait that long.
      for (let attempt = 0; !this.stopped && !this.paused; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100 + attempt * 100));
        try {
          this.reconnects++;
          await this.connect(this.lastEventId);
          return;
        } catch {
          // The proxy is still down; try again.
        }
      }
    });
    drain();
  }

  /** Decodes one received event and checks it against the rules of its channel. */
  private check(raw: SseEvent): BoardEvent | undefined {
    const event = decodeEvent(raw.event, raw.data);
    if (event === undefined) {
      this.violations.push(`undecodable ${raw.event} event: ${raw.data.slice(0, 200)}`);
      return undefined;
    }
    const id = eventVersion(event);
    if (raw.id !== String(id)) {
      this.violations.push(`${raw.event} event of version ${id} has the SSE id ${raw.id}`);
    }
    this.lastEventId = raw.id;
    const channel = event.type === 'page' ? `page ${event.page}` : 'board';
    const last = this.channelLast.get(channel);
    if (last !== undefined) {
      if (id < last.id) {
        this.violations.push(`${channel}: ${event.type} ${id} came after ${last.type} ${last.id}`);
      } else if (id === last.id && event.type === last.type && raw.data !== last.data) {
        this.violations.push(`${channel}: two ${event.type} events of version ${id} differ`);
      } else if (id === last.id) {
        this.duplicates++;
      }
    }
    this.channelLast.set(channel, { id, type: event.type, data: raw.data });
    return event;
  }

  private apply(event: BoardEvent): void {
    switch (event.type) {
      case 'board':
        if (this.meta === undefined || event.board.version >= this.meta.version) {
          this.meta = event.board;
        }
        return;
      case 'page':
        this.setPage(event.page, event.version, event.players);
        return;
      case 'reload': {
        const reload: FollowerReload = {
          version: event.version,
          reason: event.reason,
          loadedVersion: undefined,
        };
        this.reloads.push(reload);
        const pause = this.options.spreadReloads ? Math.random() * event.spreadMs : 0;
        const work = new Promise((resolve) => setTimeout(resolve, pause))
          .then(() => this.reload(reload))
          .catch((error: unknown) => {
            this.violations.push(`reload for version ${event.version} failed: ${String(error)}`);
          })
          .finally(() => {
            this.pendingReloads.delete(work);
            for (const waiter of [...this.waiters]) waiter();
          });
        this.pendingReloads.add(work);
        return;
      }
      case 'deleted':
        this.deleted = true;
        this.client?.close();
        return;
    }
  }

  private setPage(page: number, version: number, players: RankedPlayer[]): void {
    const held = this.pages.get(page);
    if (held !== undefined && version < held.version) {
      this.stale++;
      return;
    }
    this.pages.set(page, { version, players });
  }

  /**
   * Loads the held pages again as JSON, in runs of adjacent pages, naming the version the reload
   * is for (`v`). A followed player who is no longer on them gets a fresh stream, which follows
   * the pages where the player now is.
   */
  private async reload(reload: FollowerReload): Promise<void> {
    const pages = this.heldPages;
    for (const run of adjacentRuns(pages)) {
      const from = (run[0] as number) * PAGE_SIZE;
      const view = await fetchWindow(this.options, {
        from,
        limit: run.length * PAGE_SIZE,
        v: reload.version,
      });
      reload.loadedVersion = Math.max(reload.loadedVersion ?? -1, view.version);
      for (const page of run) {
        const start = page * PAGE_SIZE - view.offset;
        this.setPage(page, view.version, view.players.slice(start, start + PAGE_SIZE));
      }
      const { players: _, offset: __, ...meta } = view;
      if (this.meta === undefined || meta.version >= this.meta.version) {
        this.meta = meta;
      }
    }
    const { around } = this.window;
    if (around === undefined || this.stopped || this.deleted) return;
    const onHeld = this.heldPages.some((page) =>
      this.pages.get(page)?.players.some((p) => p.id === around),
    );
    if (onHeld) return;
    this.reopens++;
    const old = this.client;
    await this.connect(undefined);
    old?.close();
  }
}

/** `GET /boards/:id/?limit=&from=` (and `v`) as JSON, checked against the contract. */
export async function fetchWindow(
  where: { baseUrl: string; boardId: string },
  window: { limit?: number; from?: number; around?: string; v?: number },
): Promise<BoardView> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(window)) {
    if (value !== undefined) query.set(key, String(value));
  }
  const url = new URL(`${apiPaths.board(where.boardId)}?${query}`, where.baseUrl);
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  const body: unknown = await response.json();
  const view = boardViewSchema.safeParse(body);
  if (response.status !== 200 || !view.success) {
    throw new Error(`GET ${url} -> ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
  return view.data;
}

function adjacentRuns(pages: readonly number[]): number[][] {
  const runs: number[][] = [];
  for (const page of pages) {
    const run = runs.at(-1);
    if (run !== undefined && run.at(-1) === page - 1) run.push(page);
    else runs.push([page]);
  }
  return runs;
}

function describeRows(rows: readonly RankedPlayer[]): string {
  const shown = rows.slice(0, 6).map((p) => `${p.name}:${p.score}#${p.rank}`);
  return `${rows.length} rows [${shown.join(', ')}${rows.length > 6 ? ', …' : ''}]`;
}

/**
 * The opening body of one of a follower's streams, as it arrived: the board's meta, then the
 * pages of the same version that came with it (each once), or nothing when the stream opened
 * without them. `bytes` bounds its size from above.
 */
export function openingOf(connection: FollowerConnection): { events: SseEvent[]; bytes: number } {
  const { events } = connection.client;
  const first = events[0];
  if (first?.event !== 'board') return { events: [], bytes: 0 };
  const pages = new Set<number>();
  let end = 1;
  for (; end < events.length; end++) {
    const event = events[end] as SseEvent;
    if (event.event !== 'page' || event.id !== first.id) break;
    const page = decodeEvent(event.event, event.data);
    if (page?.type !== 'page' || pages.has(page.page)) break;
    pages.add(page.page);
  }
  return { events: events.slice(0, end), bytes: connection.client.bytesUpTo(end - 1) };
}
