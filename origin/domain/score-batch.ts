import { MAX_SCORE } from '../../contract/board.ts';
import type { EntryProblem, ScoreBatchResult, ScoreEntry } from '../../contract/scores.ts';
import {
  type BoardChange,
  type BoardRecord,
  type Database,
  getBoard,
  indexOf,
  type Limits,
  type NewId,
} from './board.ts';
import { foldName } from './board-index.ts';
import { BoardError, EntriesRefused } from './errors.ts';
import { applyOperator, type Operator } from './operators.ts';

/*
 * Score batches (POST /boards/:id/scores/): many players' scores, by player id or by the game's
 * own key, applied with the board's operator as ONE change. Checked whole first; a batch with any
 * refused entry changes nothing. The Redis store's script (store/redis/scripts.ts) keeps these
 * rules too, with the same messages (`entryMessage`), and a differential test holds them equal.
 */

/** More ranges than this in one change and viewers reload their windows instead (`import`). */
export const MAX_MOVED_RANGES = 200;

/** Why an entry is refused, in a form a Redis script can answer too. */
export type EntryRefusal =
  | { kind: 'unknown_player' }
  | { kind: 'duplicate'; of: number }
  | { kind: 'name_required' }
  | { kind: 'name_taken' }
  | { kind: 'name_repeated'; of: number }
  | { kind: 'out_of_range' }
  | { kind: 'limit'; players: number };

/** What is wrong with an entry, for people. */
export function entryMessage(entry: ScoreEntry, refusal: EntryRefusal, limits: Limits): string {
  switch (refusal.kind) {
    case 'unknown_player':
      return `playerId: no player "${entry.playerId}" on this board`;
    case 'duplicate':
      return `${entry.playerId === undefined ? 'externalKey' : 'playerId'}: the same player as entries[${refusal.of}]; send one entry per player`;
    case 'name_required':
      return `name: externalKey "${entry.externalKey}" is new to this board; give the name of the player to create`;
    case 'name_taken':
      return `name: a player named "${entry.name}" is already on this board`;
    case 'name_repeated':
      return `name: "${entry.name}" is also the name in entries[${refusal.of}]`;
    case 'out_of_range':
      return `score: a score must stay within ±${MAX_SCORE}`;
    case 'limit':
      return `the board would hold ${refusal.players} players; at most ${limits.maxPlayersPerBoard}`;
  }
}

/** The score a player created by a batch starts with: the value, subtracted on a `decr` board. */
export function startScore(operator: Operator, value: number): number {
  return operator === 'decr' ? 0 - value : value;
}

/**
 * Adjacent or overlapping inclusive ranges merged, in order: what a batch's log entry says moved.
 */
export function mergeRanges(ranges: ReadonlyArray<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Array<[number, number]> = [];
  for (const [first, last] of sorted) {
    const previous = out[out.length - 1];
    if (previous !== undefined && first <= previous[1] + 1) {
      previous[1] = Math.max(previous[1], last);
    } else {
      out.push([first, last]);
    }
  }
  return out;
}

/** An entry as checked: an existing player's id, or a player to create. */
type Target = { id: string } | { create: { externalKey: string; name: string } };

/** What the entries before this one took: players, new keys and new names, by entry index. */
interface Seen {
  ids: Map<string, number>;
  keys: Map<string, number>;
  names: Map<string, number>;
  creating: number;
}

/**
 * What a batch would refuse, without changing anything (none: `submitScores` takes it), with the
 * player each entry is for.
 */
export function checkScores(
  board: BoardRecord,
  entries: readonly ScoreEntry[],
  limits: Limits,
): { problems: EntryProblem[]; targets: Target[] } {
  const problems: EntryProblem[] = [];
  const targets: Target[] = [];
  const seen: Seen = { ids: new Map(), keys: new Map(), names: new Map(), creating: 0 };
  entries.forEach((entry, i) => {
    const target = checkEntry(board, entry, i, seen, limits);
    if ('kind' in target) problems.push({ index: i, message: entryMessage(entry, target, limits) });
    else targets.push(target);
  });
  return { problems, targets };
}

function checkEntry(
  board: BoardRecord,
  entry: ScoreEntry,
  i: number,
  seen: Seen,
  limits: Limits,
): Target | EntryRefusal {
  const index = indexOf(board);
  const known =
    entry.externalKey === undefined ? undefined : index.externalKeys.get(entry.externalKey);
  const id = entry.playerId ?? known;
  if (id !== undefined) return checkExisting(board, id, entry.score, i, seen);
  const key = entry.externalKey ?? '';
  const earlierKey = seen.keys.get(key);
  if (earlierKey !== undefined) return { kind: 'duplicate', of: earlierKey };
  seen.keys.set(key, i);
  if (entry.name === undefined) return { kind: 'name_required' };
  const folded = foldName(entry.name);
  const earlierName = seen.names.get(folded);
  if (index.names.has(folded)) return { kind: 'name_taken' };
  if (earlierName !== undefined) return { kind: 'name_repeated', of: earlierName };
  seen.names.set(folded, i);
  seen.creating++;
  const players = index.size + seen.creating;
  if (players > limits.maxPlayersPerBoard) return { kind: 'limit', players };
  return { create: { externalKey: key, name: entry.name } };
}

function checkExisting(
  board: BoardRecord,
  id: string,
  score: number,
  i: number,
  seen: Seen,
): Target | EntryRefusal {
  const player = indexOf(board).byId.get(id);
  const earlier = seen.ids.get(id);
  if (player === undefined) return { kind: 'unknown_player' };
  if (earlier !== undefined) return { kind: 'duplicate', of: earlier };
  seen.ids.set(id, i);
  const operator = board.operator ?? 'incr';
  if (!inRange(operator, board.order, player.score, score)) return { kind: 'out_of_range' };
  return { id };
}

function inRange(operator: Operator, order: BoardRecord['order'], current: number, value: number) {
  try {
    applyOperator(operator, order, current, value);
    return true;
  } catch (error) {
    if (error instanceof BoardError) return false;
    throw error;
  }
}

/**
 * Applies a batch as ONE change: every entry's score with the board's operator, players created
 * for new external keys (at the new version, as a change of score is), the board one version on.
 * A player whose score stays the same (a `best` that is not better) keeps its `scoredAt`. The
 * change's `moved` is the union of each step's range; past MAX_MOVED_RANGES ranges, viewers reload
 * (`bulk: 'import'`). Nothing changed: no change. Throws `EntriesRefused` (nothing changed) when
 * any entry is refused.
 */
export function submitScores(
  db: Database,
  boardId: string,
  entries: readonly ScoreEntry[],
  limits: Limits,
  newId: NewId,
): { result: ScoreBatchResult; change?: BoardChange } {
  const board = getBoard(db, boardId);
  const { problems, targets } = checkScores(board, entries, limits);
  if (problems.length > 0) throw new EntriesRefused(problems);
  const index = indexOf(board);
  const operator = board.operator ?? 'incr';
  const version = board.version + 1;
  const ids: string[] = [];
  const changed: string[] = [];
  const ranges: Array<[number, number]> = [];
  const created: boolean[] = [];
  targets.forEach((target, i) => {
    const value = entries[i]?.score ?? 0;
    if ('create' in target) {
      const id = freshId(newId, (candidate) => index.byId.has(candidate));
      const { name, externalKey } = target.create;
      const player = {
        id,
        name,
        score: startScore(operator, value),
        scoredAt: version,
        externalKey,
      };
      index.add(player);
      ranges.push([index.positionOf(player), index.size - 1]);
      ids.push(id);
      created.push(true);
      changed.push(id);
      return;
    }
    const player = index.byId.get(target.id);
    if (player === undefined) throw new Error(`no player ${target.id}`);
    ids.push(player.id);
    created.push(false);
    const { score, changed: moves } = applyOperator(operator, board.order, player.score, value);
    if (!moves) return;
    const from = index.positionOf(player);
    const next = { ...player, score, scoredAt: version };
    index.replace(next);
    const to = index.positionOf(next);
    ranges.push(from <= to ? [from, to] : [to, from]);
    changed.push(player.id);
  });
  if (changed.length > 0) board.version = version;
  const players = ids.map((id, i) => {
    const player = index.byId.get(id);
    if (player === undefined) throw new Error(`no player ${id}`);
    return { ...player, rank: index.rankOf(player), created: created[i] === true };
  });
  const result = { version: board.version, players };
  if (changed.length === 0) return { result };
  const meta = created.includes(true);
  return { result, change: batchChange(board, changed, mergeRanges(ranges), meta) };
}

function batchChange(
  board: BoardRecord,
  changed: string[],
  moved: Array<[number, number]>,
  meta: boolean,
): BoardChange {
  const bulk = moved.length > MAX_MOVED_RANGES;
  return {
    boardId: board.id,
    version: board.version,
    changed,
    removed: [],
    deleted: false,
    moved: bulk ? [] : moved,
    meta,
    ...(bulk ? { bulk: 'import' as const } : {}),
  };
}

function freshId(newId: NewId, taken: (id: string) => boolean): string {
  for (let attempt = 0; attempt < 8; attempt++) {
    const id = newId();
    if (!taken(id)) return id;
  }
  throw new BoardError('id_exhausted', 'could not find a free id; try again');
}
