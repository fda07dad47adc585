import type { Broadcaster } from './broadcaster.ts';
import type { Limits, NewId } from './domain/board.ts';
import type { BoardStore } from './store/board-store.ts';
import { EmbeddedBoardStore } from './store/embedded.ts';
import type { CommitReport, Store } from './store/store.ts';

/** Resolves once everything changed so far is durable. */
export type Commit = () => Promise<void>;

/**
 * A store and how its changes reach the broadcaster: what `createApp` is given. The embedded
 * store hands each change to the broadcaster as it is made; the Redis store writes it to the
 * board's change log, which a publisher holding the board's lease reads.
 */
export interface StoreBackend {
  store: BoardStore;
  /** Resolves once everything changed so far is durable (the broadcaster waits for it). */
  commit?: Commit;
  /** Called before a round of publishes goes out (see `BroadcasterOptions.claim`). */
  claim?: (boardId: string, ids: ReadonlyMap<string, number>) => Promise<void>;
  /** Connects the broadcaster to the store's changes. */
  connect(broadcaster: Broadcaster): void;
  /** Hears of every group commit (the embedded store's; for metrics). */
  onCommit?: (listener: (commit: CommitReport) => void) => void;
  /** Stops background work, publishes what waits, and settles the store: for a clean stop. */
  stop(): Promise<void>;
}

/** The embedded store over a file (or memory) store: the default backend. */
export function embeddedBackend(
  store: Store,
  options: { limits: Limits; newId: NewId },
): StoreBackend {
  const embedded = new EmbeddedBoardStore({ store, ...options });
  let drain: () => Promise<void> = async () => {};
  return {
    store: embedded,
    commit: () => store.commit(),
    connect: (broadcaster) => {
      embedded.attach(broadcaster);
      drain = () => broadcaster.drain();
    },
    onCommit: (listener) => void store.onCommit(listener),
    stop: async () => {
      await store.commit();
      await drain();
    },
  };
}
