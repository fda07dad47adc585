import { MAX_SCORE } from '../../../contract/board.ts';
import {
  BoardError,
  boardNotFound,
  operatorMismatch,
  playerNotFound,
} from '../../domain/errors.ts';

import { seasonNotFound } from '../../domain/seasons.ts';
import { StoreUnavailableError } from '../errors.ts';

// Redis cannot take the read or write now: unreachable, still loading, without a master for the
// board's slot, or a write not confirmed by as many replicas as asked. The one store error
// (store/errors.ts); the HTTP layer answers 503 `store_unavailable`.
export { StoreUnavailableError };

/** What a refusal's message needs to say what was refused, as the embedded store says it. */
export interface RefusalContext {
  /** The name a name_taken refusal is about. */
  name?: string | undefined;
  /** Whether a limit_reached refusal is about boards (else players). */
  boards?: boolean | undefined;
  maxBoards?: number | undefined;
  maxPlayersPerBoard?: number | undefined;
}

/** A script refused: the kind, and for id_taken the rows whose ids were in use. */
export interface Refusal {
  kind: string;
  rows: number[];
  /** What follows the kind (the rows, or the board's operator for operator_mismatch). */
  detail?: string | undefined;
}

/** The refusal a script raised ('BOARD <kind> [rows]'), or undefined for any other error. */
export function refusalOf(error: unknown): Refusal | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^BOARD (\w+)(?: ([\w,]+))?/.exec(error.message);
  if (match === null) return undefined;
  const detail = match[2];
  const rows =
    detail === undefined || !/^[\d,]+$/.test(detail) ? [] : detail.split(',').map(Number);
  return { kind: match[1] ?? '', rows, detail };
}

/** The domain's own BoardError for a refusal, with the embedded store's message. */
export function boardErrorOf(refusal: Refusal, context: RefusalContext): Error {
  switch (refusal.kind) {
    case 'board_not_found':
      return boardNotFound();
    case 'player_not_found':
      return playerNotFound();
    case 'name_taken':
      return new BoardError(
        'name_taken',
        `a player named "${context.name ?? ''}" is already on this board`,
      );
    case 'limit_reached':
      return context.boards === true
        ? new BoardError('limit_reached', `at most ${context.maxBoards} boards; delete one first`)
        : new BoardError(
            'limit_reached',
            `at most ${context.maxPlayersPerBoard} players per board`,
          );
    case 'score_out_of_range':
      return new BoardError('score_out_of_range', `a score must stay within ±${MAX_SCORE}`);
    case 'id_taken':
      return new BoardError('id_exhausted', 'could not find a free id; try again');
    case 'season_not_found':
      return seasonNotFound(Number(refusal.detail));
    case 'operator_mismatch':
      return operatorMismatch(refusal.detail ?? '');
    default:
      return new Error(`unexpected refusal from a Redis script: ${refusal.kind}`);
  }
}

/** Error replies that mean Redis cannot serve now rather than that the command was wrong. */
const UNAVAILABLE_REPLIES =
  /^(LOADING|READONLY|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|NOREPLICAS|BUSY|MISCONF)/;

/**
 * What a failed Redis call becomes: the domain's BoardError for a refusal, StoreUnavailableError
 * when Redis could not be reached or cannot serve now, else the error itself (a bug).
 */
export function storeError(error: unknown, context: RefusalContext = {}): unknown {
  const refusal = refusalOf(error);
  if (refusal !== undefined) return boardErrorOf(refusal, context);
  if (error instanceof StoreUnavailableError || !(error instanceof Error)) return error;
  if (error.name === 'ReplyError' && !UNAVAILABLE_REPLIES.test(error.message)) return error;
  return new StoreUnavailableError(`Redis is unavailable: ${error.message}`, { cause: error });
}
