import { describe, expect, it } from 'vitest';
import type { BoardView, PlayerState } from '../../../contract/board.ts';
import type { BoardEvent } from '../../../contract/events.ts';
import { rankPlayers } from '../../../contract/ranking.ts';
import { type Applied, applyEvent, type BoardState, loading } from './boardState.ts';

function player(id: string, score: number, scoredAt = 0): PlayerState {
  return { id, name: id.toUpperCase(), score, scoredAt };
}

function board(version: number, players: PlayerState[]): BoardView {
  return {
    id: 'demo',
    name: 'Demo board',
    order: 'desc',
    version,
    playerCount: players.length,
    players: rankPlayers(players, 'desc'),
  };
}

function ready(version: number, players: PlayerState[]): BoardState {
  return { phase: 'ready', board: board(version, players) };
}

function update(since: number, version: number, players: PlayerState[], removed: string[] = []) {
  return { type: 'update', since, version, players, removed } satisfies BoardEvent;
}

function boardOf(applied: Applied): BoardView {
  if (applied.state.phase !== 'ready')
    throw new Error(`expected a ready board, got ${applied.state.phase}`);
  return applied.state.board;
}

const start = ready(5, [player('a', 30, 1), player('b', 20, 2), player('c', 10, 3)]);

describe('applyEvent', () => {
  it('takes a snapshot as the whole board', () => {
    const applied = applyEvent(loading, { type: 'snapshot', board: board(5, [player('a', 1)]) });
    expect(applied.outcome).toBe('applied');
    expect(boardOf(applied).players.map((p) => p.id)).toEqual(['a']);
  });

  it('takes a snapshot from the stream even when its version is lower (the server went back)', () => {
    const applied = applyEvent(start, { type: 'snapshot', board: board(4, []) });
    expect(applied.outcome).toBe('applied');
    expect(applied.state).toEqual({ phase: 'ready', board: board(4, []) });
  });

  it('ignores a fetched snapshot older than what it has', () => {
    const applied = applyEvent(start, { type: 'snapshot', board: board(4, []) }, 'fetch');
    expect(applied).toEqual({ outcome: 'ignored', state: start });
  });

  it('ignores a duplicate update (version <= state version) and keeps the same state', () => {
    for (const version of [4, 5]) {
      const applied = applyEvent(start, update(version - 1, version, [player('c', 99, version)]));
      expect(applied.outcome).toBe('ignored');
      expect(applied.state).toBe(start);
    }
  });

  it('applies the next update in order and re-ranks', () => {
    const applied = applyEvent(start, update(5, 6, [player('c', 31, 6)]));
    expect(applied.outcome).toBe('applied');
    const next = boardOf(applied);
    expect(next.version).toBe(6);
    expect(next.players.map((p) => [p.id, p.score, p.rank])).toEqual([
      ['c', 31, 1],
      ['a', 30, 2],
      ['b', 20, 3],
    ]);
  });

  it('applies a merged update from inside its range (since <= version < update version)', () => {
    const applied = applyEvent(start, update(3, 8, [player('b', 40, 7)]));
    expect(applied.outcome).toBe('applied');
    const next = boardOf(applied);
    expect(next.version).toBe(8);
    expect(next.players.map((p) => p.id)).toEqual(['b', 'a', 'c']);
  });

  it('reports a gap (since > state version) as resync, leaving the state alone', () => {
    const applied = applyEvent(start, update(6, 7, [player('c', 99, 7)]));
    expect(applied.outcome).toBe('resync');
    expect(applied.state).toBe(start);
  });

  it('asks for a resync when an update comes before any snapshot', () => {
    expect(applyEvent(loading, update(0, 1, [])).outcome).toBe('resync');
  });

  it('drops removed players and counts added ones', () => {
    const applied = applyEvent(start, update(5, 6, [player('d', 25, 6)], ['a']));
    const next = boardOf(applied);
    expect(next.players.map((p) => p.id)).toEqual(['d', 'b', 'c']);
    expect(next.playerCount).toBe(3);
    expect(next.players.map((p) => p.rank)).toEqual([1, 2, 3]);
  });

  it('re-ranks ties as competition ranks (1, 2, 2, 4), first to score first', () => {
    const four = ready(1, [
      player('a', 9, 1),
      player('b', 5, 1),
      player('c', 4, 1),
      player('d', 1, 1),
    ]);
    const applied = applyEvent(four, update(1, 3, [player('c', 5, 3)]));
    expect(boardOf(applied).players.map((p) => [p.id, p.rank])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 2],
      ['d', 4],
    ]);
  });

  it('does not change the state it was given', () => {
    const before = JSON.stringify(start);
    applyEvent(start, update(5, 6, [player('c', 100, 6)], ['b']));
    expect(JSON.stringify(start)).toBe(before);
  });

  it('ends the board on deleted, keeping the last board, and ignores anything after', () => {
    const applied = applyEvent(start, { type: 'deleted', version: 6 });
    expect(applied.outcome).toBe('applied');
    expect(applied.state).toEqual({
      phase: 'deleted',
      board: board(5, start.phase === 'ready' ? start.board.players : []),
    });
    const after = applyEvent(applied.state, update(6, 7, [player('a', 1, 7)]));
    expect(after).toEqual({ outcome: 'ignored', state: applied.state });
  });
});

describe('applyEvent on a large board', () => {
  // A seeded generator, so a failure can be replayed.
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
  }

  it('ranks like a full sort after many random updates, adds and removals', () => {
    const next = random(7);
    let players = Array.from({ length: 2000 }, (_, i) =>
      player(`p${i}`, Math.floor(next() * 50), i),
    );
    let state = ready(2000, players);
    for (let version = 2001; version < 2201; version++) {
      const changed = Array.from({ length: 1 + Math.floor(next() * 4) }, () => {
        const id = `p${Math.floor(next() * 2100)}`;
        return player(id, Math.floor(next() * 60) - 5, version);
      });
      const removed = next() < 0.2 ? [`p${Math.floor(next() * 2100)}`] : [];
      state = applyEvent(state, update(version - 1, version, changed, removed)).state;
      const byId = new Map(players.map((p) => [p.id, p]));
      for (const p of changed) byId.set(p.id, p);
      for (const id of removed) byId.delete(id);
      players = [...byId.values()];
    }
    const applied = boardOf({ outcome: 'applied', state });
    expect(applied.players).toEqual(rankPlayers(players, 'desc'));
    expect(applied.playerCount).toBe(players.length);
  });

  it('keeps the objects of players whose rank did not change', () => {
    const players = Array.from({ length: 1000 }, (_, i) => player(`p${i}`, 1000 - i, i));
    const state = ready(1000, players);
    const before = boardOf({ outcome: 'applied', state });
    const after = boardOf(
      applyEvent(state, update(1000, 1001, [player('p500', 1000 - 500, 1001)])),
    );
    expect(after.players[0]).toBe(before.players[0]);
    expect(after.players[999]).toBe(before.players[999]);
    expect(after.players[500]).not.toBe(before.players[500]);
  });
});
