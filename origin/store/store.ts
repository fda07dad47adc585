import type { Adapter } from 'lowdb';
import { Low, Memory } from 'lowdb';
import { z } from 'zod';
import { orderSchema, type PlayerState, playerStateSchema } from '../../contract/board.ts';
import type { Database } from '../domain/board.ts';
import { Journal } from './journal.ts';
import { DataFileError, DurableJsonFile } from './json-file.ts';

/** One group commit: how many mutations it made durable, and how long its write took. */
export interface CommitReport {
  mutations: number;
  seconds: number;
}

/**
 * The database in memory plus a group commit to disk. Mutations change `data` synchronously (the
 * process is the only writer) and `touch` the players they changed; `commit()` resolves once
 * everything changed up to the call is on disk. Calls that arrive while a write is running share
 * the next write, so a burst of `+1`s costs one write per disk round trip, not one per click.
 *
 * With a journal (the file store), a commit appends one line with the absolute state of what
 * changed since the last commit, and the whole data file is rewritten only when the journal has
 * grown past it. Without one (the memory store), every commit writes the whole database.
 */
export class Store {
  private running: Promise<void> = Promise.resolve();
  private next: Promise<void> | undefined;
  private failure: Error | undefined;
  private touched = new Map<string, Set<string>>();
  /** The version of every board as the disk has it (or as the write under way will have it). */
  private readonly persisted = new Map<string, number>();
  /** Mutations since the last commit began: the size of the next group commit. */
  private pending = 0;
  private readonly commitListeners = new Set<(commit: CommitReport) => void>();

  private constructor(
    private readonly db: Low<Database>,
    private readonly onWriteFailure: (error: Error) => void,
    private readonly journal: Journal | undefined,
    private readonly folding: Folding,
  ) {}

  /**
   * Opens the database: the data file (or `seed()` when there is none yet) with the journal's
   * entries redone on top, then both folded into a fresh data file. `onWriteFailure` hears of the
   * first failed write: the process should stop there (see `commit`).
   */
  static async open(
    adapter: Adapter<Database>,
    seed: () => Database,
    onWriteFailure: (error: Error) => void = () => {},
    journal?: Journal,
    folding: Folding = { snapshotBytes: () => 0, journalMinBytes: MIN_JOURNAL_BYTES },
  ): Promise<Store> {
    const existing = await adapter.read();
    const data = existing ?? seed();
    const entries = journal === undefined ? [] : await journal.read();
    for (const entry of entries) redo(data, entry, journal?.path ?? '');
    const db = new Low<Database>(adapter, entries.length > 0 ? parseDatabase(data) : data);
    const store = new Store(db, onWriteFailure, journal, folding);
    if (existing === null || entries.length > 0) {
      await db.write();
      await journal?.clear();
    }
    store.notePersisted();
    return store;
  }

  /** Notes which players a mutation changed or removed, so the next commit writes just those. */
  touch(boardId: string, playerIds: Iterable<string>): void {
    this.pending++;
    let ids = this.touched.get(boardId);
    if (ids === undefined) {
      ids = new Set();
      this.touched.set(boardId, ids);
    }
    for (const id of playerIds) ids.add(id);
  }

  get data(): Database {
    return this.db.data;
  }

  /**
   * Replaces the whole database (a restore). The next commit writes every board of `data` whole
   * and deletes every other board, in one journal entry (or one data file without a journal): a
   * crash leaves the old database or the new one, never a mix.
   */
  replaceAll(data: Database): void {
    this.db.data = data;
    this.touched = new Map();
    // No version of these boards is on disk: the next commit writes each in full.
    for (const id of Object.keys(data.boards)) this.persisted.set(id, -1);
    this.pending++;
  }

  /** Hears of every group commit that made mutations durable; returns how to stop listening. */
  onCommit(listener: (commit: CommitReport) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
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
    const next = this.running.then(async () => {
      this.next = undefined;
      if (this.failure !== undefined) throw this.failure;
      const mutations = this.pending;
      this.pending = 0;
      const started = performance.now();
      await this.persist();
      if (mutations === 0) return;
      const report = { mutations, seconds: (performance.now() - started) / 1000 };
      for (const listener of this.commitListeners) listener(report);
    });
    this.next = next;
    this.running = next.catch((error: unknown) => {
      if (this.failure !== undefined) return;
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.onWriteFailure(this.failure);
    });
    return next;
  }

  /** Writes what changed since the last commit. Reads memory synchronously, before any await. */
  private persist(): Promise<void> {
    if (this.journal === undefined) return this.db.write();
    const entry: JournalEntry = { boards: this.changes() };
    if (entry.boards.length === 0) return Promise.resolve();
    return this.append(this.journal, JSON.stringify(entry));
  }

  private async append(journal: Journal, line: string): Promise<void> {
    await journal.append(line);
    const { journalMinBytes, snapshotBytes } = this.folding;
    if (journal.bytes > Math.max(journalMinBytes, 2 * snapshotBytes())) {
      // Fold the journal into the data file. Memory may already hold changes of the next
      // commit; writing them now too is harmless, since redoing an entry sets absolute states.
      this.notePersisted();
      this.touched = new Map();
      await this.db.write();
      await journal.clear();
    }
  }

  /** What changed since the last commit, board by board, as entries `redo` can apply. */
  private changes(): JournalBoard[] {
    const boards = this.db.data.boards;
    const changes: JournalBoard[] = [];
    for (const id of this.persisted.keys()) {
      if (!Object.hasOwn(boards, id)) {
        changes.push({ id, deleted: true });
        this.persisted.delete(id);
      }
    }
    for (const board of Object.values(boards)) {
      if (this.persisted.get(board.id) === board.version) continue;
      const { players, ...fields } = board;
      const touched = this.persisted.has(board.id) ? this.touched.get(board.id) : undefined;
      if (touched === undefined) {
        // A new board, or one changed without saying which players: write all of it.
        changes.push({ id: board.id, board: fields, players, replace: true });
      } else {
        const upsert = players.filter((p) => touched.has(p.id));
        const kept = new Set(upsert.map((p) => p.id));
        changes.push({
          id: board.id,
          board: fields,
          players: upsert,
          remove: [...touched].filter((id) => !kept.has(id)),
        });
      }
      this.persisted.set(board.id, board.version);
    }
    this.touched = new Map();
    return changes;
  }

  private notePersisted(): void {
    this.persisted.clear();
    for (const board of Object.values(this.db.data.boards))
      this.persisted.set(board.id, board.version);
  }
}

/** The journal is folded into the data file once it is larger than this and twice the file. */
const MIN_JOURNAL_BYTES = 1 << 20;

/** When the journal is folded into the data file. */
interface Folding {
  snapshotBytes: () => number;
  journalMinBytes: number;
}

/** A player as the data file and the journal hold it: the wire's player state. */
const storedPlayer = z.strictObject(playerStateSchema.shape);

/** A board as stored, without its players. */
const boardFields = z.strictObject({
  id: z.string(),
  name: z.string(),
  order: orderSchema,
  version: z.int().nonnegative(),
  createdAt: z.string(),
});

const storedBoard = boardFields.extend({ players: z.array(storedPlayer) });

const database = z.strictObject({ boards: z.record(z.string(), storedBoard) });

/**
 * What one journal entry says of one board: it was deleted, or here are its fields and the players
 * that changed (all of them with `replace`) and the ids of those that left. States are absolute.
 */
const journalBoard = z.union([
  z.strictObject({ id: z.string(), deleted: z.literal(true) }),
  z.strictObject({
    id: z.string(),
    board: boardFields,
    players: z.array(storedPlayer),
    replace: z.literal(true).optional(),
    remove: z.array(z.string()).optional(),
  }),
]);

type JournalBoard = z.infer<typeof journalBoard>;

/** One line of the journal: what one group commit wrote. */
const journalEntry = z.strictObject({ boards: z.array(journalBoard) });

type JournalEntry = z.infer<typeof journalEntry>;

/**
 * Redoes one journal entry on a database. Entries carry absolute states, so redoing one that the
 * data file already holds changes nothing: a crash between folding the journal into the data file
 * and emptying it is harmless.
 */
function redo(db: Database, value: unknown, path: string): void {
  const parsed = journalEntry.safeParse(value);
  if (!parsed.success) {
    throw new DataFileError(
      `journal ${path} has an entry of the wrong shape; nothing was changed.`,
    );
  }
  for (const change of parsed.data.boards) {
    if ('deleted' in change) {
      delete db.boards[change.id];
      continue;
    }
    const existing = Object.hasOwn(db.boards, change.id) ? db.boards[change.id] : undefined;
    const players = new Map<string, PlayerState>(
      change.replace || existing === undefined ? [] : existing.players.map((p) => [p.id, p]),
    );
    for (const player of change.players) players.set(player.id, player);
    for (const id of change.remove ?? []) players.delete(id);
    db.boards[change.id] = { ...change.board, players: [...players.values()] };
  }
}

/** A store kept in memory only: for tests and throwaway runs. */
export function memoryStore(seed: () => Database): Promise<Store> {
  return Store.open(new Memory<Database>(), seed);
}

/** A store in a durable JSON file with its journal (`<path>.journal`). */
export function fileStore(
  path: string,
  seed: () => Database,
  onWriteFailure?: (error: Error) => void,
  journalMinBytes = MIN_JOURNAL_BYTES,
): Promise<Store> {
  const file = new DurableJsonFile(path, parseDatabase);
  return Store.open(file, seed, onWriteFailure, new Journal(`${path}.journal`), {
    snapshotBytes: () => file.lastBytes,
    journalMinBytes,
  });
}

/** Checks that a parsed data file has the database's shape. */
export function parseDatabase(value: unknown): Database {
  const result = database.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new Error(issues.join('; '));
}
