/**
 * Why the board rules refuse something, in the domain's own words. The HTTP layer maps each kind
 * to a status and a wire code in one place (`http/errors.ts`).
 */
export type BoardErrorKind =
  | 'board_not_found'
  | 'player_not_found'
  | 'name_taken'
  | 'limit_reached'
  | 'score_out_of_range'
  | 'id_exhausted'
  | 'invalid_backup'
  | 'operator_mismatch'
  | 'invalid_entries'
  | 'idempotency_key_reused'
  | 'season_not_found'
  | 'invalid_schedule';

/** A change or read the board rules refuse. Thrown before anything has changed. */
export class BoardError extends Error {
  override name = 'BoardError';

  constructor(
    readonly kind: BoardErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const boardNotFound = () => new BoardError('board_not_found', 'board not found');
export const playerNotFound = () => new BoardError('player_not_found', 'player not found');

/** A score-add (`+1`) on a board whose scores do not simply add up. */
export const operatorMismatch = (operator: string) =>
  new BoardError(
    'operator_mismatch',
    `this board's operator is "${operator}", not "incr": a score-add (+1) only adds; submit scores with POST /boards/<id>/scores/`,
  );

/** A score batch refused whole: each refused entry by its index, with what is wrong. */
export class EntriesRefused extends BoardError {
  override name = 'EntriesRefused';

  constructor(readonly entries: ReadonlyArray<{ index: number; message: string }>) {
    super(
      'invalid_entries',
      `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'} refused; nothing was changed`,
    );
  }
}

/** An `Idempotency-Key` sent again with another request (method, path or body). */
export const idempotencyKeyReused = () =>
  new BoardError(
    'idempotency_key_reused',
    'this Idempotency-Key was used for another request (method, path or body) in the last 24 hours; use a new key for a new request',
  );
