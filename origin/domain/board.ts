import {
  type BoardSummary,
  type BoardView,
  MAX_SCORE,
  type Order,
  type PlayerState,
  type RankedPlayer,
  type SeasonInfo,
} from '../../contract/board.ts';
import type { BoardMeta, ReloadReason } from '../../contract/events.ts';
import { PAGE_SIZE } from '../../contract/windows.ts';
import { BoardIndex, foldName } from './board-index.ts';
import { BoardError, boardNotFound, operatorMismatch, playerNotFound } from './errors.ts';
import type { IdempotencyRecord } from './idempotency.ts';
import type { Operator } from './operators.ts';
import { nextBoundary, type Schedule } from './schedule.ts';
import type { SeasonRecord } from './seasons.ts';

/**
 * A board as stored. Players are a plain array (in no particular order) so the data file stays
 * simple; every lookup goes through the board's index (`indexOf`), built from the array when first
 * needed and kept up to date by the changes below, so a change costs O(log n) at any size.
 */
export interface BoardRecord {
  id: string;
  name: string;
  order: Order;
  /** How submitted scores combine with a player's; absent in older files: `incr`. */
  operator?: Operator | undefined;
  /** When the board resets on its own; absent: never. */
  schedule?: Schedule | undefined;
  /** The season under way, on a board with a schedule. */
  season?: { number: number; startedAt: string } | undefined;
  /** Grows by one with every change to the board; the SSE event id. */
  version: number;
  createdAt: string;
  players: PlayerState[];
}

export interface Database {
  boards: Record<string, BoardRecord>;
  /** Each board's past seasons, oldest first (domain/seasons.ts); absent in older files. */
  seasons?: Record<string, SeasonRecord[]> | undefined;
  /**
   * Answers kept for idempotent retries (domain/idempotency.ts), by `idempotencyId` of the
   * caller's scope and key; absent in older files. Expired ones are dropped at start.
   */
  idempotency?: Record<string, IdempotencyRecord> | undefined;
}

/** What one mutation did to one board: the store journals it and the broadcaster publishes it. */
export interface BoardChange {
  boardId: string;
  version: number;
  /** Players whose state changed (the store writes these). */
  changed: string[];
  /** Players no longer on the board. */
  removed: string[];
  deleted: boolean;
  /**
   * Display positions whose player or rank changed, as inclusive [first, last] ranges: a player
   * moving from position 40 to 3 shifts everyone in between, so 3..40 changed.
   */
  moved: Array<[number, number]>;
  /** The board's name, order or player count changed. */
  meta: boolean;
  /** So much changed at once that viewers load their window again instead (a reset, a restore). */
  bulk?: ReloadReason;
}

export interface Limits {
  maxBoards: number;
  maxPlayersPerBoard: number;
}

export type NewId = () => string;

export function emptyDatabase(): Database {
  return { boards: {} };
}

/** The board a fresh install starts with, like the original demo: one board, five players. */
export function seedDatabase(newId: NewId, now: Date): Database {
  const db = emptyDatabase();
  const board = createBoard(
    db,
    { name: 'Demo board', order: 'desc' },
    unlimited,
    () => 'demo',
    now,
  );
  for (const name of ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken']) {
    addPlayer(db, board.id, name, unlimited, newId);
  }
  return db;
}

const unlimited: Limits = {
  maxBoards: Number.MAX_SAFE_INTEGER,
  maxPlayersPerBoard: Number.MAX_SAFE_INTEGER,
};

export function getBoard(db: Database, boardId: string): BoardRecord {
  const board = Object.hasOwn(db.boards, boardId) ? db.boards[boardId] : undefined;
  if (board === undefined) throw boardNotFound();
  return board;
}

function findPlayer(board: BoardRecord, playerId: string): PlayerState {
  const player = indexOf(board).byId.get(playerId);
  if (player === undefined) throw playerNotFound();
  return player;
}

const indexes = new WeakMap<BoardRecord, BoardIndex>();

/**
 * The board's index, built on first use and again whenever `board.players` is replaced by another
 * array (a reset, a restore). Changes inside the array must go through this module, or the index
 * no longer matches the board.
 */
export function indexOf(board: BoardRecord): BoardIndex {
  let index = indexes.get(board);
  if (index === undefined || index.players !== board.players || index.order !== board.order) {
    index = new BoardIndex(board.players, board.order);
    indexes.set(board, index);
  }
  return index;
}

/** Refuses unless the player is on the board, without ranking it. */
export function assertPlayer(db: Database, boardId: string, playerId: string): void {
  findPlayer(getBoard(db, boardId), playerId);
}

/** Every board's id and version. */
export function boardVersions(db: Database): Map<string, number> {
  return new Map(Object.values(db.boards).map((board) => [board.id, board.version]));
}

export function listBoards(db: Database): BoardSummary[] {
  return Object.values(db.boards).map((b) => ({
    id: b.id,
    name: b.name,
    order: b.order,
    operator: b.operator ?? 'incr',
    playerCount: b.players.length,
    ...seasonOf(b),
  }));
}

/** The board's season as clients see it (with its next reset), when it has a schedule. */
export function seasonOf(board: BoardRecord): { season?: SeasonInfo } {
  if (board.schedule === undefined || board.season === undefined) return {};
  const endsAt = nextBoundary(board.schedule, new Date(board.season.startedAt)).toISOString();
  return { season: { ...board.season, endsAt, schedule: board.schedule } };
}

/** What a new board is made from. */
export interface NewBoard {
  name: string;
  order: Order;
  /** Default `incr`. */
  operator?: Operator | undefined;
  /** A reset schedule: the board starts season 1 at its creation. */
  schedule?: Schedule | undefined;
}

export function createBoard(
  db: Database,
  input: NewBoard,
  limits: Limits,
  newId: NewId,
  now: Date,
): BoardRecord {
  if (Object.keys(db.boards).length >= limits.maxBoards) {
    throw new BoardError('limit_reached', `at most ${limits.maxBoards} boards; delete one first`);
  }
  const id = freshId(newId, (candidate) => Object.hasOwn(db.boards, candidate));
  const board: BoardRecord = {
    id,
    name: input.name,
    order: input.order,
    operator: input.operator ?? 'incr',
    version: 0,
    createdAt: now.toISOString(),
    players: [],
  };
  if (input.schedule !== undefined) {
    board.schedule = input.schedule;
    board.season = { number: 1, startedAt: board.createdAt };
  }
  db.boards[id] = board;
  return board;
}

export function deleteBoard(db: Database, boardId: string): BoardChange {
  const board = getBoard(db, boardId);
  delete db.boards[boardId];
  dropSeasons(db, boardId);
  return deletedChange(board);
}

/** Forgets the board's past seasons; no seasons map is left empty (a fresh start has none). */
export function dropSeasons(db: Database, boardId: string): void {
  if (db.seasons === undefined) return;
  delete db.seasons[boardId];
  if (Object.keys(db.seasons).length === 0) delete db.seasons;
}

/** What deleting a board is, as a change: the version after its last, nothing else. */
export function deletedChange(board: { id: string; version: number }): BoardChange {
  return {
    boardId: board.id,
    version: board.version + 1,
    changed: [],
    removed: [],
    deleted: true,
    moved: [],
    meta: true,
  };
}

export function addPlayer(
  db: Database,
  boardId: string,
  name: string,
  limits: Limits,
  newId: NewId,
): { player: RankedPlayer; change: BoardChange } {
  const board = getBoard(db, boardId);
  const index = indexOf(board);
  if (index.size >= limits.maxPlayersPerBoard) {
    throw new BoardError('limit_reached', `at most ${limits.maxPlayersPerBoard} players per board`);
  }
  assertNameFree(board, name, undefined);
  const version = board.version + 1;
  const id = freshId(newId, (candidate) => index.byId.has(candidate));
  const player: PlayerState = { id, name, score: 0, scoredAt: version };
  index.add(player);
  board.version = version;
  // Everyone from the newcomer's place down moves one position.
  const moved: [number, number] = [index.positionOf(player), index.size - 1];
  return {
    player: ranked(board, player),
    change: { ...changeOf(board, [id], []), moved: [moved], meta: true },
  };
}

/** A row refused by an import, by its place in the input (0-based). */
export interface ImportProblem {
  row: number;
  message: string;
}

/**
 * What an import of `rows` would refuse, without changing anything: a name twice in the rows, a
 * name already on the board (unless `skipExisting`), more players than the board may hold.
 * Returns the first `max` problems; none means `importPlayers` will take every row.
 */
export function checkImport(
  db: Database,
  boardId: string,
  rows: readonly { name: string }[],
  limits: Limits,
  skipExisting: boolean,
  max = 100,
): ImportProblem[] {
  const index = indexOf(getBoard(db, boardId));
  const problems: ImportProblem[] = [];
  const seen = new Map<string, number>();
  let adding = 0;
  rows.forEach((row, i) => {
    if (problems.length >= max) return;
    const folded = foldName(row.name);
    const earlier = seen.get(folded);
    if (earlier !== undefined) {
      problems.push({ row: i, message: `name: "${row.name}" is also in row ${earlier + 1}` });
      return;
    }
    seen.set(folded, i);
    if (index.names.has(folded)) {
      if (!skipExisting) {
        problems.push({
          row: i,
          message: `name: a player named "${row.name}" is already on this board`,
        });
      }
      return;
    }
    adding++;
  });
  if (problems.length === 0 && index.size + adding > limits.maxPlayersPerBoard) {
    problems.push({
      row: rows.length - 1,
      message: `the board would hold ${index.size + adding} players; at most ${limits.maxPlayersPerBoard}`,
    });
  }
  return problems;
}

/**
 * Adds the rows' players (with their scores, all reached at this version) in one change: the
 * board moves one version and viewers reload their windows. Names already on the board are
 * skipped. Call `checkImport` first: a name twice in the rows or a full board throws.
 */
export function importPlayers(
  db: Database,
  boardId: string,
  rows: readonly { name: string; score?: number | undefined }[],
  limits: Limits,
  newId: NewId,
): { added: number; skipped: number; change: BoardChange } {
  const board = getBoard(db, boardId);
  const index = indexOf(board);
  const version = board.version + 1;
  const changed: string[] = [];
  let skipped = 0;
  for (const row of rows) {
    if (index.names.has(foldName(row.name))) {
      skipped++;
      continue;
    }
    if (index.size >= limits.maxPlayersPerBoard) {
      throw new BoardError(
        'limit_reached',
        `at most ${limits.maxPlayersPerBoard} players per board`,
      );
    }
    const id = freshId(newId, (candidate) => index.byId.has(candidate));
    index.add({ id, name: row.name, score: row.score ?? 0, scoredAt: version });
    changed.push(id);
  }
  if (changed.length > 0) board.version = version;
  const change: BoardChange = {
    ...changeOf(board, changed, []),
    meta: true,
    ...(changed.length > 0 ? { bulk: 'import' as const } : {}),
  };
  return { added: changed.length, skipped, change };
}

export function updatePlayer(
  db: Database,
  boardId: string,
  playerId: string,
  patch: { name?: string | undefined; score?: number | undefined },
): { player: RankedPlayer; change: BoardChange } {
  const board = getBoard(db, boardId);
  const player = findPlayer(board, playerId);
  if (patch.name !== undefined && patch.name !== player.name) {
    assertNameFree(board, patch.name, playerId);
  }
  const from = indexOf(board).positionOf(player);
  const version = board.version + 1;
  const next: PlayerState = { ...player, name: patch.name ?? player.name };
  if (patch.score !== undefined && patch.score !== player.score) {
    next.score = patch.score;
    next.scoredAt = version;
  }
  indexOf(board).replace(next);
  board.version = version;
  const change = changeOf(board, [playerId], [], [span(from, indexOf(board).positionOf(next))]);
  return { player: ranked(board, next), change };
}

export function removePlayer(db: Database, boardId: string, playerId: string): BoardChange {
  const board = getBoard(db, boardId);
  const index = indexOf(board);
  const player = findPlayer(board, playerId);
  // Everyone below the player moves up one; the last position empties.
  const moved: [number, number] = [index.positionOf(player), index.size - 1];
  index.remove(player.id);
  board.version += 1;
  return { ...changeOf(board, [], [playerId], [moved]), meta: true };
}

export function addScore(
  db: Database,
  boardId: string,
  playerId: string,
  amount: number,
): { player: RankedPlayer; change: BoardChange } {
  const board = getBoard(db, boardId);
  if ((board.operator ?? 'incr') !== 'incr') throw operatorMismatch(board.operator ?? 'incr');
  const player = findPlayer(board, playerId);
  const score = player.score + amount;
  if (Math.abs(score) > MAX_SCORE) {
    throw new BoardError('score_out_of_range', `a score must stay within ±${MAX_SCORE}`);
  }
  const index = indexOf(board);
  const from = index.positionOf(player);
  board.version += 1;
  const next: PlayerState = { ...player, score, scoredAt: board.version };
  index.replace(next);
  const change = changeOf(board, [playerId], [], [span(from, index.positionOf(next))]);
  return { player: ranked(board, next), change };
}

export function resetBoard(db: Database, boardId: string): BoardChange {
  const board = getBoard(db, boardId);
  board.version += 1;
  const changed: string[] = [];
  board.players = board.players.map((player) => {
    if (player.score === 0) return player;
    changed.push(player.id);
    return { ...player, score: 0, scoredAt: board.version };
  });
  return { ...changeOf(board, changed, []), bulk: 'reset' };
}

export interface ViewOptions {
  limit?: number | undefined;
  /** The 0-based position the window starts at (ignored with `around`). */
  from?: number | undefined;
  around?: string | undefined;
}

/** The board in rank order, whole or as a window (`limit` from the top, or `around` a player). */
export function boardView(board: BoardRecord, options: ViewOptions = {}): BoardView {
  const index = indexOf(board);
  let start = options.from ?? 0;
  let end = start + (options.limit ?? index.size);
  if (options.around !== undefined) {
    const player = index.byId.get(options.around);
    if (player === undefined) throw playerNotFound();
    const limit = options.limit ?? 10;
    const position = index.positionOf(player);
    // Centred on the player, clamped to the board's ends so the window stays full where it can.
    start = Math.max(0, Math.min(position - Math.floor((limit - 1) / 2), index.size - limit));
    end = start + limit;
  }
  return {
    id: board.id,
    name: board.name,
    order: board.order,
    operator: board.operator ?? 'incr',
    ...seasonOf(board),
    version: board.version,
    playerCount: index.size,
    offset: start,
    players: index.ranked(start, end),
  };
}

export function playerView(board: BoardRecord, playerId: string): RankedPlayer {
  return ranked(board, findPlayer(board, playerId));
}

/** The board without its players: what a stream hears first and whenever it changes. */
export function boardMeta(board: BoardRecord): BoardMeta {
  return {
    id: board.id,
    name: board.name,
    order: board.order,
    operator: board.operator ?? 'incr',
    ...seasonOf(board),
    version: board.version,
    playerCount: board.players.length,
  };
}

/** One page of the ranking: the players at positions [page * PAGE_SIZE, ...) with their ranks. */
export function pageRows(board: BoardRecord, page: number): RankedPlayer[] {
  return indexOf(board).ranked(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
}

/** The board's meta and the rows of these pages, as the board is now. */
export function pagesOf(
  board: BoardRecord,
  pages: readonly number[],
): { meta: BoardMeta; pages: Map<number, RankedPlayer[]> } {
  return {
    meta: boardMeta(board),
    pages: new Map(pages.map((page) => [page, pageRows(board, page)])),
  };
}

/** The 0-based display position of a player, or undefined when it is not on the board. */
export function positionOf(board: BoardRecord, playerId: string): number | undefined {
  const index = indexOf(board);
  const player = index.byId.get(playerId);
  return player === undefined ? undefined : index.positionOf(player);
}

/** Players whose names start with `prefix` (any case), by name, ranked. */
export function searchPlayers(board: BoardRecord, prefix: string, limit: number): RankedPlayer[] {
  const index = indexOf(board);
  return index
    .withNamePrefix(prefix, limit)
    .map((player) => ({ ...player, rank: index.rankOf(player) }));
}

/** The current state of the players with these ids that are still on the board. */
export function playersById(board: BoardRecord, ids: Iterable<string>): PlayerState[] {
  const { byId } = indexOf(board);
  const out: PlayerState[] = [];
  for (const id of ids) {
    const player = byId.get(id);
    if (player !== undefined) out.push(player);
  }
  return out;
}

function ranked(board: BoardRecord, player: PlayerState): RankedPlayer {
  return { ...player, rank: indexOf(board).rankOf(player) };
}

function changeOf(
  board: BoardRecord,
  changed: string[],
  removed: string[],
  moved: Array<[number, number]> = [],
): BoardChange {
  return {
    boardId: board.id,
    version: board.version,
    changed,
    removed,
    deleted: false,
    moved,
    meta: false,
  };
}

function span(a: number, b: number): [number, number] {
  return a <= b ? [a, b] : [b, a];
}

function assertNameFree(board: BoardRecord, name: string, self: string | undefined): void {
  const holder = indexOf(board).names.get(foldName(name));
  if (holder !== undefined && holder !== self) {
    throw new BoardError('name_taken', `a player named "${name}" is already on this board`);
  }
}

function freshId(newId: NewId, taken: (id: string) => boolean): string {
  for (let attempt = 0; attempt < 8; attempt++) {
    const id = newId();
    if (!taken(id)) return id;
  }
  throw new BoardError('id_exhausted', 'could not find a free id; try again');
}
