import type { Adapter } from 'lowdb';
import { Low, Memory } from 'lowdb';
import { z } from 'zod';
import type { Database } from '../domain/board.ts';
import { DurableJsonFile } from './json-file.ts';

/**
 * The database in memory plus a group commit to its adapter. Mutations change `data`
 * synchronously (the process is the only writer); `commit()` resolves once everything changed up
 * to the call is on disk. Calls that arrive while a write is running share the next write, so a
 * burst of `+1`s costs one file rewrite per disk round trip, not one per click.
 */
export class Store {
  private running: Promise<void> = Promise.resolve();
  private next: Promise<void> | undefined;
  private failure: Error | undefined;

  private constructor(
    private readonly db: Low<Database>,
    private readonly onWriteFailure: (error: Error) => void,
  ) {}

  /**
   * Opens the database, writing `seed()` when the adapter holds nothing yet. `onWriteFailure` hears
   * of the first failed write: the process should stop there (see `commit`).
   */
  static async open(
    adapter: Adapter<Database>,
    seed: () => Database,
    onWriteFailure: (error: Error) => void = () => {},
  ): Promise<Store> {
    const existing = await adapter.read();
    const db = new Low<Database>(adapter, existing ?? seed());
    const store = new Store(db, onWriteFailure);
    if (existing === null) await store.commit();
    return store;
  }

  get data(): Database {
    return this.db.data;
  }

  /** True once a write has failed: memory may be ahead of the disk, so nothing should be served. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Resolves when every change made before this call is durable. After a failed write the
   * changes in memory are ahead of the disk and nothing can say which were lost, so the store
   * refuses every later commit: the owner stops, and a restart reloads what the disk holds.
   */
  commit(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.next !== undefined) return this.next;
    const next = this.running.then(() => {
      this.next = undefined;
      if (this.failure !== undefined) throw this.failure;
      return this.db.write();
    });
    this.next = next;
    this.running = next.catch((error: unknown) => {
      if (this.failure !== undefined) return;
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.onWriteFailure(this.failure);
    });
    return next;
  }
}

/** A store kept in memory only: for tests and throwaway runs. */
export function memoryStore(seed: () => Database): Promise<Store> {
  return Store.open(new Memory<Database>(), seed);
}

/** A store in a durable JSON file. */
export function fileStore(
  path: string,
  seed: () => Database,
  onWriteFailure?: (error: Error) => void,
): Promise<Store> {
  return Store.open(new DurableJsonFile(path, parseDatabase), seed, onWriteFailure);
}

const player = z.strictObject({
  id: z.string(),
  name: z.string(),
  score: z.number().int(),
  scoredAt: z.number().int(),
});

const database = z.strictObject({
  boards: z.record(
    z.string(),
    z.strictObject({
      id: z.string(),
      name: z.string(),
      order: z.enum(['desc', 'asc']),
      version: z.number().int().nonnegative(),
      createdAt: z.string(),
      players: z.array(player),
    }),
  ),
});

/** Checks that a parsed data file has the database's shape. */
export function parseDatabase(value: unknown): Database {
  const result = database.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new Error(issues.join('; '));
}
