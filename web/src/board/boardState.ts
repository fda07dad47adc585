import type { BoardView, RankedPlayer } from '../../../contract/board.ts';
import type { BoardEvent, BoardMeta, PageEvent } from '../../../contract/events.ts';
import { PAGE_SIZE } from '../../../contract/windows.ts';

/**
 * What one position of the ranking held as of `version`: a player, or nobody (the board ended
 * before it, or the player it held was since seen at another position). Keeping the version of
 * an empty position stops an older message, arriving late, from filling it again.
 */
export interface HeldRow {
  readonly player: RankedPlayer | undefined;
  readonly version: number;
}

/** Rows by 0-based display position. A browser holds only the windows it follows. */
export type HeldRows = ReadonlyMap<number, HeldRow>;

/** What a browser knows of one board: its meta once heard, and the rows of its windows. */
export type BoardState =
  | { phase: 'loading'; rows: HeldRows }
  | { phase: 'ready'; board: BoardMeta; rows: HeldRows }
  | { phase: 'deleted'; board: BoardMeta | undefined; rows: HeldRows };

/**
 * What became of an event: `applied` (the state moved on), `ignored` (a duplicate or a stale
 * event: the state is returned as it was), or `reload` (the board asks its viewers to load their
 * windows again: the caller fetches them and hands them to `applyWindow`).
 */
export interface Applied {
  outcome: 'applied' | 'ignored' | 'reload';
  state: BoardState;
}

/** The initial state, before anything is heard. */
export const loading: BoardState = { phase: 'loading', rows: new Map() };

/** The board's meta, when it is known. */
export function boardOf(state: BoardState): BoardMeta | undefined {
  return state.phase === 'loading' ? undefined : state.board;
}

/**
 * Applies one stream event. Pure: no clock, no I/O, inputs untouched. Each position keeps the
 * newest version it was told, so pages published at different versions, or arriving out of
 * order, never take a position back in time, and a player is held at one position only.
 */
export function applyEvent(state: BoardState, event: BoardEvent): Applied {
  if (state.phase === 'deleted') return { outcome: 'ignored', state };
  switch (event.type) {
    case 'board':
      return applyMeta(state, event.board, 'stream');
    case 'page':
      return applyPage(state, event);
    case 'reload':
      return { outcome: 'reload', state };
    case 'deleted':
      return {
        outcome: 'applied',
        state: { phase: 'deleted', board: boardOf(state), rows: state.rows },
      };
  }
}

/**
 * Applies a window fetched as JSON (`GET /boards/:id/?limit&from` or `?around`): its meta when it
 * is not older than the one held, and its rows wherever they are newer than what is held.
 */
export function applyWindow(state: BoardState, view: BoardView): Applied {
  if (state.phase === 'deleted') return { outcome: 'ignored', state };
  const { players, offset, ...meta } = view;
  const { version, playerCount } = meta;
  const withMeta = applyMeta(state, meta, 'fetch').state;
  const placed = placeRows(withMeta.rows, offset, players.length, players, version);
  const rows = endRows(placed, playerCount, version);
  const next = rows === withMeta.rows ? withMeta : { ...withMeta, rows };
  return { outcome: next === state ? 'ignored' : 'applied', state: next };
}

/** Keeps only the rows at the positions `keep` names: what a narrower window still follows. */
export function retainRows(state: BoardState, keep: (position: number) => boolean): BoardState {
  let rows: Map<number, HeldRow> | undefined;
  for (const position of state.rows.keys()) {
    if (keep(position)) continue;
    rows ??= new Map(state.rows);
    rows.delete(position);
  }
  return rows === undefined ? state : { ...state, rows };
}

// A `board` event on a stream is the board as the server has it now: an older version than the
// held one means the server went back (restarted without a change it had shown), and rows of that
// lost history cannot be trusted. The window's pages follow it on the stream. A fetched meta may
// have been overtaken while it travelled, so an older one is ignored.
function applyMeta(state: BoardState, meta: BoardMeta, origin: 'stream' | 'fetch'): Applied {
  const held = boardOf(state);
  if (held !== undefined && meta.version < held.version) {
    if (origin === 'fetch') return { outcome: 'ignored', state };
    return { outcome: 'applied', state: { phase: 'ready', board: meta, rows: new Map() } };
  }
  if (held !== undefined && sameMeta(held, meta)) return { outcome: 'ignored', state };
  const rows = endRows(state.rows, meta.playerCount, meta.version);
  return { outcome: 'applied', state: { phase: 'ready', board: meta, rows } };
}

function sameMeta(a: BoardMeta, b: BoardMeta): boolean {
  return (
    a.version === b.version &&
    a.name === b.name &&
    a.order === b.order &&
    a.playerCount === b.playerCount
  );
}

function applyPage(state: BoardState, event: PageEvent): Applied {
  const start = event.page * PAGE_SIZE;
  let rows = placeRows(state.rows, start, PAGE_SIZE, event.players, event.version);
  // A short page says where the board ends.
  if (event.players.length < PAGE_SIZE) {
    rows = endRows(rows, start + event.players.length, event.version);
  }
  if (rows === state.rows) return { outcome: 'ignored', state };
  return { outcome: 'applied', state: { ...state, rows } };
}

/**
 * Puts `players` at positions [start, start + span) as of `version`, leaving alone the positions
 * that hold something as new; a position past the players is empty as of `version`. Returns the
 * rows unchanged when nothing was newer.
 */
function placeRows(
  rows: HeldRows,
  start: number,
  span: number,
  players: readonly RankedPlayer[],
  version: number,
): HeldRows {
  let next: Map<number, HeldRow> | undefined;
  for (let i = 0; i < span; i++) {
    const position = start + i;
    const held = rows.get(position);
    if (held !== undefined && held.version >= version) continue;
    next ??= new Map(rows);
    next.set(position, { player: players[i], version });
  }
  return next === undefined ? rows : showOnce(next);
}

/** Empties the positions from `end` on that are older than `version`: the board ends there. */
function endRows(rows: HeldRows, end: number, version: number): HeldRows {
  let next: Map<number, HeldRow> | undefined;
  for (const [position, held] of rows) {
    if (position < end || held.player === undefined || held.version >= version) continue;
    next ??= new Map(rows);
    next.set(position, { player: undefined, version });
  }
  return next ?? rows;
}

// Pages published at different versions may each hold the same player (it moved from one to the
// other in between): it is shown where the newer version put it, and the older position is
// emptied until its page is told again.
function showOnce(rows: Map<number, HeldRow>): Map<number, HeldRow> {
  const seen = new Map<string, number>();
  for (const [position, held] of rows) {
    const id = held.player?.id;
    if (id === undefined) continue;
    const other = seen.get(id);
    const otherRow = other === undefined ? undefined : rows.get(other);
    if (other === undefined || otherRow === undefined) {
      seen.set(id, position);
    } else if (otherRow.version < held.version) {
      rows.set(other, { player: undefined, version: otherRow.version });
      seen.set(id, position);
    } else {
      rows.set(position, { player: undefined, version: held.version });
    }
  }
  return rows;
}

/** How many players the board has: its meta's count, or what the held rows reach before it. */
export function playerCountOf(state: BoardState): number {
  const board = boardOf(state);
  if (board !== undefined) return board.playerCount;
  let end = 0;
  for (const [position, held] of state.rows) {
    if (held.player !== undefined) end = Math.max(end, position + 1);
  }
  return end;
}

/** The held players at positions [from, from + count), in display order. */
export function rowsIn(state: BoardState, from: number, count: number): RankedPlayer[] {
  const players: RankedPlayer[] = [];
  const end = Math.min(from + count, playerCountOf(state));
  for (let position = Math.max(0, from); position < end; position++) {
    const player = state.rows.get(position)?.player;
    if (player !== undefined) players.push(player);
  }
  return players;
}

/** The leaders: the held players at the top `count` positions. */
export function topRows(state: BoardState, count: number): RankedPlayer[] {
  return rowsIn(state, 0, count);
}

/** One page of ranks (`PAGE_SIZE` positions from `page * PAGE_SIZE`), as held. */
export function pageOfRanks(state: BoardState, page: number): RankedPlayer[] {
  return rowsIn(state, page * PAGE_SIZE, PAGE_SIZE);
}

/** Where a player is held, or undefined when it is not in a held window. */
export function positionOf(state: BoardState, playerId: string): number | undefined {
  for (const [position, held] of state.rows) {
    if (held.player?.id === playerId) return position;
  }
  return undefined;
}

/** A held player by id. */
export function heldPlayer(state: BoardState, playerId: string): RankedPlayer | undefined {
  const position = positionOf(state, playerId);
  return position === undefined ? undefined : state.rows.get(position)?.player;
}

/**
 * The positions [from, from + 2 * radius + 1) around a held player, clamped to the board's ends
 * so the window stays full where it can, with the players held there. Undefined when the player
 * is not held.
 */
export function rowsAround(
  state: BoardState,
  playerId: string,
  radius: number,
): { position: number; from: number; count: number; players: RankedPlayer[] } | undefined {
  const position = positionOf(state, playerId);
  if (position === undefined) return undefined;
  const size = 2 * radius + 1;
  const total = Math.max(playerCountOf(state), position + 1);
  const from = Math.max(0, Math.min(position - radius, total - size));
  const count = Math.min(size, total - from);
  return { position, from, count, players: rowsIn(state, from, count) };
}
