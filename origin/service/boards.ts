import type { Backup } from '../../contract/backup.ts';
import type {
  BoardList,
  BoardSummary,
  BoardView,
  ImportResult,
  RankedPlayer,
} from '../../contract/board.ts';
import { type BoardEvent, boardChannel, pageChannel } from '../../contract/events.ts';
import type { BoardExport } from '../../contract/export.ts';
import type { Readiness } from '../../contract/readiness.ts';
import { DEFAULT_LIMIT, type ImportRow } from '../../contract/requests.ts';
import type {
  ScoreBatchResult,
  ScoreEntry,
  SeasonList,
  SeasonView,
} from '../../contract/scores.ts';
import { streamPages } from '../../contract/windows.ts';
import type { Broadcaster } from '../broadcaster.ts';
import { backupOf, restoredDatabase } from '../domain/backup.ts';
import type { ImportProblem, Limits, NewBoard, ViewOptions } from '../domain/board.ts';
import { BoardError } from '../domain/errors.ts';
import { checkSchedule, type Schedule } from '../domain/schedule.ts';
import type { BoardStore, HeldChannel, PagesSnapshot, PlayerPatch } from '../store/board-store.ts';
import { StoreUnavailableError } from '../store/errors.ts';
import type { IdempotentOutcome, IdempotentRequest } from '../store/idempotency.ts';

/** Rows an import applies per durable commit (a few tens of milliseconds of work each). */
export const IMPORT_BATCH = 10_000;

export interface BoardServiceDeps {
  store: BoardStore;
  /** Whether this origin's publishes go through (the publisher's health). */
  publishing: Pick<Broadcaster, 'publishHealth'>;
  limits: Limits;
  now: () => Date;
  /** A board's schedule was set or removed (the season scheduler reads them again). */
  onScheduleChange?: (() => void) | undefined;
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
 * The boards as an application: every read and every change, through the store (embedded or
 * Redis), which makes each change durable and announces it to its publisher. Knows nothing of
 * HTTP; the routes call it, and so can a test or a script. Domain refusals (`BoardError`) pass
 * through unchanged.
 */
export class BoardService {
  constructor(private readonly deps: BoardServiceDeps) {}

  private get store(): BoardStore {
    return this.deps.store;
  }

  /** Throws `StoreUnavailableError` while the store takes no reads or writes. */
  assertAvailable(): void {
    const health = this.store.health();
    if (health.ok) return;
    const code = this.store.kind === 'embedded' ? 'storage_failed' : 'store_unavailable';
    throw new StoreUnavailableError(health.reason, { code });
  }

  /** Whether the store comes back by itself after an outage (Redis), or needs a restart. */
  recoversByItself(): boolean {
    return this.store.kind === 'redis';
  }

  /**
   * Whether the origin should take traffic: its store takes writes, and every board's last
   * publish went through (the broadcaster retries a failed one every second, so this recovers by
   * itself once the proxy answers again).
   */
  readiness(): Readiness {
    const health = this.store.health();
    const store = { ok: health.ok };
    const { failingBoards, failingSince } = this.deps.publishing.publishHealth();
    const since = failingSince === undefined ? undefined : new Date(failingSince).toISOString();
    const publish = {
      ok: failingBoards === 0,
      failingBoards,
      ...(since === undefined ? {} : { failingSince: since }),
    };
    const problems = [
      ...(health.ok ? [] : [health.reason]),
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

  listBoards(): Promise<BoardSummary[]> {
    return this.store.listBoards();
  }

  /** The board in rank order, whole or a window of it. */
  viewBoard(boardId: string, options: ViewOptions = {}): Promise<BoardView> {
    return this.store.boardView(boardId, options);
  }

  /** The whole board in rank order, and when it was taken: what an export writes. */
  async exportBoard(boardId: string): Promise<BoardExport> {
    const exportedAt = this.deps.now().toISOString();
    return { exportedAt, board: await this.viewBoard(boardId) };
  }

  viewPlayer(boardId: string, playerId: string): Promise<RankedPlayer> {
    return this.store.playerView(boardId, playerId);
  }

  /** Throws unless the board exists. */
  requireBoard(boardId: string): Promise<void> {
    return this.store.requireBoard(boardId);
  }

  /** Throws unless the player is on the board; cheaper than viewing it (no ranking). */
  requirePlayer(boardId: string, playerId: string): Promise<void> {
    return this.store.requirePlayer(boardId, playerId);
  }

  /**
   * A new stream on the board's window: the board and every page of the window, as they are now.
   * A reconnecting client (`Last-Event-ID`) gets the same: its last id says which version it
   * reached on one channel, not that it saw that version on every channel, and a window is small.
   * Undefined when the board is gone.
   */
  async streamStart(boardId: string, window: StreamWindow): Promise<StreamStart | undefined> {
    const around =
      window.around === undefined ? undefined : await this.store.positionOf(boardId, window.around);
    const pages = streamPages(window, around);
    const snapshot = await this.store.streamSnapshot(boardId, pages);
    if (snapshot === undefined) return undefined;
    return { boardId, pages, channels: snapshot.held, events: eventsOf(boardId, pages, snapshot) };
  }

  /**
   * What a held stream missed, from the last id the proxy saw on each channel (`lastIds`): the
   * pages whose channel moved on since; everything when the board's own channel did (a reload
   * may have been missed). Undefined when the board is gone.
   */
  async streamRecovery(
    boardId: string,
    pages: number[],
    lastIds: ReadonlyMap<string, number>,
  ): Promise<StreamStart | undefined> {
    const snapshot = await this.store.streamSnapshot(boardId, pages);
    if (snapshot === undefined) return undefined;
    const held = new Map(snapshot.held.map((c) => [c.channel, c.prevId]));
    const behind = (channel: string) => lastIds.get(channel) !== held.get(channel);
    const all = behind(boardChannel(boardId));
    const events = eventsOf(boardId, pages, snapshot, (channel) => all || behind(channel));
    return { boardId, pages, channels: snapshot.held, events };
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
  ): Promise<{ result: ImportResult } | { problems: ImportProblem[] }> {
    this.assertAvailable();
    const problems = await this.store.checkImport(boardId, rows, skipExisting);
    if (problems.length > 0) return { problems };
    let added = 0;
    let skipped = 0;
    for (let start = 0; start < rows.length; start += IMPORT_BATCH) {
      const batch = rows.slice(start, start + IMPORT_BATCH);
      const done = await this.store.importPlayers(boardId, batch, skipExisting);
      added += done.added;
      skipped += done.skipped;
    }
    const view = await this.store.boardView(boardId, { limit: 0 });
    return {
      result: { added, skipped, version: view.version, playerCount: view.playerCount },
    };
  }

  /** Players whose names start with `prefix`, any case, with their ranks. */
  searchPlayers(boardId: string, prefix: string, limit: number): Promise<RankedPlayer[]> {
    return this.store.searchPlayers(boardId, prefix, limit);
  }

  async createBoard(input: NewBoard): Promise<BoardView> {
    this.assertAvailable();
    if (input.schedule !== undefined) assertSchedule(input.schedule);
    const board = await this.store.createBoard(input, this.deps.now());
    if (input.schedule !== undefined) this.deps.onScheduleChange?.();
    return board;
  }

  /**
   * Sets the board's reset schedule, or removes it (null); answers the top of the board. A board
   * without one starts a season now. Refuses a schedule `checkSchedule` refuses (`invalid_schedule`).
   */
  async setSchedule(boardId: string, schedule: Schedule | null): Promise<BoardView> {
    this.assertAvailable();
    if (schedule !== null) assertSchedule(schedule);
    await this.store.setSchedule(boardId, schedule ?? undefined, this.deps.now());
    this.deps.onScheduleChange?.();
    return this.store.boardView(boardId, { limit: DEFAULT_LIMIT });
  }

  /** The season under way (on a board with a schedule) and the past ones, newest first. */
  seasons(boardId: string): Promise<SeasonList> {
    return this.store.seasons(boardId);
  }

  /** A window of a past season's final standings, ranked as the board ranked them. */
  seasonView(
    boardId: string,
    number: number,
    window: { from: number; limit: number },
  ): Promise<SeasonView> {
    return this.store.seasonView(boardId, number, window);
  }

  async deleteBoard(boardId: string): Promise<void> {
    this.assertAvailable();
    return this.store.deleteBoard(boardId);
  }

  /** Empties every score on the board; answers the top of the board as the reset left it. */
  async resetBoard(boardId: string): Promise<BoardView> {
    this.assertAvailable();
    return this.store.resetBoard(boardId, DEFAULT_LIMIT);
  }

  async addPlayer(boardId: string, name: string): Promise<RankedPlayer> {
    this.assertAvailable();
    return this.store.addPlayer(boardId, name);
  }

  async updatePlayer(boardId: string, playerId: string, patch: PlayerPatch): Promise<RankedPlayer> {
    this.assertAvailable();
    return this.store.updatePlayer(boardId, playerId, patch);
  }

  async removePlayer(boardId: string, playerId: string): Promise<void> {
    this.assertAvailable();
    return this.store.removePlayer(boardId, playerId);
  }

  /**
   * Runs one write as an idempotent request: a retry answers what the first did and changes
   * nothing (see store/idempotency.ts).
   */
  idempotent<T>(request: IdempotentRequest, run: () => Promise<T>): Promise<IdempotentOutcome<T>> {
    return this.store.idempotent(request, run);
  }

  /** As `idempotent`, for writes of many steps: the answer is kept once the write is done. */
  idempotentAfter<T>(
    request: IdempotentRequest,
    run: () => Promise<T>,
  ): Promise<IdempotentOutcome<T>> {
    return this.store.idempotentAfter(request, run);
  }

  /** A score batch, applied whole with the board's operator or refused whole (`EntriesRefused`). */
  async submitScores(boardId: string, entries: readonly ScoreEntry[]): Promise<ScoreBatchResult> {
    this.assertAvailable();
    return this.store.submitScores(boardId, entries);
  }

  async addScore(boardId: string, playerId: string, amount: number): Promise<RankedPlayer> {
    this.assertAvailable();
    return this.store.addScore(boardId, playerId, amount);
  }

  /** The whole database as a backup document. */
  async backup(): Promise<Backup> {
    return backupOf(await this.store.dump(), this.deps.now());
  }

  /**
   * Replaces the whole database with a backup, durably, and resolves with the boards as they now
   * are. Refused (`BoardError`) before anything changes when the backup breaks a board rule or a
   * limit. Viewers of every restored board reload; viewers of a board the backup does not have
   * learn that it was deleted.
   */
  async restore(backup: Backup): Promise<BoardList> {
    this.assertAvailable();
    const { db } = restoredDatabase(await this.store.versions(), backup, this.deps.limits);
    await this.store.restore(db);
    return { boards: await this.store.listBoards() };
  }
}

/** Refuses a schedule that cannot run: an unknown time zone, a weekday on a daily one… */
function assertSchedule(schedule: Schedule): void {
  const problem = checkSchedule(schedule);
  if (problem !== undefined) throw new BoardError('invalid_schedule', `schedule.${problem}`);
}

/** The events that bring a stream up to date on these channels (all of them by default). */
function eventsOf(
  boardId: string,
  pages: readonly number[],
  snapshot: PagesSnapshot,
  send: (channel: string) => boolean = () => true,
): BoardEvent[] {
  const events: BoardEvent[] = [];
  if (send(boardChannel(boardId))) events.push({ type: 'board', board: snapshot.meta });
  for (const page of pages) {
    if (!send(pageChannel(boardId, page))) continue;
    const players = snapshot.pages.get(page) ?? [];
    events.push({ type: 'page', version: snapshot.meta.version, page, players });
  }
  return events;
}
