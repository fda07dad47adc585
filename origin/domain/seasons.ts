import type { RankedPlayer, SeasonInfo } from '../../contract/board.ts';
import type { SeasonList, SeasonSummary, SeasonView } from '../../contract/scores.ts';
import { type BoardChange, type Database, getBoard, indexOf, resetBoard } from './board.ts';
import { BoardError } from './errors.ts';
import { nextBoundary, previousBoundary, type Schedule } from './schedule.ts';

/*
 * Seasons: a board with a schedule resets at each boundary, keeping its final standings as a past
 * season. Pure board logic, as domain/board.ts: the store persists it, the scheduler
 * (origin/seasons.ts) decides when.
 */

/** A past season as kept: its final standings in rank order, each with its rank. */
export interface SeasonRecord {
  number: number;
  startedAt: string;
  endedAt: string;
  players: RankedPlayer[];
}

/** A board the scheduler watches: its schedule and when its season began. */
export interface ScheduledBoard {
  id: string;
  schedule: Schedule;
  season: { number: number; startedAt: string };
}

/** The season under way with its next reset, as clients see it. */
export function seasonInfoOf(
  schedule: Schedule,
  season: { number: number; startedAt: string },
): SeasonInfo {
  const endsAt = nextBoundary(schedule, new Date(season.startedAt)).toISOString();
  return { number: season.number, startedAt: season.startedAt, endsAt, schedule };
}

/**
 * Whether a board whose season began at `startedAt` rolls at `boundary`: the boundary is one of
 * its schedule's and falls after the season began. False for a boundary already rolled (the
 * season then began at it) and for one of a schedule the board no longer has.
 */
export function rollsAt(schedule: Schedule, startedAt: string, boundary: Date): boolean {
  const at = boundary.toISOString();
  if (!(startedAt < at)) return false;
  return previousBoundary(schedule, boundary).getTime() === boundary.getTime();
}

/** The last boundary at or before `now` that the board has not rolled at yet, if any. */
export function dueBoundary(board: ScheduledBoard, now: Date): Date | undefined {
  const last = previousBoundary(board.schedule, now);
  return rollsAt(board.schedule, board.season.startedAt, last) ? last : undefined;
}

/**
 * Ends the season at `boundary`: keeps its final standings as a past season, sets every score to
 * 0 (as `resetBoard`) and starts the next season at the boundary, all in one version; viewers
 * reload once (`bulk: 'season'`). Undefined, changing nothing, when the board does not roll at
 * that boundary (see `rollsAt`): rolling twice is impossible.
 */
export function rollSeason(db: Database, boardId: string, boundary: Date): BoardChange | undefined {
  const board = getBoard(db, boardId);
  const { schedule, season } = board;
  if (schedule === undefined || season === undefined) return undefined;
  if (!rollsAt(schedule, season.startedAt, boundary)) return undefined;
  const endedAt = boundary.toISOString();
  const players = indexOf(board).ranked(0, board.players.length);
  const archive: SeasonRecord = { ...season, endedAt, players };
  const seasons = db.seasons ?? {};
  // A new array: a fold captures the lists as they are (snapshot.ts) and must not see this one.
  seasons[boardId] = [...(seasons[boardId] ?? []), archive];
  db.seasons = seasons;
  const change = resetBoard(db, boardId);
  board.season = { number: season.number + 1, startedAt: endedAt };
  return { ...change, meta: true, bulk: 'season' };
}

/**
 * Sets the board's schedule, or removes it (undefined). A board that had none starts a season
 * now, numbered after the last one it kept; a board that had one keeps its season, which now
 * ends at the new schedule's next boundary. One version; viewers hear the new meta.
 */
export function setSchedule(
  db: Database,
  boardId: string,
  schedule: Schedule | undefined,
  now: Date,
): BoardChange {
  const board = getBoard(db, boardId);
  if (schedule === undefined) {
    delete board.schedule;
  } else {
    if (board.schedule === undefined || board.season === undefined) {
      board.season = { number: nextSeasonNumber(db, boardId), startedAt: now.toISOString() };
    }
    board.schedule = schedule;
  }
  board.version += 1;
  return {
    boardId,
    version: board.version,
    changed: [],
    removed: [],
    deleted: false,
    moved: [],
    meta: true,
  };
}

/** The number a new season of the board takes: the current one's, or one past the last kept. */
export function nextSeasonNumber(db: Database, boardId: string): number {
  const current = getBoard(db, boardId).season;
  if (current !== undefined) return current.number;
  const kept = db.seasons?.[boardId] ?? [];
  return (kept[kept.length - 1]?.number ?? 0) + 1;
}

/** Every board with a schedule, for the scheduler. */
export function scheduledBoards(db: Database): ScheduledBoard[] {
  const out: ScheduledBoard[] = [];
  for (const board of Object.values(db.boards)) {
    if (board.schedule === undefined || board.season === undefined) continue;
    out.push({ id: board.id, schedule: board.schedule, season: { ...board.season } });
  }
  return out;
}

/** The season under way (when the board has a schedule) and the past ones, newest first. */
export function seasonList(db: Database, boardId: string): SeasonList {
  const board = getBoard(db, boardId);
  const seasons = (db.seasons?.[boardId] ?? []).map(summaryOf).reverse();
  if (board.schedule === undefined || board.season === undefined) return { seasons };
  return { current: seasonInfoOf(board.schedule, board.season), seasons };
}

/** A window of a past season's final standings: `limit` rows from position `from`. */
export function seasonView(
  db: Database,
  boardId: string,
  number: number,
  window: { from: number; limit: number },
): SeasonView {
  getBoard(db, boardId);
  const season = db.seasons?.[boardId]?.find((s) => s.number === number);
  if (season === undefined) throw seasonNotFound(number);
  const { from, limit } = window;
  return {
    ...summaryOf(season),
    offset: from,
    players: season.players.slice(from, from + limit),
  };
}

export function summaryOf(season: SeasonRecord): SeasonSummary {
  const { number, startedAt, endedAt } = season;
  return { number, startedAt, endedAt, playerCount: season.players.length };
}

export const seasonNotFound = (number: number) =>
  new BoardError('season_not_found', `this board kept no season ${number}`);
