import type { BoardView } from '../../contract/board.ts';
import { decodeEvent } from '../../contract/events.ts';
import { applyEvent, type BoardState, loading } from '../../web/src/board/boardState.ts';
import { openSse, type SseClient, type SseEvent } from './sse.ts';

/**
 * Follows one board the way the web app does: applies each event by version with the web app's
 * own reducer, and, like EventSource, reconnects with `Last-Event-ID` when the stream drops.
 * Records what it applied so tests can check the version chain instead of sleeping and hoping.
 */
export class BoardFollower {
  state: BoardState = loading;
  /** `[since, version]` of every event applied, in order (snapshots have `since` = -1). */
  readonly applied: [number, number][] = [];
  /** Versions of events that skipped ahead of the state (the reducer asked for a resync). */
  readonly gaps: number[] = [];
  reconnects = 0;
  private client: SseClient | undefined;
  private stopped = false;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly url: string) {}

  static async open(url: string): Promise<BoardFollower> {
    const follower = new BoardFollower(url);
    await follower.connect(undefined);
    return follower;
  }

  /** A follower that knew `board` when its stream dropped, reconnecting from its version. */
  static async resume(url: string, board: BoardView): Promise<BoardFollower> {
    const follower = new BoardFollower(url);
    follower.state = { phase: 'ready', board };
    await follower.connect(String(board.version));
    return follower;
  }

  get version(): number | undefined {
    return this.state.phase === 'ready' ? this.state.board.version : undefined;
  }

  get board(): BoardView | undefined {
    return this.state.phase === 'ready' ? this.state.board : undefined;
  }

  /** Whether the stream it opened first is still the one it uses. */
  get neverDisconnected(): boolean {
    return this.reconnects === 0 && this.client?.disconnected === undefined;
  }

  /** Resolves once the board has reached `version`; rejects with what was applied otherwise. */
  waitForVersion(version: number, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if ((this.version ?? -1) >= version) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `board at version ${this.version} after ${timeoutMs} ms, wanted ${version}; applied ${JSON.stringify(this.applied)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** True when every applied update started at or before the version the board was at. */
  chainIsUnbroken(): boolean {
    let at = -1;
    for (const [since, version] of this.applied) {
      if (since !== -1 && since > at) return false;
      if (version <= at) return false;
      at = version;
    }
    return true;
  }

  close(): void {
    this.stopped = true;
    this.client?.close();
  }

  // One received event, through the web app's own parser and reducer.
  private apply(raw: SseEvent): void {
    const event = decodeEvent(raw.event, raw.data);
    if (event === undefined) return;
    const result = applyEvent(this.state, event);
    if (result.outcome === 'resync') this.gaps.push(event.type === 'update' ? event.version : -1);
    if (result.outcome !== 'applied') return;
    this.state = result.state;
    if (event.type === 'snapshot') this.applied.push([-1, event.board.version]);
    if (event.type === 'update') this.applied.push([event.since, event.version]);
  }

  private async connect(lastEventId: string | undefined): Promise<void> {
    const client = await openSse(this.url, lastEventId === undefined ? {} : { lastEventId });
    this.client = client;
    let seen = 0;
    const drain = () => {
      for (; seen < client.events.length; seen++) {
        const raw = client.events[seen];
        if (raw !== undefined) this.apply(raw);
      }
      for (const waiter of [...this.waiters]) waiter();
    };
    const poll = setInterval(drain, 5);
    void client.ended.then(async () => {
      clearInterval(poll);
      drain();
      if (this.stopped) return;
      // EventSource waits `retry` ms (2 s from our server); tests need not wait that long.
      for (let attempt = 0; !this.stopped; attempt++) {
        await new Promise((r) => setTimeout(r, 100 + attempt * 100));
        try {
          this.reconnects++;
          await this.connect(this.version === undefined ? undefined : String(this.version));
          return;
        } catch {
          // The proxy is still down; try again.
        }
      }
    });
    drain();
  }
}
