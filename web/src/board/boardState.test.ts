import { describe, expect, it } from 'vitest';
import type { BoardView, PlayerState, RankedPlayer } from '../../../contract/board.ts';
import type { BoardEvent, BoardMeta } from '../../../contract/events.ts';
import { rankPlayers } from '../../../contract/ranking.ts';
import { PAGE_SIZE } from '../../../contract/windows.ts';
import {
  applyEvent,
  applyWindow,
  type BoardState,
  boardOf,
  heldPlayer,
  loading,
  pageOfRanks,
  playerCountOf,
  positionOf,
  retainRows,
  rowsAround,
  rowsIn,
  topRows,
} from './boardState.ts';

/** `count` players p0, p1... scoring count, count - 1...: p<i> sits at position i. */
function ranking(count: number, scoreOf = (i: number) => count - i): RankedPlayer[] {
  return rankPlayers(
    Array.from(
      { length: count },
      (_, i): PlayerState => ({ id: `p${i}`, name: `P${i}`, score: scoreOf(i), scoredAt: 0 }),
    ),
    'desc',
  );
}

function meta(version: number, playerCount: number, name = 'Demo'): BoardMeta {
  return { id: 'demo', name, order: 'desc', operator: 'incr', version, playerCount };
}

const boardEvent = (version: number, playerCount: number): BoardEvent => ({
  type: 'board',
  board: meta(version, playerCount),
});

/** The page event of `players` (a whole ranking) at `version`. */
function page(version: number, number: number, players: readonly RankedPlayer[]): BoardEvent {
  const start = number * PAGE_SIZE;
  return { type: 'page', version, page: number, players: players.slice(start, start + PAGE_SIZE) };
}

function view(version: number, players: readonly RankedPlayer[], offset: number, limit: number) {
  return {
    ...meta(version, players.length),
    offset,
    players: players.slice(offset, offset + limit),
  } satisfies BoardView;
}

function apply(state: BoardState, ...events: BoardEvent[]): BoardState {
  return events.reduce((s, event) => applyEvent(s, event).state, state);
}

const ids = (players: readonly RankedPlayer[]) => players.map((p) => p.id);

/** Every player id shown by the state, in position order, with repeats if any. */
function shown(state: BoardState): string[] {
  return [...state.rows.entries()]
    .sort(([a], [b]) => a - b)
    .flatMap(([, held]) => (held.player === undefined ? [] : [held.player.id]));
}

const fifty = ranking(50);
const start = apply(loading, boardEvent(3, 50), page(3, 0, fifty), page(3, 1, fifty));

describe('applyEvent', () => {
  it('takes the board’s meta, then its pages by position', () => {
    const meta3 = applyEvent(loading, boardEvent(3, 50));
    expect(meta3.outcome).toBe('applied');
    expect(boardOf(meta3.state)).toEqual(meta(3, 50));
    expect(topRows(start, 100)).toEqual(fifty);
    expect(pageOfRanks(start, 1)).toEqual(fifty.slice(25));
    expect(start.rows.get(30)).toEqual({ player: fifty[30], version: 3 });
  });

  it('holds pages heard before the meta, and shows them once it comes', () => {
    const early = apply(loading, page(3, 0, fifty));
    expect(early.phase).toBe('loading');
    expect(topRows(early, 10)).toEqual(fifty.slice(0, 10));
    expect(playerCountOf(early)).toBe(25);
    const ready = apply(early, boardEvent(3, 50));
    expect(ready.phase).toBe('ready');
    expect(topRows(ready, 25)).toEqual(fifty.slice(0, 25));
  });

  it('ignores a duplicate page and an older one, keeping the same state', () => {
    const newer = ranking(50, (i) => i);
    const state = apply(start, page(5, 0, newer));
    for (const version of [5, 4]) {
      const applied = applyEvent(state, page(version, 0, fifty));
      expect(applied.outcome).toBe('ignored');
      expect(applied.state).toBe(state);
    }
    expect(ids(topRows(state, 3))).toEqual(['p49', 'p48', 'p47']);
  });

  it('applies pages that arrive out of order by version, position by position', () => {
    // Version 4 moves p30 to the top; version 5 then moves p31 there. The top page of version 5
    // arrives first, the other page of version 4 last.
    const v4 = ranking(50, (i) => (i === 30 ? 100 : 50 - i));
    const v5 = ranking(50, (i) => (i === 30 ? 100 : i === 31 ? 200 : 50 - i));
    const state = apply(start, page(5, 0, v5), page(5, 1, v5), page(4, 0, v4), page(4, 1, v4));
    expect(shown(state)).toEqual(ids(v5));
    expect(topRows(state, 2).map((p) => [p.id, p.rank])).toEqual([
      ['p31', 1],
      ['p30', 2],
    ]);
  });

  it('shows a player once when it moved between pages published at different versions', () => {
    // At version 4, p30 climbs from page 1 to the top. Page 0 of version 4 comes, page 1 is still
    // the one of version 3, which has p30 too: it is shown where version 4 put it.
    const v4 = ranking(50, (i) => (i === 30 ? 100 : 50 - i));
    const half = apply(start, page(4, 0, v4));
    expect(shown(half).filter((id) => id === 'p30')).toHaveLength(1);
    expect(positionOf(half, 'p30')).toBe(0);
    expect(half.rows.get(30)).toEqual({ player: undefined, version: 3 });
    // p24, pushed from page 0 to page 1, is not held until page 1 of version 4 comes.
    expect(positionOf(half, 'p24')).toBeUndefined();
    const whole = apply(half, page(4, 1, v4));
    expect(shown(whole)).toEqual(ids(v4));
  });

  it('keeps the newer position when the older page is the one that arrives last', () => {
    // At version 4 p0 falls from page 0 to page 1. Page 1 comes first, then a late page 0 of
    // version 3 that still has p0 at the top.
    const v4 = ranking(50, (i) => (i === 0 ? 0 : 50 - i));
    const state = apply(loading, boardEvent(4, 50), page(4, 1, v4), page(3, 0, fifty));
    expect(shown(state).filter((id) => id === 'p0')).toHaveLength(1);
    expect(positionOf(state, 'p0')).toBe(49);
    expect(state.rows.get(0)).toEqual({ player: undefined, version: 3 });
    expect(shown(apply(state, page(4, 0, v4)))).toEqual(ids(v4));
  });

  it('does not let an older page fill a position emptied by a newer one', () => {
    const v4 = ranking(50, (i) => (i === 30 ? 100 : 50 - i));
    const v5 = ranking(50, (i) => (i === 30 ? 100 : i === 31 ? 200 : 50 - i));
    // Page 1 of version 5 empties position 31's old player... and a late page 1 of version 4 may
    // not bring back what version 5 replaced.
    const state = apply(start, page(5, 1, v5), page(4, 1, v4));
    expect(rowsIn(state, 25, 25)).toEqual(v5.slice(25, 50));
  });

  it('empties the positions past a short page: the board shrank', () => {
    const forty = ranking(40);
    const state = apply(start, page(6, 1, forty));
    expect(rowsIn(state, 25, 100)).toEqual(forty.slice(25));
    expect(state.rows.get(45)).toEqual({ player: undefined, version: 6 });
    // The meta still says 50 until its own event comes; the rows already end at 40.
    expect(topRows(state, 100)).toHaveLength(40);
    const told = apply(state, boardEvent(6, 40));
    expect(playerCountOf(told)).toBe(40);
    expect(topRows(told, 100)).toEqual([...fifty.slice(0, 25), ...forty.slice(25)]);
  });

  it('empties a page past the end (no players), and what follows it', () => {
    const twenty = ranking(20);
    const state = apply(start, page(7, 1, twenty), page(7, 0, twenty));
    expect(topRows(state, 100)).toEqual(twenty);
    expect(shown(state)).toEqual(ids(twenty));
  });

  it('ends the rows where a newer meta says the board ends, but keeps newer rows', () => {
    // Page 1 at version 8 still has 50 players; a meta of version 7 saying 30 came late.
    const grown = ranking(50, (i) => 100 - i);
    const state = apply(start, page(8, 1, grown), boardEvent(7, 30));
    expect(playerCountOf(state)).toBe(30);
    expect(state.rows.get(40)?.version).toBe(8);
    expect(state.rows.get(10)?.player).toEqual(fifty[10]);
    const smaller = apply(start, boardEvent(4, 30));
    expect(smaller.rows.get(40)).toEqual({ player: undefined, version: 4 });
    expect(topRows(smaller, 100)).toEqual(fifty.slice(0, 30));
  });

  it('renames the board from its meta and ignores the same meta twice', () => {
    const renamed = applyEvent(start, { type: 'board', board: meta(4, 50, 'Renamed') });
    expect(boardOf(renamed.state)?.name).toBe('Renamed');
    expect(renamed.state.rows).toBe(start.rows);
    expect(applyEvent(renamed.state, { type: 'board', board: meta(4, 50, 'Renamed') })).toEqual({
      outcome: 'ignored',
      state: renamed.state,
    });
  });

  it('starts over from a stream meta older than the held one: the server went back', () => {
    const state = applyEvent(start, boardEvent(2, 10));
    expect(state.outcome).toBe('applied');
    expect(boardOf(state.state)).toEqual(meta(2, 10));
    expect(state.state.rows.size).toBe(0);
    const ten = ranking(10, (i) => 100 + i);
    expect(topRows(apply(state.state, page(2, 0, ten)), 100)).toEqual(ten);
  });

  it('asks for a reload, leaving the state alone', () => {
    const applied = applyEvent(start, { type: 'reload', version: 9, reason: 'reset', spreadMs: 0 });
    expect(applied).toEqual({ outcome: 'reload', state: start });
  });

  it('ends the board on deleted, keeping what it showed, and ignores anything after', () => {
    const applied = applyEvent(start, { type: 'deleted', version: 4 });
    expect(applied.outcome).toBe('applied');
    expect(applied.state).toMatchObject({ phase: 'deleted', board: meta(3, 50) });
    expect(topRows(applied.state, 100)).toEqual(fifty);
    for (const event of [
      page(
        5,
        0,
        ranking(50, (i) => i),
      ),
      boardEvent(5, 1),
      { type: 'reload', version: 5, reason: 'reset', spreadMs: 0 } as const,
    ]) {
      expect(applyEvent(applied.state, event)).toEqual({
        outcome: 'ignored',
        state: applied.state,
      });
    }
    expect(applyEvent(loading, { type: 'deleted', version: 1 }).state).toEqual({
      phase: 'deleted',
      board: undefined,
      rows: loading.rows,
    });
  });

  it('does not change the state it was given', () => {
    const before = JSON.stringify([...start.rows]);
    apply(
      start,
      page(
        9,
        0,
        ranking(50, (i) => i),
      ),
      page(9, 1, ranking(3)),
      boardEvent(1, 0),
    );
    expect(JSON.stringify([...start.rows])).toBe(before);
  });
});

describe('applyWindow', () => {
  it('takes a fetched window at its offset, with its meta', () => {
    const thousand = ranking(1000);
    const applied = applyWindow(loading, view(12, thousand, 480, 25));
    expect(applied.outcome).toBe('applied');
    expect(boardOf(applied.state)).toEqual(meta(12, 1000));
    expect(rowsIn(applied.state, 480, 25)).toEqual(thousand.slice(480, 505));
    expect(topRows(applied.state, 100)).toEqual([]);
  });

  it('keeps rows and meta newer than a window that travelled while the stream moved on', () => {
    const v9 = ranking(50, (i) => i);
    const state = apply(start, boardEvent(9, 50), page(9, 0, v9));
    const applied = applyWindow(
      state,
      view(
        8,
        ranking(50, (i) => 2 * i),
        0,
        100,
      ),
    );
    // Page 0 is of version 9; page 1 was of version 3, so the window's version 8 is newer there.
    expect(boardOf(applied.state)?.version).toBe(9);
    expect(rowsIn(applied.state, 0, 25)).toEqual(v9.slice(0, 25));
    expect(rowsIn(applied.state, 25, 25)).toEqual(ranking(50, (i) => 2 * i).slice(25));
    expect(shown(applied.state)).toEqual(ids(v9));
  });

  it('ignores a window that brings nothing newer', () => {
    expect(applyWindow(start, view(3, fifty, 0, 100))).toEqual({
      outcome: 'ignored',
      state: start,
    });
  });

  it('reloads a reset board: the window replaces every older row and empties past its end', () => {
    const reset = ranking(30, () => 0);
    const applied = applyWindow(start, { ...view(10, reset, 0, 100), playerCount: 30 });
    expect(topRows(applied.state, 100)).toEqual(reset);
    expect(applied.state.rows.get(40)).toEqual({ player: undefined, version: 10 });
  });
});

describe('selectors', () => {
  const thousand = ranking(1000);
  const state = [0, 1, 2, 3, 19, 20, 39].reduce(
    (s, n) => applyEvent(s, page(1, n, thousand)).state,
    applyEvent(loading, boardEvent(1, 1000)).state,
  );

  it('finds a held player and the window around it, centred', () => {
    expect(positionOf(state, 'p500')).toBe(500);
    expect(heldPlayer(state, 'p500')).toEqual(thousand[500]);
    expect(rowsAround(state, 'p500', 5)).toEqual({
      position: 500,
      from: 495,
      count: 11,
      players: thousand.slice(495, 506),
    });
    expect(positionOf(state, 'p600')).toBeUndefined();
    expect(rowsAround(state, 'p600', 5)).toBeUndefined();
  });

  it('clamps the window around a player to the board’s ends, keeping it full', () => {
    expect(rowsAround(state, 'p2', 5)).toMatchObject({ from: 0, count: 11 });
    expect(rowsAround(state, 'p999', 5)).toMatchObject({
      from: 989,
      count: 11,
      players: thousand.slice(989),
    });
  });

  it('skips positions it does not hold', () => {
    expect(rowsIn(state, 90, 20)).toEqual(thousand.slice(90, 100));
    expect(pageOfRanks(state, 4)).toEqual([]);
  });

  it('keeps only the positions a narrower window still follows', () => {
    const kept = retainRows(state, (position) => position < 25);
    expect(kept.rows.size).toBe(25);
    expect(retainRows(kept, () => true)).toBe(kept);
  });
});

describe('a stream of pages published at different versions', () => {
  // A seeded generator, so a failure can be replayed.
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
  }

  /** Delivers some of the events in flight, in any order, checking no player is shown twice. */
  function deliverSome(state: BoardState, inFlight: BoardEvent[], next: () => number) {
    let delivered = state;
    while (inFlight.length > 0 && next() < 0.7) {
      const [event] = inFlight.splice(Math.floor(next() * inFlight.length), 1);
      if (event !== undefined) delivered = applyEvent(delivered, event).state;
      const seen = shown(delivered);
      expect(new Set(seen).size).toBe(seen.length);
    }
    return delivered;
  }

  it('never shows a player twice, and ends where the server ends', () => {
    const next = random(11);
    let scores = Array.from({ length: 120 }, (_, i) => 120 - i);
    let state = applyEvent(loading, boardEvent(1, 120)).state;
    const inFlight: BoardEvent[] = [];
    const board = () => ranking(scores.length, (i) => scores[i] ?? 0);
    for (let version = 2; version < 400; version++) {
      const mover = Math.floor(next() * scores.length);
      scores = scores.map((s, i) => (i === mover ? Math.floor(next() * 200) : s));
      const now = board();
      // Some pages are published now, the rest later; deliveries overtake each other.
      for (let n = 0; n < 5; n++) if (next() < 0.5) inFlight.push(page(version, n, now));
      state = deliverSome(state, inFlight, next);
    }
    for (const event of inFlight) state = applyEvent(state, event).state;
    for (let n = 0; n < 5; n++) state = applyEvent(state, page(1000, n, board())).state;
    expect(topRows(state, 200)).toEqual(board());
  });
});
