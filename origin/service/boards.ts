import type { Backup } from '../../contract/backup.ts';
import type {
  BoardList,
  BoardSummary,
  BoardView,
  ImportResult,
  Order,
  RankedPlayer,
} from '../../contract/board.ts';
import { type BoardEvent, boardChannel, pageChannel } from '../../contract/events.ts';
import type { BoardExport } from '../../contract/export.ts';
import type { Readiness } from '../../contract/readiness.ts';
import { DEFAULT_LIMIT, type ImportRow } from '../../contract/requests.ts';
import { streamPages } from '../../contract/windows.ts';
import type { Broadcaster, HeldChannel } from '../broadcaster.ts';
import { backupOf, restoredDatabase } from '../domain/backup.ts';
import type { BoardChange, Database, Limits, NewId, ViewOptions } from '../domain/board.ts';
import * as boards from '../domain/board.ts';
import type { Store } from '../store/store.ts';

/** Rows an import applies per durable commit (a few tens of milliseconds of work each). */
export const IMPORT_BATCH = 10_000;

/** Refuses everything once a write has failed: memory may be ahead of the disk. */
export class StorageFailedError extends Error {
  override name = 'StorageFailedError';

  constructor() {
    super('the data file cannot be written; the origin is stopping');
  }
}

export interface BoardServiceDeps {
  store: Pick<Store, 'data' | 'failed' | 'touch' | 'commit' | 'replaceAll'>;
  broadcaster: Pick<Broadcaster, 'record' | 'heldChannels' | 'publishHealth' | 'replace'>;
  limits: Limits;
  newId: NewId;
  now: () => Date;
}

/** A stream on a board: the channels it is held on and what it is sent now. */
export interface StreamStart {
  boardId: string;
  /** The pages it follows (they go into its recovery link). */
  pages: number[];
  /** The board's channel and the pages' channels, each after the last id published on it. */
  channels: HeldChannel[];
  /** The events that bring the client up to date: none when it is current. */
  events: BoardEvent[];
}

/** The window a stream watches: `limit` rows from `from`, and around a player if it names one. */
export interface StreamWindow {
  from: number;
  limit: number;
  around?: string | undefined;
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
   * A new stream on the board's window: the board and every page of the window, as they are now.
   * A reconnecting client (`Last-Event-ID`) gets the same: its last id says which version it
   * reached on one channel, not that it saw that version on every channel, and a window is small.
   * Undefined when the board is gone.
   */
  streamStart(boardId: string, window: StreamWindow): StreamStart | undefined {
    const board = this.boardOrUndefined(boardId);
    if (board === undefined) return undefined;
    const around =
      window.around === undefined ? undefined : boards.positionOf(board, window.around);
    return this.stream(board, streamPages(window, around), () => true);
  }

  /**
   * What a held stream missed, from the last id the proxy saw on each channel (`lastIds`): the
   * pages whose channel moved on since; everything when the board's own channel did (a reload
   * may have been missed). Undefined when the board is gone.
   */
  streamRecovery(
    boardId: string,
    pages: number[],
    lastIds: ReadonlyMap<string, number>,
  ): StreamStart | undefined {
    const board = this.boardOrUndefined(boardId);
    if (board === undefined) return undefined;
    const held = new Map(
      this.deps.broadcaster.heldChannels(board, pages).map((c) => [c.channel, c.prevId]),
    );
    const behind = (channel: string) => lastIds.get(channel) !== held.get(channel);
    const all = behind(boardChannel(board.id));
    return this.stream(board, pages, (channel) => all || behind(channel));
  }

  private stream(
    board: boards.BoardRecord,
    pages: number[],
    send: (channel: string) => boolean,
  ): StreamStart {
    const events: BoardEvent[] = [];
    if (send(boardChannel(board.id)))
      events.push({ type: 'board', board: boards.boardMeta(board) });
    for (const page of pages) {
      if (!send(pageChannel(board.id, page))) continue;
      events.push({
        type: 'page',
        version: board.version,
        page,
        players: boards.pageRows(board, page),
      });
    }
    return {
      boardId: board.id,
      pages,
      channels: this.deps.broadcaster.heldChannels(board, pages),
      events,
    };
  }

  private boardOrUndefined(boardId: string): boards.BoardRecord | undefined {
    return Object.hasOwn(this.data.boards, boardId) ? this.data.boards[boardId] : undefined;
  }

  /**
   * Adds many players at once: checked whole first (nothing changes when a row is refused), then
   * applied in batches of `IMPORT_BATCH` rows, each one durable commit; viewers reload once per
   * interval instead of hearing of every player.
   */
  async importPlayers(
    boardId: string,
    rows: readonly ImportRow[],
    skipExisting: boolean,
  ): Promise<{ result: ImportResult } | { problems: boards.ImportProblem[] }> {
    this.assertAvailable();
    const problems = boards.checkImport(this.data, boardId, rows, this.deps.limits, skipExisting);
    if (problems.length > 0) return { problems };
    let added = 0;
    let skipped = 0;
    for (let start = 0; start < rows.length; start += IMPORT_BATCH) {
      const batch = rows.slice(start, start + IMPORT_BATCH);
      const done = await this.change((db) => {
        const { change, ...counts } = boards.importPlayers(
          db,
          boardId,
          batch,
          this.deps.limits,
          this.deps.newId,
        );
        return counts.added > 0 ? { result: counts, change } : { result: counts };
      });
      added += done.added;
      skipped += done.skipped;
    }
    const board = boards.getBoard(this.data, boardId);
    return {
      result: { added, skipped, version: board.version, playerCount: board.players.length },
    };
  }

  /** Players whose names start with `prefix`, any case, with their ranks. */
  searchPlayers(boardId: string, prefix: string, limit: number): RankedPlayer[] {
    return boards.searchPlayers(boards.getBoard(this.data, boardId), prefix, limit);
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

  /** Empties every score on the board; answers the top of the board as the reset left it. */
  resetBoard(boardId: string): Promise<BoardView> {
    return this.change((db) => {
      const change = boards.resetBoard(db, boardId);
      const top = { limit: DEFAULT_LIMIT };
      return { result: boards.boardView(boards.getBoard(db, boardId), top), change };
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
