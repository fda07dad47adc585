import type { Backup } from '../../contract/backup.ts';
import type {
  BoardList,
  BoardSummary,
  BoardView,
  Order,
  RankedPlayer,
} from '../../contract/board.ts';
import type { BoardEvent } from '../../contract/events.ts';
import type { BoardExport } from '../../contract/export.ts';
import type { Readiness } from '../../contract/readiness.ts';
import type { Broadcaster } from '../broadcaster.ts';
import { backupOf, restoredDatabase } from '../domain/backup.ts';
import type { BoardChange, Database, Limits, NewId, ViewOptions } from '../domain/board.ts';
import * as boards from '../domain/board.ts';
import type { Store } from '../store/store.ts';

/** Refuses everything once a write has failed: memory may be ahead of the disk. */
export class StorageFailedError extends Error {
  override name = 'StorageFailedError';

  constructor() {
    super('the data file cannot be written; the origin is stopping');
  }
}

export interface BoardServiceDeps {
  store: Pick<Store, 'data' | 'failed' | 'touch' | 'commit' | 'replaceAll'>;
  broadcaster: Pick<
    Broadcaster,
    'record' | 'catchUp' | 'publishedVersion' | 'publishHealth' | 'replace'
  >;
  limits: Limits;
  newId: NewId;
  now: () => Date;
}

/** Where a stream on a board starts. */
export interface StreamStart {
  boardId: string;
  /** The version last published on the board's channel: what the stream is held after. */
  publishedVersion: number;
  /** What brings a client at the version it gave to the board's current one; none if current. */
  catchUp: BoardEvent | undefined;
}

/**
 * The boards as an application: every read, and every change applied to the database, committed
 * to disk and handed to the broadcaster. Knows nothing of HTTP; the routes call it, and so can a
 * test or a script. Domain refusals (`BoardError`) pass through unchanged.
 */
export class BoardService {
  constructor(private readonly deps: BoardServiceDeps) {}

  /** Throws `StorageFailedError` once a write has failed. */
  assertAvailable(): void {
    if (this.deps.store.failed) throw new StorageFailedError();
  }

  /**
   * Whether the origin should take traffic: its data file takes writes, and every board's last
   * publish went through (the broadcaster retries a failed one every second, so this recovers by
   * itself once the proxy answers again).
   */
  readiness(): Readiness {
    const store = { ok: !this.deps.store.failed };
    const { failingBoards, failingSince } = this.deps.broadcaster.publishHealth();
    const since = failingSince === undefined ? undefined : new Date(failingSince).toISOString();
    const publish = {
      ok: failingBoards === 0,
      failingBoards,
      ...(since === undefined ? {} : { failingSince: since }),
    };
    const problems = [
      ...(store.ok ? [] : ['the data file cannot be written; the origin is stopping']),
      ...(publish.ok
        ? []
        : [`publishing to the GRIP proxy fails for ${failingBoards} board(s) since ${since}`]),
    ];
    if (problems.length === 0) return { ready: true, checks: { store, publish } };
    return {
      ready: false,
      checks: { store, publish },
      error: { code: 'not_ready', message: problems.join('; ') },
    };
  }

  listBoards(): BoardSummary[] {
    return boards.listBoards(this.data);
  }

  /** The board in rank order, whole or a window of it. */
  viewBoard(boardId: string, options: ViewOptions = {}): BoardView {
    return boards.boardView(boards.getBoard(this.data, boardId), options);
  }

  /** The whole board in rank order, and when it was taken: what an export writes. */
  exportBoard(boardId: string): BoardExport {
    return { exportedAt: this.deps.now().toISOString(), board: this.viewBoard(boardId) };
  }

  viewPlayer(boardId: string, playerId: string): RankedPlayer {
    return boards.playerView(boards.getBoard(this.data, boardId), playerId);
  }

  /** Throws unless the board exists. */
  requireBoard(boardId: string): void {
    boards.getBoard(this.data, boardId);
  }

  /** Throws unless the player is on the board; cheaper than viewing it (no ranking). */
  requirePlayer(boardId: string, playerId: string): void {
    boards.assertPlayer(this.data, boardId, playerId);
  }

  /**
   * Where a stream on the board starts for a client at version `after` (none: a new client), or
   * undefined when the board is gone.
   */
  streamStart(boardId: string, after: number | undefined): StreamStart | undefined {
    const board = Object.hasOwn(this.data.boards, boardId) ? this.data.boards[boardId] : undefined;
    if (board === undefined) return undefined;
    const { broadcaster } = this.deps;
    return {
      boardId: board.id,
      publishedVersion: broadcaster.publishedVersion(board),
      catchUp: broadcaster.catchUp(board, after),
    };
  }

  createBoard(input: { name: string; order: Order }): Promise<BoardView> {
    const { limits, newId, now } = this.deps;
    return this.change((db) => ({
      result: boards.boardView(boards.createBoard(db, input, limits, newId, now())),
    }));
  }

  deleteBoard(boardId: string): Promise<void> {
    return this.change((db) => ({ result: undefined, change: boards.deleteBoard(db, boardId) }));
  }

  /** Empties every score on the board; answers the board as the reset left it. */
  resetBoard(boardId: string): Promise<BoardView> {
    return this.change((db) => {
      const change = boards.resetBoard(db, boardId);
      return { result: boards.boardView(boards.getBoard(db, boardId)), change };
    });
  }

  addPlayer(boardId: string, name: string): Promise<RankedPlayer> {
    return this.change((db) => {
      const { player, change } = boards.addPlayer(
        db,
        boardId,
        name,
        this.deps.limits,
        this.deps.newId,
      );
      return { result: player, change };
    });
  }

  updatePlayer(
    boardId: string,
    playerId: string,
    patch: { name?: string | undefined; score?: number | undefined },
  ): Promise<RankedPlayer> {
    return this.change((db) => {
      const { player, change } = boards.updatePlayer(db, boardId, playerId, patch);
      return { result: player, change };
    });
  }

  removePlayer(boardId: string, playerId: string): Promise<void> {
    return this.change((db) => ({
      result: undefined,
      change: boards.removePlayer(db, boardId, playerId),
    }));
  }

  addScore(boardId: string, playerId: string, amount: number): Promise<RankedPlayer> {
    return this.change((db) => {
      const { player, change } = boards.addScore(db, boardId, playerId, amount);
      return { result: player, change };
    });
  }

  /** The whole database as a backup document. */
  backup(): Backup {
    return backupOf(this.data, this.deps.now());
  }

  /**
   * Replaces the whole database with a backup, durably in one commit, and resolves with the boards
   * as they now are. Refused (`BoardError`) before anything changes when the backup breaks a board
   * rule or a limit. Viewers of every restored board get a snapshot; viewers of a board the backup
   * does not have learn that it was deleted.
   */
  async restore(backup: Backup): Promise<BoardList> {
    this.assertAvailable();
    const { store, broadcaster, limits } = this.deps;
    const before = store.data;
    const { db, deleted } = restoredDatabase(before, backup, limits);
    store.replaceAll(db);
    for (const change of deleted) broadcaster.record(change);
    for (const id of Object.keys(db.boards)) {
      broadcaster.replace(
        id,
        Object.hasOwn(before.boards, id) ? before.boards[id]?.version : undefined,
      );
    }
    await store.commit();
    return { boards: boards.listBoards(db) };
  }

  private get data(): Database {
    return this.deps.store.data;
  }

  /**
   * Applies one change to the database, hands it to the broadcaster (which publishes it once it is
   * on disk), and resolves with its result once it is on disk. A refused change throws before
   * anything has changed.
   */
  private async change<T>(
    apply: (db: Database) => { result: T; change?: BoardChange },
  ): Promise<T> {
    this.assertAvailable();
    const { store, broadcaster } = this.deps;
    const { result, change } = apply(store.data);
    if (change !== undefined) {
      store.touch(change.boardId, [...change.changed, ...change.removed]);
      broadcaster.record(change);
    }
    await store.commit();
    return result;
  }
}
