import { BACKUP_FORMAT, BACKUP_VERSION, type Backup } from '../../contract/backup.ts';
import {
  type BoardChange,
  type BoardRecord,
  type Database,
  deletedChange,
  emptyDatabase,
  type Limits,
} from './board.ts';
import { BoardError } from './errors.ts';

/** The whole database as a backup document, taken at `now`. */
export function backupOf(db: Database, now: Date): Backup {
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    createdAt: now.toISOString(),
    boards: Object.values(db.boards).map((board) => ({
      id: board.id,
      name: board.name,
      order: board.order,
      operator: board.operator ?? 'incr',
      version: board.version,
      createdAt: board.createdAt,
      players: board.players.map(({ id, name, score, scoredAt }) => ({
        id,
        name,
        score,
        scoredAt,
      })),
    })),
  };
}

/**
 * The database a backup restores, and the boards it deletes (those of `current` it does not
 * have; `current` holds each existing board's version). Refuses (`invalid_backup`, `limit_reached`) what the board rules would never have made:
 * ids or names twice on a board, a score reached after the board's version, more boards or players
 * than the limits allow. Nothing is changed here: `current` is only read.
 *
 * A board that exists now keeps a version above any it had (one more than now, or the backup's if
 * higher): a board's version is its stream's event id, and ids must keep growing for viewers and
 * for the proxy, or a viewer could take the restored board for one it has already seen. Scores,
 * names, order and ranking are the backup's, exactly.
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
    const record: BoardRecord = {
      ...board,
      version,
      players: board.players.map((p) => ({ ...p })),
    };
    db.boards[board.id] = record;
  }
  const deleted = [...current]
    .filter(([id]) => !Object.hasOwn(db.boards, id))
    .map(([id, version]) => deletedChange({ id, version }));
  return { db, deleted };
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
    checkPlayers(board, `boards.${i}`);
  });
}

function checkPlayers(board: Backup['boards'][number], at: string): void {
  const ids = new Set<string>();
  const names = new Set<string>();
  board.players.forEach((player, j) => {
    const where = `${at}.players.${j}`;
    if (ids.has(player.id)) throw invalid(`${where}.id: player ${player.id} is on the board twice`);
    ids.add(player.id);
    // Names are unique per board ignoring case, as the board rules compare them.
    const folded = player.name.toLocaleLowerCase('en-US');
    if (names.has(folded))
      throw invalid(`${where}.name: another player on the board has this name`);
    names.add(folded);
    if (player.scoredAt > board.version) {
      throw invalid(
        `${where}.scoredAt: ${player.scoredAt} is after the board's version ${board.version}`,
      );
    }
  });
}
