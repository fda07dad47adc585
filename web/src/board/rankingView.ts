import type { RankedPlayer } from '../../../contract/board.ts';
import { MAX_WINDOW_ROWS, PAGE_SIZE, pageOf } from '../../../contract/windows.ts';
import type { FollowWindow } from './follow.ts';

/** Rows the board page shows from the top. */
export const TOP_ROWS = MAX_WINDOW_ROWS;

/**
 * What the board page shows: the top (and around this browser's pick), a page of ranks the
 * viewer jumped to (and around the pick), or the top and around a player the viewer looked for.
 */
export type RankingView =
  | { kind: 'top' }
  | { kind: 'rank'; page: number }
  | { kind: 'player'; player: RankedPlayer };

export const topView: RankingView = { kind: 'top' };

/** The main run of rows a view shows: `count` positions from `from`. */
export function mainRun(view: RankingView): { from: number; count: number } {
  return view.kind === 'rank'
    ? { from: view.page * PAGE_SIZE, count: PAGE_SIZE }
    : { from: 0, count: TOP_ROWS };
}

/** The player a view keeps in sight wherever it ranks. */
export function focusOf(view: RankingView, pickId: string | undefined): string | undefined {
  return view.kind === 'player' ? view.player.id : pickId;
}

/** The rows a view follows live. */
export function windowOf(view: RankingView, pickId: string | undefined): FollowWindow {
  const { from, count } = mainRun(view);
  return { from, limit: count, around: focusOf(view, pickId) };
}

/** The page of ranks holding rank `rank` (1-based) on a board of `playerCount`, kept on the board. */
export function pageOfRank(rank: number, playerCount: number): number {
  const position = Math.max(0, Math.min(Math.floor(rank) - 1, playerCount - 1));
  return pageOf(position);
}

/** The last page of ranks of a board of `playerCount`. */
export function lastPage(playerCount: number): number {
  return pageOf(Math.max(0, playerCount - 1));
}

/** The view kept on the board: a page of ranks past a board that shrank becomes its last page. */
export function clampView(view: RankingView, playerCount: number | undefined): RankingView {
  if (view.kind !== 'rank' || playerCount === undefined) return view;
  const last = lastPage(playerCount);
  return view.page <= last ? view : { kind: 'rank', page: last };
}

/**
 * The rows to show on the big screen or in an embed: the stream follows whole pages, enough for
 * the `fits` rows the screen has room for.
 */
export function fittedWindow(fits: number): FollowWindow {
  const pages = Math.max(1, Math.ceil(fits / PAGE_SIZE));
  return { from: 0, limit: Math.min(MAX_WINDOW_ROWS, pages * PAGE_SIZE) };
}
