import type { RankedPlayer } from '../../../contract/board.ts';
import { type BoardState, playerCountOf, rowsAround, rowsIn } from './boardState.ts';

/** Where a gap sits: before the first row shown, between two runs of rows, or after the last. */
export type GapKey = 'gap-start' | 'gap-above' | 'gap-end';

/** One line of the rendered board: a player, or a marker for players left out. */
export type Row =
  | { kind: 'player'; player: RankedPlayer }
  | { kind: 'gap'; key: GapKey; hidden: number };

export interface RowOptions {
  /** The first position of the main run of rows (0: the top). */
  from: number;
  /** How many positions the main run shows. */
  count: number;
  /** A player to keep in view wherever it ranks (this browser's pick, or one it looked for). */
  focusId?: string | undefined;
  /** How many rows to show on either side of the focused player. */
  radius: number;
}

interface Run {
  from: number;
  to: number;
}

/**
 * The rows to render for a board of any size, from the windows the browser holds: the main run
 * (the top, or a page of ranks), and a run around the focused player when it ranks outside it, with
 * gaps saying how many players are left out before, between and after.
 */
export function visibleRows(state: BoardState, options: RowOptions): Row[] {
  const total = playerCountOf(state);
  const runs: Run[] = [];
  const mainTo = Math.min(options.from + options.count, total);
  if (mainTo > options.from) runs.push({ from: options.from, to: mainTo });
  const around =
    options.focusId === undefined ? undefined : rowsAround(state, options.focusId, options.radius);
  // A focused player the main run shows needs no run of its own.
  if (around !== undefined && (around.position < options.from || around.position >= mainTo)) {
    runs.push({ from: around.from, to: around.from + around.count });
  }

  const rows: Row[] = [];
  let shownTo = 0;
  for (const run of merge(runs)) {
    if (run.from > shownTo) {
      rows.push({
        kind: 'gap',
        key: shownTo === 0 ? 'gap-start' : 'gap-above',
        hidden: run.from - shownTo,
      });
    }
    for (const player of rowsIn(state, run.from, run.to - run.from))
      rows.push({ kind: 'player', player });
    shownTo = run.to;
  }
  if (total > shownTo) rows.push({ kind: 'gap', key: 'gap-end', hidden: total - shownTo });
  return rows;
}

/** Runs in order, those that overlap or touch made one. */
function merge(runs: Run[]): Run[] {
  const merged: Run[] = [];
  for (const run of [...runs].sort((a, b) => a.from - b.from)) {
    const last = merged.at(-1);
    if (last !== undefined && run.from <= last.to) last.to = Math.max(last.to, run.to);
    else merged.push({ ...run });
  }
  return merged;
}
