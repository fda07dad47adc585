import type { PlayerState } from '../../contract/board.ts';
import { type BoardRecord, type Database, dropSeasons } from '../domain/board.ts';
import type { SeasonRecord } from '../domain/seasons.ts';
import { DataFileError } from './json-file.ts';
import { type JournalBoard, journalEntry } from './schema.ts';

/** A board the journal changed: the players it started from and what the entries did to them. */
interface Redone {
  /** The board's fields as the latest entry wrote them. */
  fields: Omit<BoardRecord, 'players'>;
  base: PlayerState[];
  /** The latest state of every player an entry wrote, or null for one an entry removed. */
  changes: Map<string, PlayerState | null>;
}

/**
 * Redoes journal entries on a database, oldest first. Entries carry absolute states, so redoing
 * one that the data file already holds changes nothing: a crash after a fold wrote the data file
 * but before it removed the journal it folded is harmless.
 *
 * A board's players are rebuilt once, in `finish`, from what every entry did to them: redoing a
 * journal costs O(entries + players), not a pass over the board per entry.
 */
export class Replay {
  private readonly redone = new Map<string, Redone>();

  constructor(private readonly db: Database) {}

  /** Redoes one parsed line; `where` names it (file and line) when it has the wrong shape. */
  apply(value: unknown, where: string): void {
    const parsed = journalEntry.safeParse(value);
    if (!parsed.success) {
      throw new DataFileError(
        `journal ${where} is an entry of the wrong shape; nothing was changed.`,
      );
    }
    for (const change of parsed.data.boards) this.applyBoard(change);
    for (const answer of parsed.data.idempotency ?? []) {
      this.db.idempotency = { ...this.db.idempotency, [answer.key]: answer };
    }
  }

  /** Gives every board the journal changed its players. Call once, after the last entry. */
  finish(): void {
    for (const [id, { fields, base, changes }] of this.redone) {
      this.db.boards[id] = { ...fields, players: merge(base, changes) };
    }
    this.redone.clear();
  }

  private applyBoard(change: JournalBoard): void {
    if ('deleted' in change) {
      delete this.db.boards[change.id];
      dropSeasons(this.db, change.id);
      this.redone.delete(change.id);
      return;
    }
    if (change.seasons !== undefined) {
      keepSeasons(this.db, change.id, change.seasons, change.replaceSeasons === true);
    }
    let redone = this.redone.get(change.id);
    if (redone === undefined || change.replace) {
      const base = change.replace ? undefined : boardOf(this.db, change.id)?.players;
      redone = { fields: change.board, base: base ?? [], changes: new Map() };
      this.redone.set(change.id, redone);
    }
    redone.fields = change.board;
    for (const player of change.players) redone.changes.set(player.id, player);
    for (const id of change.remove ?? []) redone.changes.set(id, null);
  }
}

/** The players of `base` with `changes` made, each in its place; players new to it at the end. */
function merge(base: PlayerState[], changes: Map<string, PlayerState | null>): PlayerState[] {
  const players: PlayerState[] = [];
  const placed = new Set<string>();
  for (const player of base) {
    const change = changes.get(player.id);
    if (change === undefined) {
      players.push(player);
      continue;
    }
    placed.add(player.id);
    if (change !== null) players.push(change);
  }
  for (const [id, player] of changes) if (player !== null && !placed.has(id)) players.push(player);
  return players;
}

/**
 * Adds past seasons to those the board kept, in number order; a season it already holds (an entry
 * the data file had folded in already) is replaced by the same one, so redoing is harmless. With
 * `replace` (a restore), they are the board's past seasons, in place of those it kept.
 */
function keepSeasons(
  db: Database,
  id: string,
  added: readonly SeasonRecord[],
  replace: boolean,
): void {
  const seasons = db.seasons ?? {};
  const numbers = new Set(added.map((season) => season.number));
  const kept = replace ? [] : (seasons[id] ?? []).filter((season) => !numbers.has(season.number));
  const all = [...kept, ...added].sort((a, b) => a.number - b.number);
  if (all.length > 0) seasons[id] = all;
  else delete seasons[id];
  // No map rather than an empty one, as the domain keeps it (`deleteBoard`).
  if (Object.keys(seasons).length > 0) db.seasons = seasons;
  else delete db.seasons;
}

function boardOf(db: Database, id: string): BoardRecord | undefined {
  return Object.hasOwn(db.boards, id) ? db.boards[id] : undefined;
}
