import type { Broadcaster } from './broadcaster.ts';
import type { Limits, NewId } from './domain/board.ts';
import type { BoardStore } from './store/board-store.ts';
import { EmbeddedBoardStore } from './store/embedded.ts';
import { EmbeddedKeyStore } from './store/keys/embedded.ts';
import type { KeyStore } from './store/keys/key-store.ts';
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
  /** The API keys, kept beside the boards (the embedded key file, or Redis). */
  keys: KeyStore;
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
  options: { limits: Limits; newId: NewId; keys?: KeyStore | undefined },
): StoreBackend {
  const { keys = EmbeddedKeyStore.inMemory(), ...rest } = options;
  const embedded = new EmbeddedBoardStore({ store, ...rest });
  let drain: () => Promise<void> = async () => {};
  return {
    store: embedded,
    keys,
    commit: () => store.commit(),
    connect: (broadcaster) => {
      embedded.attach(broadcaster);
      drain = () => broadcaster.drain();
    },
    onCommit: (listener) => void store.onCommit(listener),
    stop: async () => {
      await store.commit();
      await keys.close();
      await drain();
    },
  };
}
