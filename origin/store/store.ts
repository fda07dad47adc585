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

  private constructor(private readonly db: Low<Database>) {}

  /** Opens the database, writing `seed()` when the adapter holds nothing yet. */
  static async open(adapter: Adapter<Database>, seed: () => Database): Promise<Store> {
    const existing = await adapter.read();
    const db = new Low<Database>(adapter, existing ?? seed());
    const store = new Store(db);
    if (existing === null) await store.commit();
    return store;
  }

  get data(): Database {
    return this.db.data;
  }

  /** Resolves when every change made before this call is durable. */
  commit(): Promise<void> {
    if (this.next !== undefined) return this.next;
    const next = this.running.then(() => {
      this.next = undefined;
      return this.db.write();
    });
    this.next = next;
    this.running = next.catch(() => undefined);
    return next;
  }
}

/** A store kept in memory only: for tests and throwaway runs. */
export function memoryStore(seed: () => Database): Promise<Store> {
  return Store.open(new Memory<Database>(), seed);
}

/** A store in a durable JSON file. */
export function fileStore(path: string, seed: () => Database): Promise<Store> {
  return Store.open(new DurableJsonFile(path, parseDatabase), seed);
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
      players: z.record(z.string(), player),
    }),
  ),
});

/** Checks that a parsed data file has the database's shape. */
export function parseDatabase(value: unknown): Database {
  return database.parse(value);
}
