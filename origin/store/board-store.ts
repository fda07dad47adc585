import type { BoardSummary, BoardView, RankedPlayer } from '../../contract/board.ts';
import type { BoardMeta } from '../../contract/events.ts';
import type { ImportRow } from '../../contract/requests.ts';
import type {
  ScoreBatchResult,
  ScoreEntry,
  SeasonList,
  SeasonView,
} from '../../contract/scores.ts';
import type { Database, ImportProblem, NewBoard, ViewOptions } from '../domain/board.ts';
import type { Schedule } from '../domain/schedule.ts';
import type { ScheduledBoard } from '../domain/seasons.ts';
import type { IdempotentOutcome, IdempotentRequest } from './idempotency.ts';

/*
 * The one interface the application service stores boards through. Two implementations:
 *
 *   embedded  (store/embedded.ts)  the whole database in this process's memory, made durable in
 *                                  one data file and its journal (store/store.ts); the default
 *   redis     (store/redis/)       every board in Redis (one node or a Redis Cluster), shared by
 *                                  any number of origins; chosen by REDIS_URL
 *
 * Both keep the same board rules (domain/board.ts): a board's version grows by one with every
 * change and is its stream's event id; equal scores rank by who reached them first (`scoredAt`),
 * then by id; the limits; the same `BoardError`s, thrown before anything has changed. A write
 * resolves once it is durable (fsynced to the data file, or answered by Redis with its AOF and,
 * when asked, by its replicas), and each implementation announces the change to its publisher
 * (see `publishing`).
 */

/** Whether the store takes reads and writes now, and why not when it does not. */
export type StoreHealth = { ok: true } | { ok: false; reason: string };

/** A change to a player's name or score. */
export interface PlayerPatch {
  name?: string | undefined;
  score?: number | undefined;
}

/** A channel and the id its last published message had: what a stream is held after. */
export interface HeldChannel {
  channel: string;
  prevId: number;
}

/** Part of a board read at one version: its meta and the rows of some pages of its ranking. */
export interface PagesSnapshot {
  meta: BoardMeta;
  /** The rows of each page asked for (fewer than a page, or none, past the board's end). */
  pages: Map<number, RankedPlayer[]>;
}

/** A snapshot for a new stream: with the id each of the board's channels was last published at. */
export interface StreamSnapshot extends PagesSnapshot {
  /** The board's channel first, then each page's, in the order asked. */
  held: HeldChannel[];
}

/** What an import batch did. */
export interface ImportCounts {
  added: number;
  skipped: number;
}

export interface BoardStore {
  readonly kind: 'embedded' | 'redis';

  /** Whether the store takes reads and writes now (cheap: no round trip). */
  health(): StoreHealth;

  // Reads. Each throws `BoardError` (board_not_found, player_not_found) like the domain does.

  listBoards(): Promise<BoardSummary[]>;
  /** The number of boards and of players on all of them (for the metrics gauges). */
  counts(): Promise<{ boards: number; players: number }>;
  /** The board in rank order, whole or a window of it (see domain/board.ts `boardView`). */
  boardView(boardId: string, options: ViewOptions): Promise<BoardView>;
  playerView(boardId: string, playerId: string): Promise<RankedPlayer>;
  requireBoard(boardId: string): Promise<void>;
  requirePlayer(boardId: string, playerId: string): Promise<void>;
  /** The 0-based display position of a player; undefined when the player (or board) is not there. */
  positionOf(boardId: string, playerId: string): Promise<number | undefined>;
  /** Players whose names start with `prefix` (any case, `foldName`), by name, ranked. */
  searchPlayers(boardId: string, prefix: string, limit: number): Promise<RankedPlayer[]>;
  /** The board's meta and these pages' rows at one version; undefined when the board is gone. */
  pages(boardId: string, pages: readonly number[]): Promise<PagesSnapshot | undefined>;
  /**
   * As `pages`, plus the id each channel (the board's, then each page's) was last published at,
   * all read at one version: what a new stream is sent and held after. Undefined when gone.
   */
  streamSnapshot(boardId: string, pages: readonly number[]): Promise<StreamSnapshot | undefined>;
  /** The id each channel was last published at (board's first, then the pages'). */
  heldChannels(boardId: string, pages: readonly number[]): Promise<HeldChannel[]>;
  /** Every board whole: what a backup writes. */
  dump(): Promise<Database>;
  /** Every board's id and version (what a restore needs to keep versions growing). */
  versions(): Promise<Map<string, number>>;

  // Writes. Each resolves once durable; a refused one throws `BoardError` and changes nothing.

  createBoard(input: NewBoard, now: Date): Promise<BoardView>;
  deleteBoard(boardId: string): Promise<void>;
  /** Empties every score; answers the top `limit` rows as the reset left them. */
  resetBoard(boardId: string, limit: number): Promise<BoardView>;
  addPlayer(boardId: string, name: string): Promise<RankedPlayer>;
  updatePlayer(boardId: string, playerId: string, patch: PlayerPatch): Promise<RankedPlayer>;
  removePlayer(boardId: string, playerId: string): Promise<void>;
  addScore(boardId: string, playerId: string, amount: number): Promise<RankedPlayer>;
  /**
   * A score batch (domain/score-batch.ts `submitScores`): checked whole, then applied as one
   * change (one version, one durable write). Throws `EntriesRefused` and changes nothing when any
   * entry is refused.
   */
  submitScores(boardId: string, entries: readonly ScoreEntry[]): Promise<ScoreBatchResult>;
  /**
   * Runs a write (`run`, one store change) as an idempotent request (store/idempotency.ts): a
   * retry within 24 hours answers what the first answered and changes nothing; the same key with
   * another request throws `idempotency_key_reused`. The answer is kept atomically with the
   * change (embedded: in its commit; Redis: in its script), except `createBoard` on Redis.
   */
  idempotent<T>(request: IdempotentRequest, run: () => Promise<T>): Promise<IdempotentOutcome<T>>;
  /**
   * As `idempotent`, for a write of many steps: its answer is kept once it is done, not with it
   * (store/idempotency.ts `runAfter` says what that allows).
   */
  idempotentAfter<T>(
    request: IdempotentRequest,
    run: () => Promise<T>,
  ): Promise<IdempotentOutcome<T>>;
  /**
   * What an import of `rows` would refuse, without changing anything (see domain/board.ts
   * `checkImport`): none means `importPlayers` takes every row.
   */
  checkImport(
    boardId: string,
    rows: readonly ImportRow[],
    skipExisting: boolean,
  ): Promise<ImportProblem[]>;
  /** Adds one batch of rows as one change (one version, one `import` reload for viewers). */
  importPlayers(
    boardId: string,
    rows: readonly ImportRow[],
    skipExisting: boolean,
  ): Promise<ImportCounts>;
  /**
   * Replaces every board with `db` (checked by the caller: `restoredDatabase`), and deletes the
   * boards it does not have; viewers of a replaced board reload, viewers of a deleted one hear so.
   * A board with an entry in `db.seasons` (empty or not) gets exactly those past seasons; one
   * without (a backup of an earlier version) keeps those it has.
   */
  restore(db: Database): Promise<void>;

  // Seasons (domain/seasons.ts): a board with a schedule resets at each boundary and keeps its
  // final standings as a past season.

  /** Every board with a schedule, with when its season began: what the scheduler watches. */
  scheduledBoards(): Promise<ScheduledBoard[]>;
  /** The season under way (boards with a schedule) and the past ones, newest first. */
  seasons(boardId: string): Promise<SeasonList>;
  /** A window of past season `number`'s final standings; `season_not_found` when not kept. */
  seasonView(
    boardId: string,
    number: number,
    window: { from: number; limit: number },
  ): Promise<SeasonView>;
  /**
   * Sets the board's reset schedule, or removes it (undefined), as one change. A board without
   * one starts a season at `now`; a board with one keeps its season.
   */
  setSchedule(boardId: string, schedule: Schedule | undefined, now: Date): Promise<void>;
  /**
   * Ends the board's season at `boundary` (a boundary of its schedule after the season began):
   * keeps its standings as a past season, sets every score to 0 and starts the next season at
   * the boundary, in one change (one version, one `season` reload). False, changing nothing, when
   * the board does not roll there: already rolled (by another origin, or a retry), or its
   * schedule changed. So a boundary is applied once, whoever tries it.
   */
  rollSeason(boardId: string, boundary: Date): Promise<boolean>;

  /** Resolves once everything acknowledged is written and background work is done. */
  close(): Promise<void>;
}
