import type { BoardSummary, BoardView, RankedPlayer } from '../../contract/board.ts';
import type { ImportRow } from '../../contract/requests.ts';
import type {
  ScoreBatchResult,
  ScoreEntry,
  SeasonList,
  SeasonView,
} from '../../contract/scores.ts';
import type {
  BoardChange,
  Database,
  ImportProblem,
  Limits,
  NewBoard,
  NewId,
  ViewOptions,
} from '../domain/board.ts';
import * as boards from '../domain/board.ts';
import { idempotencyKeyReused } from '../domain/errors.ts';
import { IDEMPOTENCY_TTL_MS, replayOf } from '../domain/idempotency.ts';
import type { Schedule } from '../domain/schedule.ts';
import { submitScores } from '../domain/score-batch.ts';
import type { ScheduledBoard, SeasonRecord } from '../domain/seasons.ts';
import * as seasons from '../domain/seasons.ts';
import type {
  BoardStore,
  HeldChannel,
  ImportCounts,
  PagesSnapshot,
  PlayerPatch,
  StoreHealth,
  StreamSnapshot,
} from './board-store.ts';
import { StoreUnavailableError } from './errors.ts';
import {
  type AnswerShelf,
  type IdempotencyContext,
  type IdempotentOutcome,
  type IdempotentRequest,
  idempotencyContext,
  Replayed,
  runAfter,
  runIdempotent,
} from './idempotency.ts';
import type { Store } from './store.ts';

/** Where the embedded store announces its changes: the broadcaster of this process. */
export interface ChangeSink {
  record(change: BoardChange): void;
  replace(boardId: string, previousVersion: number | undefined): void;
  heldChannels(boardId: string, version: number, pages: readonly number[]): HeldChannel[];
}

export interface EmbeddedDeps {
  store: Pick<
    Store,
    'data' | 'failed' | 'touch' | 'keepAnswer' | 'commit' | 'replaceAll' | 'settle'
  >;
  limits: Limits;
  newId: NewId;
  /** The clock kept answers are dated and expired by (milliseconds; default Date.now). */
  now?: (() => number) | undefined;
}

/**
 * The boards in this process's memory (domain/board.ts), made durable by the file store
 * (store.ts): the origin is their only writer. Reads answer at once; a write changes memory,
 * hands its change to the sink (the broadcaster, which publishes it once durable) and resolves
 * once the group commit that carries it is on disk.
 */
export class EmbeddedBoardStore implements BoardStore {
  readonly kind = 'embedded';
  private sink: ChangeSink | undefined;

  private readonly now: () => number;
  private answersPrunedAt: number;

  constructor(private readonly deps: EmbeddedDeps) {
    this.now = deps.now ?? Date.now;
    this.answersPrunedAt = this.now();
    dropExpiredAnswers(deps.store.data, this.answersPrunedAt);
  }

  /** Says where changes go; the broadcaster needs this store to read from, so it comes second. */
  attach(sink: ChangeSink): void {
    this.sink = sink;
  }

  health(): StoreHealth {
    return this.deps.store.failed
      ? { ok: false, reason: 'the data file cannot be written; the origin is stopping' }
      : { ok: true };
  }

  private get data(): Database {
    return this.deps.store.data;
  }

  private board(boardId: string): boards.BoardRecord {
    return boards.getBoard(this.data, boardId);
  }

  async listBoards(): Promise<BoardSummary[]> {
    return boards.listBoards(this.data);
  }

  async counts(): Promise<{ boards: number; players: number }> {
    const all = Object.values(this.data.boards);
    return { boards: all.length, players: all.reduce((n, b) => n + b.players.length, 0) };
  }

  async boardView(boardId: string, options: ViewOptions): Promise<BoardView> {
    return boards.boardView(this.board(boardId), options);
  }

  async playerView(boardId: string, playerId: string): Promise<RankedPlayer> {
    return boards.playerView(this.board(boardId), playerId);
  }

  async requireBoard(boardId: string): Promise<void> {
    this.board(boardId);
  }

  async requirePlayer(boardId: string, playerId: string): Promise<void> {
    boards.assertPlayer(this.data, boardId, playerId);
  }

  async positionOf(boardId: string, playerId: string): Promise<number | undefined> {
    const board = this.boardOrUndefined(boardId);
    return board === undefined ? undefined : boards.positionOf(board, playerId);
  }

  async searchPlayers(boardId: string, prefix: string, limit: number): Promise<RankedPlayer[]> {
    return boards.searchPlayers(this.board(boardId), prefix, limit);
  }

  async pages(boardId: string, pages: readonly number[]): Promise<PagesSnapshot | undefined> {
    const board = this.boardOrUndefined(boardId);
    return board === undefined ? undefined : boards.pagesOf(board, pages);
  }

  async streamSnapshot(
    boardId: string,
    pages: readonly number[],
  ): Promise<StreamSnapshot | undefined> {
    const board = this.boardOrUndefined(boardId);
    if (board === undefined) return undefined;
    return { ...boards.pagesOf(board, pages), held: this.held(board.id, board.version, pages) };
  }

  async heldChannels(boardId: string, pages: readonly number[]): Promise<HeldChannel[]> {
    return this.held(boardId, this.board(boardId).version, pages);
  }

  async dump(): Promise<Database> {
    return this.data;
  }

  async versions(): Promise<Map<string, number>> {
    return boards.boardVersions(this.data);
  }

  createBoard(input: NewBoard, now: Date): Promise<BoardView> {
    const { limits, newId } = this.deps;
    return this.change((db) => ({
      result: boards.boardView(boards.createBoard(db, input, limits, newId, now)),
    }));
  }

  deleteBoard(boardId: string): Promise<void> {
    return this.change((db) => ({ result: undefined, change: boards.deleteBoard(db, boardId) }));
  }

  resetBoard(boardId: string, limit: number): Promise<BoardView> {
    return this.change((db) => {
      const change = boards.resetBoard(db, boardId);
      return { result: boards.boardView(boards.getBoard(db, boardId), { limit }), change };
    });
  }

  addPlayer(boardId: string, name: string): Promise<RankedPlayer> {
    const { limits, newId } = this.deps;
    return this.change((db) => {
      const { player, change } = boards.addPlayer(db, boardId, name, limits, newId);
      return { result: player, change };
    });
  }

  updatePlayer(boardId: string, playerId: string, patch: PlayerPatch): Promise<RankedPlayer> {
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

  submitScores(boardId: string, entries: readonly ScoreEntry[]): Promise<ScoreBatchResult> {
    const { limits, newId } = this.deps;
    return this.change((db) => submitScores(db, boardId, entries, limits, newId));
  }

  idempotent<T>(request: IdempotentRequest, run: () => Promise<T>): Promise<IdempotentOutcome<T>> {
    return runIdempotent(request, run);
  }

  idempotentAfter<T>(
    request: IdempotentRequest,
    run: () => Promise<T>,
  ): Promise<IdempotentOutcome<T>> {
    const { store } = this.deps;
    const shelf: AnswerShelf = {
      get: async (id) => store.data.idempotency?.[id],
      put: async (id, record) => {
        this.assertAvailable();
        store.data.idempotency = { ...store.data.idempotency, [id]: record };
        store.keepAnswer(id);
        await store.commit();
      },
    };
    return runAfter(shelf, request, run, () => this.now());
  }

  addScore(boardId: string, playerId: string, amount: number): Promise<RankedPlayer> {
    return this.change((db) => {
      const { player, change } = boards.addScore(db, boardId, playerId, amount);
      return { result: player, change };
    });
  }

  async checkImport(
    boardId: string,
    rows: readonly ImportRow[],
    skipExisting: boolean,
  ): Promise<ImportProblem[]> {
    return boards.checkImport(this.data, boardId, rows, this.deps.limits, skipExisting);
  }

  importPlayers(
    boardId: string,
    rows: readonly ImportRow[],
    _skipExisting: boolean,
  ): Promise<ImportCounts> {
    const { limits, newId } = this.deps;
    return this.change((db) => {
      const { change, ...counts } = boards.importPlayers(db, boardId, rows, limits, newId);
      return counts.added > 0 ? { result: counts, change } : { result: counts };
    });
  }

  /**
   * Replaces the whole database in one commit: a crash leaves the old database or the new one,
   * never a mix. Viewers of a replaced board reload; viewers of a deleted one hear so.
   */
  async restore(db: Database): Promise<void> {
    this.assertAvailable();
    const { store } = this.deps;
    const before = boards.boardVersions(store.data);
    store.replaceAll(restoredOver(db, store.data));
    for (const [id, version] of before) {
      if (!Object.hasOwn(db.boards, id)) this.sink?.record(boards.deletedChange({ id, version }));
    }
    for (const id of Object.keys(db.boards)) this.sink?.replace(id, before.get(id));
    await store.commit();
  }

  async scheduledBoards(): Promise<ScheduledBoard[]> {
    return seasons.scheduledBoards(this.data);
  }

  async seasons(boardId: string): Promise<SeasonList> {
    return seasons.seasonList(this.data, boardId);
  }

  async seasonView(
    boardId: string,
    number: number,
    window: { from: number; limit: number },
  ): Promise<SeasonView> {
    return seasons.seasonView(this.data, boardId, number, window);
  }

  setSchedule(boardId: string, schedule: Schedule | undefined, now: Date): Promise<void> {
    return this.change((db) => ({
      result: undefined,
      change: seasons.setSchedule(db, boardId, schedule, now),
    }));
  }

  rollSeason(boardId: string, boundary: Date): Promise<boolean> {
    return this.change((db) => {
      const change = seasons.rollSeason(db, boardId, boundary);
      return change === undefined ? { result: false } : { result: true, change };
    });
  }

  close(): Promise<void> {
    return this.deps.store.settle();
  }

  private held(boardId: string, version: number, pages: readonly number[]): HeldChannel[] {
    return this.sink?.heldChannels(boardId, version, pages) ?? [];
  }

  private boardOrUndefined(boardId: string): boards.BoardRecord | undefined {
    return Object.hasOwn(this.data.boards, boardId) ? this.data.boards[boardId] : undefined;
  }

  private assertAvailable(): void {
    const health = this.health();
    if (!health.ok) throw new StoreUnavailableError(health.reason, { code: 'storage_failed' });
  }

  /**
   * Applies one change to the database, hands it to the sink (which publishes it once it is on
   * disk), and resolves with its result once it is on disk. A refused change throws before
   * anything has changed.
   */
  private async change<T>(
    apply: (db: Database) => { result: T; change?: BoardChange },
  ): Promise<T> {
    this.assertAvailable();
    const { store } = this.deps;
    const retry = idempotencyContext.getStore();
    if (retry !== undefined && retry.kept !== true) this.answerKept(retry);
    const { result, change } = apply(store.data);
    if (change !== undefined) {
      store.touch(change.boardId, [...change.changed, ...change.removed]);
      this.sink?.record(change);
    }
    if (retry !== undefined && retry.kept !== true) this.keepAnswer(retry, result);
    await store.commit();
    return result;
  }

  /**
   * Throws `Replayed` with the answer kept under the request's key (nothing changes), or the
   * `idempotency_key_reused` refusal when the key was used for another request; returns when
   * the request is fresh. Synchronous with the change that follows: no other write comes between.
   */
  private answerKept({ id, request }: IdempotencyContext): void {
    const kept = this.deps.store.data.idempotency?.[id];
    const verdict = replayOf(kept, request.fingerprint, this.now());
    if (verdict.kind === 'replay') throw new Replayed(verdict.status, verdict.body);
    if (verdict.kind === 'conflict') throw idempotencyKeyReused();
  }

  /** Keeps the change's answer under the request's key, in the change's own commit. */
  private keepAnswer(context: IdempotencyContext, result: unknown): void {
    const { store } = this.deps;
    const now = this.now();
    const { id, request } = context;
    const answer = { key: id, fingerprint: request.fingerprint, status: request.status };
    const body = JSON.stringify(result) ?? '';
    store.data.idempotency = {
      ...store.data.idempotency,
      [id]: { ...answer, body, createdAt: now },
    };
    store.keepAnswer(id);
    context.kept = true;
    if (now - this.answersPrunedAt > PRUNE_EVERY_MS) {
      this.answersPrunedAt = now;
      dropExpiredAnswers(store.data, now);
    }
  }
}

/**
 * What a restore leaves: the restored database, with the kept answers of idempotent requests (a
 * retry of a request made before the restore still answers as it did, as on Redis) and the past
 * seasons of each board it keeps that its backup did not list (a backup of an earlier version):
 * those stay, as on Redis; a board whose backup lists its seasons has exactly those.
 */
function restoredOver(db: Database, current: Database): Database {
  const seasons: Record<string, SeasonRecord[]> = {};
  const own = (of: Database, id: string) =>
    of.seasons !== undefined && Object.hasOwn(of.seasons, id) ? of.seasons[id] : undefined;
  for (const id of Object.keys(db.boards)) {
    const kept = own(db, id) ?? own(current, id);
    if (kept !== undefined && kept.length > 0) seasons[id] = kept;
  }
  return {
    boards: db.boards,
    ...(Object.keys(seasons).length === 0 ? {} : { seasons }),
    ...(current.idempotency === undefined ? {} : { idempotency: current.idempotency }),
  };
}

/** How often expired answers are dropped from memory (a fold then leaves them out of the file). */
const PRUNE_EVERY_MS = 10 * 60 * 1000;

/** Drops the answers kept longer than IDEMPOTENCY_TTL_MS: they no longer replay. */
function dropExpiredAnswers(db: Database, now: number): void {
  const kept = db.idempotency;
  if (kept === undefined) return;
  for (const [id, answer] of Object.entries(kept)) {
    if (now - answer.createdAt >= IDEMPOTENCY_TTL_MS) delete kept[id];
  }
}
