import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  type Backup,
  type BackupBoard,
  type BackupSeason,
} from '../../contract/backup.ts';
import type { PlayerState } from '../../contract/board.ts';
import { rankPlayers } from '../../contract/ranking.ts';
import {
  type BoardChange,
  type BoardRecord,
  type Database,
  deletedChange,
  emptyDatabase,
  type Limits,
} from './board.ts';
import { BoardError } from './errors.ts';
import { checkSchedule, type Schedule } from './schedule.ts';
import type { SeasonRecord } from './seasons.ts';

/** The whole database as a backup document, taken at `now`. */
export function backupOf(db: Database, now: Date): Backup {
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    createdAt: now.toISOString(),
    boards: Object.values(db.boards).map((board) => boardOf(board, pastSeasons(db, board.id))),
  };
}

/** The board's past seasons (an own property only: a board may be called `constructor`). */
function pastSeasons(db: Database, boardId: string): SeasonRecord[] {
  const { seasons } = db;
  return seasons !== undefined && Object.hasOwn(seasons, boardId) ? (seasons[boardId] ?? []) : [];
}

function boardOf(board: BoardRecord, seasons: readonly SeasonRecord[]): BackupBoard {
  const { schedule, season } = board;
  return {
    id: board.id,
    name: board.name,
    order: board.order,
    operator: board.operator ?? 'incr',
    ...(schedule === undefined ? {} : { schedule: scheduleOf(schedule) }),
    ...(season === undefined
      ? {}
      : { season: { number: season.number, startedAt: season.startedAt } }),
    version: board.version,
    createdAt: board.createdAt,
    players: board.players.map(playerOf),
    seasons: seasons.map(({ number, startedAt, endedAt, players }) => ({
      number,
      startedAt,
      endedAt,
      players: players.map((player) => ({ ...playerOf(player), rank: player.rank })),
    })),
  };
}

function playerOf({ id, name, score, scoredAt, externalKey }: PlayerState) {
  return { id, name, score, scoredAt, ...(externalKey === undefined ? {} : { externalKey }) };
}

/** A schedule with only the fields it has (weekday and day are for some periods only). */
function scheduleOf({
  every,
  at,
  timeZone,
  weekday,
  day,
}: Schedule): NonNullable<BackupBoard['schedule']> {
  return {
    every,
    at,
    timeZone,
    ...(weekday === undefined ? {} : { weekday }),
    ...(day === undefined ? {} : { day }),
  };
}

/**
 * The database a backup restores, and the boards it deletes (those of `current` it does not
 * have; `current` holds each existing board's version). Refuses (`invalid_backup`, `limit_reached`) what the board rules would never have made:
 * ids, names or external keys twice on a board, a score reached after the board's version, a
 * schedule that cannot run, past seasons out of order, more boards or players than the limits
 * allow. Nothing is changed here: `current` is only read.
 *
 * A board that exists now keeps a version above any it had (one more than now, or the backup's if
 * higher): a board's version is its stream's event id, and ids must keep growing for viewers and
 * for the proxy, or a viewer could take the restored board for one it has already seen. Scores,
 * names, external keys, order, schedule, season and ranking are the backup's, exactly.
 *
 * `db.seasons` has an entry (empty or not) for every board whose backup lists its past seasons:
 * the store replaces that board's past seasons with it. A board without one (a backup of an
 * earlier version) keeps the past seasons it has, as restores always did.
 */
export function restoredDatabase(
  current: ReadonlyMap<string, number>,
  backup: Backup,
  limits: Limits,
): { db: Database; deleted: BoardChange[] } {
  checkBackup(backup, limits);
  const db = emptyDatabase();
  for (const board of backup.boards) {
    const existing = current.get(board.id);
    const version = existing === undefined ? board.version : Math.max(board.version, existing + 1);
    const { seasons, schedule, season, ...fields } = board;
    const record: BoardRecord = {
      ...fields,
      ...(schedule === undefined ? {} : { schedule: { ...schedule } }),
      ...(season === undefined ? {} : { season: { ...season } }),
      version,
      players: board.players.map((p) => ({ ...p })),
    };
    db.boards[board.id] = record;
    if (seasons !== undefined) {
      db.seasons = { ...db.seasons, [board.id]: seasons.map((s) => seasonOf(s, board.order)) };
    }
  }
  const deleted = [...current]
    .filter(([id]) => !Object.hasOwn(db.boards, id))
    .map(([id, version]) => deletedChange({ id, version }));
  return { db, deleted };
}

/** A past season as kept: its standings ranked as the board ranks (checked by `checkSeasons`). */
function seasonOf(season: BackupSeason, order: BackupBoard['order']): SeasonRecord {
  const { number, startedAt, endedAt } = season;
  const players = rankPlayers(
    season.players.map(({ rank: _, ...player }) => player),
    order,
  );
  return { number, startedAt, endedAt, players };
}

const invalid = (message: string) => new BoardError('invalid_backup', message);

function checkBackup(backup: Backup, limits: Limits): void {
  if (backup.boards.length > limits.maxBoards) {
    throw new BoardError(
      'limit_reached',
      `the backup has ${backup.boards.length} boards; at most ${limits.maxBoards} are allowed (MAX_BOARDS)`,
    );
  }
  const ids = new Set<string>();
  backup.boards.forEach((board, i) => {
    // An own property of that name would become the boards object's prototype.
    if (board.id === '__proto__') throw invalid(`boards.${i}.id: __proto__ cannot be a board id`);
    if (ids.has(board.id))
      throw invalid(`boards.${i}.id: board ${board.id} is in the backup twice`);
    ids.add(board.id);
    if (board.players.length > limits.maxPlayersPerBoard) {
      throw new BoardError(
        'limit_reached',
        `boards.${i}: board ${board.id} has ${board.players.length} players; at most ` +
          `${limits.maxPlayersPerBoard} are allowed (MAX_PLAYERS_PER_BOARD)`,
      );
    }
    checkPlayers(board.players, board.version, `boards.${i}`, true);
    checkSeason(board, `boards.${i}`);
    checkSeasons(board, `boards.${i}`);
  });
}

/**
 * Ids, external keys and (on the board itself, `names`) names once each; no score reached after
 * the board's version.
 */
function checkPlayers(
  players: readonly BackupBoard['players'][number][],
  version: number,
  at: string,
  names: boolean,
): void {
  const ids = new Set<string>();
  const folded = new Set<string>();
  const keys = new Set<string>();
  players.forEach((player, j) => {
    const where = `${at}.players.${j}`;
    if (ids.has(player.id)) throw invalid(`${where}.id: player ${player.id} is on the board twice`);
    ids.add(player.id);
    // Names are unique per board ignoring case, as the board rules compare them.
    const name = player.name.toLocaleLowerCase('en-US');
    if (names && folded.has(name))
      throw invalid(`${where}.name: another player on the board has this name`);
    folded.add(name);
    if (player.externalKey !== undefined) {
      if (keys.has(player.externalKey))
        throw invalid(`${where}.externalKey: another player on the board has this external key`);
      keys.add(player.externalKey);
    }
    if (player.scoredAt > version) {
      throw invalid(
        `${where}.scoredAt: ${player.scoredAt} is after the board's version ${version}`,
      );
    }
  });
}

/** A schedule that can run, with the season under way it needs. */
function checkSeason(board: BackupBoard, at: string): void {
  if (board.schedule === undefined) return;
  const problem = checkSchedule(board.schedule);
  if (problem !== undefined) throw invalid(`${at}.schedule.${problem}`);
  if (board.season === undefined)
    throw invalid(`${at}.season: a board with a schedule has a season under way`);
}

/**
 * Past seasons oldest first, each number once and before the season under way, each ended after
 * it began, its standings with each player once and every given rank the one the board's order
 * gives.
 */
function checkSeasons(board: BackupBoard, at: string): void {
  let last = 0;
  (board.seasons ?? []).forEach((season, k) => {
    const where = `${at}.seasons.${k}`;
    if (season.number <= last) {
      throw invalid(`${where}.number: past seasons are listed oldest first, each number once`);
    }
    last = season.number;
    if (season.endedAt <= season.startedAt)
      throw invalid(`${where}.endedAt: a season ends after it began`);
    checkPlayers(season.players, board.version, where, false);
    checkRanks(season, board.order, where);
  });
  if (board.season !== undefined && board.season.number <= last) {
    throw invalid(`${at}.season.number: the season under way comes after the past seasons`);
  }
}

function checkRanks(season: BackupSeason, order: BackupBoard['order'], at: string): void {
  const given = new Map(season.players.map((player, j) => [player.id, { j, rank: player.rank }]));
  for (const { id, rank } of seasonOf(season, order).players) {
    const player = given.get(id);
    if (player?.rank !== undefined && player.rank !== rank) {
      throw invalid(
        `${at}.players.${player.j}.rank: ${player.rank}, but the standings rank ${id} ${rank}`,
      );
    }
  }
}
