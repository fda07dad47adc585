import type { Adapter } from 'lowdb';
import { Low, Memory } from 'lowdb';
import { type Database, indexOf, playersById } from '../domain/board.ts';
import type { IdempotencyRecord } from '../domain/idempotency.ts';
import type { SeasonRecord } from '../domain/seasons.ts';
import { Journal } from './journal.ts';
import { DurableJsonFile } from './json-file.ts';
import { Replay } from './replay.ts';
import { type JournalBoard, type JournalEntry, parseDatabase } from './schema.ts';
import { databasePieces } from './snapshot.ts';

export { parseDatabase } from './schema.ts';

/*
 * The file store on disk, for a data file at <path>:
 *
 *   <path>                  the whole database as of some commit, as JSON; only ever replaced
 *                           whole (temporary file, fsync, rename, fsync of the directory)
 *   <path>.journal.folding  the commits before those in <path>.journal, sealed while a fold
 *                           writes them into <path>; there only during a fold (or after a crash
 *                           in one)
 *   <path>.journal          the newest commits, one JSON line each, fdatasynced before the commit
 *                           is acknowledged
 *   .<name>.<pid>.tmp       a data file being written; left only by a crash, removed at start
 *
 * The database is <path> with every entry of <path>.journal.folding and then of <path>.journal
 * redone on top. A last line without its newline is dropped (a crash cut it short before it was
 * acknowledged); any other line that cannot be read stops the start. Entries hold absolute states,
 * so redoing entries that <path> already holds changes nothing, as long as what is left to redo
 * is the newest part of the history: journal files are removed oldest first.
 *
 * A fold, once the journal has grown larger than the data file: the commit that crosses the size
 * captures the state its entry brings the database to (board fields and players arrays copied, no
 * serialisation), appends the entry, renames <path>.journal to <path>.journal.folding and makes a
 * new empty <path>.journal. Later commits append there while the captured state is serialised a
 * few thousand players at a time and written over <path>; then <path>.journal.folding is removed.
 * At start, when either journal file holds anything, the database is written over <path> the
 * same way and then both are emptied, the sealed one first, before the store opens.
 *
 * The previous version's directory (<path> and <path>.journal) is this layout between folds.
 */

/** One group commit: how many mutations it made durable, and how long its write took. */
export interface CommitReport {
  mutations: number;
  seconds: number;
}

/** The file store's storage: the data file, the journal beside it, and when to fold. */
export interface JournaledFile {
  dataFile: DurableJsonFile<Database>;
  journal: Journal;
  /** The journal is folded once larger than this and than the data file. */
  journalMinBytes: number;
}

/**
 * The database in memory plus a group commit to disk. Mutations change `data` synchronously (the
 * process is the only writer) and `touch` the players they changed; `commit()` resolves once
 * everything changed up to the call is on disk. Calls that arrive while a write is running share
 * the next write, so a burst of `+1`s costs one write per disk round trip, not one per click.
 *
 * With a journal (the file store), a commit appends one line with the absolute state of what
 * changed since the last commit, and the data file is rewritten, beside the commits, only when
 * the journal has grown past it. Without one (the memory store), every commit writes the whole
 * database.
 */
export class Store {
  private running: Promise<void> = Promise.resolve();
  private next: Promise<void> | undefined;
  private failure: Error | undefined;
  private touched = new Map<string, Set<string>>();
  /** Answers kept since the last commit began (ids in `data.idempotency`). */
  private answers = new Set<string>();
  /** The version of every board as the journal has it (or as the append under way will). */
  private readonly persisted = new Map<string, number>();
  /** How many past seasons of every board the journal has (or the append under way will). */
  private readonly persistedSeasons = new Map<string, number>();
  /** Mutations since the last commit began: the size of the next group commit. */
  private pending = 0;
  private readonly commitListeners = new Set<(commit: CommitReport) => void>();
  /** The fold under way, if any: one at a time. */
  private folding: Promise<void> | undefined;
  private foldWanted = false;

  private constructor(
    private readonly db: Low<Database>,
    private readonly onWriteFailure: (error: Error) => void,
    private readonly files: JournaledFile | undefined,
  ) {}

  /**
   * Opens the database: the data file (or `seed()` when there is none yet) with the journal's
   * entries redone on top, then both folded into a fresh data file. `onWriteFailure` hears of the
   * first failed write: the process should stop there (see `commit`).
   */
  static async open(
    storage: Adapter<Database> | JournaledFile,
    seed: () => Database,
    onWriteFailure: (error: Error) => void = () => {},
  ): Promise<Store> {
    const files = 'journal' in storage ? storage : undefined;
    const adapter = 'journal' in storage ? storage.dataFile : storage;
    const existing = await adapter.read();
    const data = existing ?? seed();
    let journaled = false;
    if (files !== undefined) {
      const replay = new Replay(data);
      journaled = await files.journal.read((entry, where) => replay.apply(entry, where));
      replay.finish();
    }
    // A board's index takes seconds to build at a million players: build it now, before the
    // origin serves, rather than in the first request that needs it.
    for (const board of Object.values(data.boards)) indexOf(board);
    const store = new Store(new Low<Database>(adapter, data), onWriteFailure, files);
    if (existing === null || journaled) {
      await store.db.write();
      await files?.journal.clear();
    }
    store.notePersisted();
    return store;
  }

  /** Notes which players a mutation changed or removed, so the next commit writes just those. */
  /**
   * Notes an answer kept for idempotent retries (`data.idempotency[id]`): the next commit writes
   * it, with the changes it answers.
   */
  keepAnswer(id: string): void {
    this.answers.add(id);
  }

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
    // No version of these boards is on disk: the next commit writes each in full, and its past
    // seasons as the whole list, in place of those the journal has.
    for (const id of Object.keys(data.boards)) {
      this.persisted.set(id, -1);
      this.persistedSeasons.set(id, -1);
    }
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
    this.running = next.catch((error: unknown) => this.fail(error));
    return next;
  }

  /**
   * Folds the journal into the data file now instead of when it outgrows it, and resolves once
   * the data file holds every change committed before the call. Commits go on meanwhile.
   */
  async fold(): Promise<void> {
    while (this.folding !== undefined) await this.folding;
    this.foldWanted = true;
    await this.commit();
    await this.folding;
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Resolves once every commit made before the call and the fold under way are done. A stop that
   * waits for this leaves the next start no fold to finish; one that does not loses nothing.
   */
  async settle(): Promise<void> {
    await this.commit();
    while (this.folding !== undefined) await this.folding;
  }

  /** Writes what changed since the last commit. Reads memory synchronously, before any await. */
  private persist(): Promise<void> {
    if (this.files === undefined) {
      this.touched = new Map();
      this.answers = new Set();
      return this.db.write();
    }
    const answers = this.unsavedAnswers();
    const entry: JournalEntry = {
      boards: this.changes(),
      ...(answers.length === 0 ? {} : { idempotency: answers }),
    };
    const line =
      entry.boards.length === 0 && answers.length === 0 ? undefined : JSON.stringify(entry);
    // Captured here, with the entry: once it is appended, the journal holds exactly this state.
    const fold = this.foldDue(this.files, line) ? this.files.dataFile.pieces(this.data) : undefined;
    return this.append(this.files, line, fold);
  }

  private foldDue({ journal, dataFile, journalMinBytes }: JournaledFile, line?: string): boolean {
    if (this.folding !== undefined) return false;
    const bytes = journal.bytes + (line === undefined ? 0 : Buffer.byteLength(line) + 1);
    if (this.foldWanted) {
      this.foldWanted = false;
      return bytes > 0;
    }
    return bytes > Math.max(journalMinBytes, dataFile.lastBytes);
  }

  private async append(
    files: JournaledFile,
    line: string | undefined,
    fold: Iterable<string> | undefined,
  ): Promise<void> {
    if (line !== undefined) await files.journal.append(line);
    if (fold === undefined) return;
    await files.journal.seal();
    // Not awaited: the next commits go to the fresh journal while the data file is written.
    this.folding = this.foldInto(files, fold);
  }

  private async foldInto(files: JournaledFile, state: Iterable<string>): Promise<void> {
    try {
      await files.dataFile.writePieces(state);
      await files.journal.dropSealed();
    } catch (error) {
      // Nothing acknowledged is lost (the sealed journal is still there), but the disk is
      // failing: stop as after any failed write.
      this.fail(error);
    } finally {
      this.folding = undefined;
    }
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.onWriteFailure(this.failure);
  }

  /** What changed since the last commit, board by board, as entries `Replay` can redo. */
  private changes(): JournalBoard[] {
    const boards = this.db.data.boards;
    const changes: JournalBoard[] = [];
    for (const id of this.persisted.keys()) {
      if (!Object.hasOwn(boards, id)) {
        changes.push({ id, deleted: true });
        this.persisted.delete(id);
        this.persistedSeasons.delete(id);
      }
    }
    for (const board of Object.values(boards)) {
      if (this.persisted.get(board.id) === board.version) continue;
      const { players, ...fields } = board;
      const seasons = this.unsavedSeasons(board.id);
      const touched = this.persisted.has(board.id) ? this.touched.get(board.id) : undefined;
      if (touched === undefined) {
        // A new board, or one changed without saying which players: write all of it.
        changes.push({ id: board.id, board: fields, players, replace: true, ...seasons });
      } else {
        // Through the board's index: O(touched), whatever the board's size.
        const upsert = playersById(board, touched);
        const kept = new Set(upsert.map((p) => p.id));
        changes.push({
          id: board.id,
          board: fields,
          players: upsert,
          remove: [...touched].filter((id) => !kept.has(id)),
          ...seasons,
        });
      }
      this.persisted.set(board.id, board.version);
    }
    this.touched = new Map();
    return changes;
  }

  /** The answers kept since the last commit, as the entry's field; taken once. */
  private unsavedAnswers(): IdempotencyRecord[] {
    const kept = this.db.data.idempotency ?? {};
    const out = [...this.answers].flatMap((id) => kept[id] ?? []);
    this.answers = new Set();
    return out;
  }

  /**
   * The board's past seasons not yet in the journal (a roll adds one), as an entry's fields; after
   * a restore (`replaceAll`), all of them, to replace those the journal has.
   */
  private unsavedSeasons(boardId: string): { seasons?: SeasonRecord[]; replaceSeasons?: true } {
    const all = this.db.data.seasons?.[boardId] ?? [];
    const saved = this.persistedSeasons.get(boardId) ?? 0;
    this.persistedSeasons.set(boardId, all.length);
    if (saved < 0) return { seasons: all, replaceSeasons: true };
    return all.length > saved ? { seasons: all.slice(saved) } : {};
  }

  private notePersisted(): void {
    this.persisted.clear();
    this.persistedSeasons.clear();
    for (const [id, seasons] of Object.entries(this.db.data.seasons ?? {}))
      this.persistedSeasons.set(id, seasons.length);
    for (const board of Object.values(this.db.data.boards))
      this.persisted.set(board.id, board.version);
  }
}

/** The journal is folded into the data file once it is larger than this and than the file. */
const MIN_JOURNAL_BYTES = 1 << 20;

/** A store kept in memory only: for tests and throwaway runs. */
export function memoryStore(seed: () => Database): Promise<Store> {
  return Store.open(new Memory<Database>(), seed);
}

/** A store in a durable JSON file with its journal (`<path>.journal`); the layout is above. */
export function fileStore(
  path: string,
  seed: () => Database,
  onWriteFailure?: (error: Error) => void,
  journalMinBytes = MIN_JOURNAL_BYTES,
): Promise<Store> {
  const dataFile = new DurableJsonFile(path, { validate: parseDatabase, pieces: databasePieces });
  const journal = new Journal(`${path}.journal`);
  return Store.open({ dataFile, journal, journalMinBytes }, seed, onWriteFailure);
}
